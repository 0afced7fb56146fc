// RUN: compiler-opt %s -p cse | filecheck %s
// RUN: compiler-opt %s -p dce | filecheck %s --check-prefix=DCE
// RUN: compiler-opt %s -p fold-constants,cse | filecheck %s --check-prefix=SPLAT

builtin.module {
  // Equal constants merge (the element type counts), and so do equal ops.
  // CHECK-LABEL: func.func @main
  // CHECK-NEXT:    %[[A:.*]] = graph.constant dense<[1.000000e+00, 2.000000e+00, 3.000000e+00]> : tensor<3xf32>
  // CHECK-NEXT:    %[[C:.*]] = graph.constant dense<1.000000e+00> : tensor<3xf32>
  // CHECK-NEXT:    %[[D:.*]] = graph.constant dense<[1.000000e+00, 2.000000e+00, 4.000000e+00]> : tensor<3xf32>
  // CHECK-NEXT:    %[[H:.*]] = graph.constant dense<[1.000000e+00, 2.000000e+00, 3.000000e+00]> : tensor<3xf16>
  // CHECK-NEXT:    %[[E:.*]] = graph.add %x, %[[A]]
  // CHECK-NEXT:    %[[G1:.*]] = graph.mul %[[E]], %[[C]]
  // CHECK-NEXT:    %[[G3:.*]] = graph.mul %[[E]], %[[D]]
  // CHECK-NEXT:    %[[K:.*]] = graph.cast %[[H]]
  // CHECK-NEXT:    func.return %[[G1]], %[[G1]], %[[G3]], %[[K]]
  // DCE-LABEL: func.func @main
  // DCE-NOT:     graph.relu
  // DCE:         graph.constant dense<[1.000000e+00, 2.000000e+00, 3.000000e+00]> : tensor<3xf32>
  // DCE-NEXT:    graph.constant dense<[1.000000e+00, 2.000000e+00, 3.000000e+00]> : tensor<3xf32>
  // DCE-NOT:     graph.relu
  func.func @main(%x: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<3xf32>) {
    %a = graph.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
    %b = graph.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
    %c = graph.constant dense<1.0> : tensor<3xf32>
    %c1 = graph.constant dense<1.0> : tensor<3xf32>
    %d = graph.constant dense<[1.0, 2.0, 4.0]> : tensor<3xf32>
    %h = graph.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf16>
    %e = graph.add %x, %a : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
    %f = graph.add %x, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
    %dead = graph.relu %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
    %g1 = graph.mul %e, %c : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
    %g2 = graph.mul %f, %c1 : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
    %g3 = graph.mul %f, %d : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
    %k = graph.cast %h : (tensor<3xf16>) -> tensor<3xf32>
    func.return %g1, %g2, %g3, %k : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<3xf32>
  }

  // A graph.fused region is its own scope: the constant inside it is not
  // replaced by the equal one outside (the region reads only its arguments).
  // CHECK-LABEL: func.func @fused
  // CHECK:         graph.fused
  // CHECK-NEXT:    ^{{.*}}(%{{.*}}: tensor<3xf32>):
  // CHECK-NEXT:      %[[IN:.*]] = graph.constant dense<2.000000e+00> : tensor<3xf32>
  // CHECK-NEXT:      graph.mul %{{.*}}, %[[IN]]
  func.func @fused(%x: tensor<3xf32>) -> (tensor<3xf32>, tensor<3xf32>) {
    %two = graph.constant dense<2.0> : tensor<3xf32>
    %y = graph.add %x, %two : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
    %z = graph.fused(%x) {kind = "injective"} : (tensor<3xf32>) -> tensor<3xf32> {
    ^bb0(%arg: tensor<3xf32>):
      %two_in = graph.constant dense<2.0> : tensor<3xf32>
      %m = graph.mul %arg, %two_in : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
      graph.yield %m : tensor<3xf32>
    }
    func.return %y, %z : tensor<3xf32>, tensor<3xf32>
  }

  // fold-constants stores a splat as one element, the parser as every
  // element: they still merge.
  // SPLAT-LABEL: func.func @splat
  // SPLAT-NEXT:    %[[ONES:.*]] = graph.constant dense<1.000000e+00> : tensor<4xf32>
  // SPLAT-NEXT:    %[[A:.*]] = graph.add %x, %[[ONES]]
  // SPLAT-NEXT:    func.return %[[A]], %[[A]]
  func.func @splat(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
    %ones = graph.constant dense<1.0> : tensor<4xf32>
    %one = graph.constant dense<1.0> : tensor<1xf32>
    %bcast = graph.broadcast_to %one : (tensor<1xf32>) -> tensor<4xf32>
    %a = graph.add %x, %ones : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
    %b = graph.add %x, %bcast : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
    func.return %a, %b : tensor<4xf32>, tensor<4xf32>
  }
}

// RUN: compiler-opt %s -p plan-memory,convert-graph-to-loop | filecheck %s
// RUN: compiler-opt %s | compiler-opt | filecheck %s --check-prefix=ROUND
// graph.cumprod shares graph.cumsum's scan kernel: the identity (the first
// step's predecessor, and its term when exclusive) is 1 and the combiner a
// multiply.

// ROUND: graph.cumprod %{{.*}} {axis = 1 : i64, exclusive = 1 : i64, reverse = 0 : i64} : (tensor<2x5xf32>) -> tensor<2x5xf32>

// CHECK-LABEL: func.func private @cumprod_0(
// CHECK-SAME:      %[[X:.*]]: memref<2x5xf32>, %[[O:.*]]: memref<2x5xf32>)
// CHECK-SAME:      loop.algorithm = "scan"
// CHECK:         loop.for %[[R:.*]] = 0 to 2 step 1 axis "d0" stage "scan" {
// CHECK-NEXT:      loop.for %[[I:.*]] = 0 to 5 step 1 axis "scan" {
// CHECK:             %[[FIRST:.*]] = arith.cmpi eq, %[[I]]
// CHECK:             %[[Q:.*]] = arith.minsi
// CHECK-NEXT:        %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-NEXT:        %[[PREV:.*]] = memref.load %[[O]][%[[R]], %[[Q]]]
// CHECK-NEXT:        %[[ACC:.*]] = arith.select %[[FIRST]], %[[ONE]], %[[PREV]] : f32
// CHECK-NEXT:        %[[IN:.*]] = memref.load %[[X]][%[[R]], %[[Q]]]
// CHECK-NEXT:        %[[TERM:.*]] = arith.select %[[FIRST]], %[[ONE]], %[[IN]] : f32
// CHECK-NEXT:        %[[PROD:.*]] = arith.mulf %[[ACC]], %[[TERM]] : f32
// CHECK-NEXT:        memref.store %[[PROD]], %[[O]][%[[R]], %[[I]]]
func.func @main(%y: tensor<2x5xf32>) -> tensor<2x5xf32> {
  %c = graph.cumprod %y {axis = 1 : i64, exclusive = 1 : i64, reverse = 0 : i64} : (tensor<2x5xf32>) -> tensor<2x5xf32>
  func.return %c : tensor<2x5xf32>
}

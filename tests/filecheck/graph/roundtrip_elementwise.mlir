// RUN: compiler-opt %s | compiler-opt | filecheck %s
// RUN: compiler-opt %s --print-op-generic | compiler-opt | filecheck %s
// RUN: compiler-opt %s -o %t.1.mlir && compiler-opt %t.1.mlir -o %t.2.mlir && diff %t.1.mlir %t.2.mlir
// Round trip (custom and generic syntax, and a print/parse/print fixed point) of
// every elementwise graph op: unary ops, activations, clip, cast, binary ops
// with broadcasting, comparisons, logic and where, on f32, f16, i64 and i1.

func.func @unary(%x: tensor<2x3xf32>, %i: tensor<4xi64>, %b: tensor<2x2xi1>) -> (tensor<2x3xf32>, tensor<4xi64>, tensor<2x2xi1>) {
  %0 = graph.identity %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %1 = graph.neg %0 : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %2 = graph.abs %1 : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %3 = graph.sign %2 : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %4 = graph.relu %3 : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %5 = graph.exp %4 : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %6 = graph.log %5 : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %7 = graph.sqrt %6 : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %8 = graph.reciprocal %7 : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %9 = graph.sigmoid %8 : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %10 = graph.tanh %9 : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %11 = graph.erf %10 : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %12 = graph.floor %11 : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %13 = graph.ceil %12 : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %14 = graph.round %13 : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %15 = graph.sin %14 : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %16 = graph.cos %15 : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %17 = graph.softplus %16 : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %18 = graph.leaky_relu %17 {alpha = 0.1 : f64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %19 = graph.elu %18 {alpha = 1.0 : f64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %20 = graph.hard_sigmoid %19 {alpha = 0.2 : f64, beta = 0.5 : f64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %21 = graph.clip %20 {min = 0.0 : f64, max = 6.0 : f64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %22 = graph.clip %21 {max = 6.0 : f64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %23 = graph.cast %22 : (tensor<2x3xf32>) -> tensor<2x3xf16>
  %24 = graph.cast %23 : (tensor<2x3xf16>) -> tensor<2x3xf32>
  %i1 = graph.abs %i : (tensor<4xi64>) -> tensor<4xi64>
  %i2 = graph.neg %i1 : (tensor<4xi64>) -> tensor<4xi64>
  %i3 = graph.relu %i2 : (tensor<4xi64>) -> tensor<4xi64>
  %i4 = graph.clip %i3 {min = -2.0 : f64} : (tensor<4xi64>) -> tensor<4xi64>
  %b1 = graph.not %b : (tensor<2x2xi1>) -> tensor<2x2xi1>
  %b2 = graph.identity %b1 : (tensor<2x2xi1>) -> tensor<2x2xi1>
  func.return %24, %i4, %b2 : tensor<2x3xf32>, tensor<4xi64>, tensor<2x2xi1>
}

func.func @binary(%a: tensor<2x3xf32>, %b: tensor<3xf32>, %i: tensor<2x1xi64>, %j: tensor<3xi64>, %p: tensor<2x3xi1>, %q: tensor<1x3xi1>) -> (tensor<2x3xf32>, tensor<2x3xi64>, tensor<2x3xi1>) {
  %0 = graph.add %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %1 = graph.sub %0, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %2 = graph.mul %1, %a : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %3 = graph.div %2, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %4 = graph.pow %3, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %5 = graph.max %4, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %6 = graph.min %5, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %7 = graph.mod %6, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %c0 = graph.equal %7, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xi1>
  %c1 = graph.less %7, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xi1>
  %c2 = graph.less_equal %7, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xi1>
  %c3 = graph.greater %i, %j : (tensor<2x1xi64>, tensor<3xi64>) -> tensor<2x3xi1>
  %c4 = graph.greater_equal %i, %j : (tensor<2x1xi64>, tensor<3xi64>) -> tensor<2x3xi1>
  %c5 = graph.equal %p, %q : (tensor<2x3xi1>, tensor<1x3xi1>) -> tensor<2x3xi1>
  %l0 = graph.and %c0, %c1 : (tensor<2x3xi1>, tensor<2x3xi1>) -> tensor<2x3xi1>
  %l1 = graph.or %l0, %c2 : (tensor<2x3xi1>, tensor<2x3xi1>) -> tensor<2x3xi1>
  %l2 = graph.xor %l1, %q : (tensor<2x3xi1>, tensor<1x3xi1>) -> tensor<2x3xi1>
  %l3 = graph.and %l2, %c3 : (tensor<2x3xi1>, tensor<2x3xi1>) -> tensor<2x3xi1>
  %l4 = graph.or %l3, %c4 : (tensor<2x3xi1>, tensor<2x3xi1>) -> tensor<2x3xi1>
  %l5 = graph.xor %l4, %c5 : (tensor<2x3xi1>, tensor<2x3xi1>) -> tensor<2x3xi1>
  %w = graph.where %l5, %7, %b : (tensor<2x3xi1>, tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %n0 = graph.div %i, %j : (tensor<2x1xi64>, tensor<3xi64>) -> tensor<2x3xi64>
  %n1 = graph.mod %n0, %j : (tensor<2x3xi64>, tensor<3xi64>) -> tensor<2x3xi64>
  %n2 = graph.where %p, %n1, %i : (tensor<2x3xi1>, tensor<2x3xi64>, tensor<2x1xi64>) -> tensor<2x3xi64>
  func.return %w, %n2, %l5 : tensor<2x3xf32>, tensor<2x3xi64>, tensor<2x3xi1>
}

// CHECK-LABEL: func.func @unary(%x: tensor<2x3xf32>, %i: tensor<4xi64>, %b: tensor<2x2xi1>) -> (tensor<2x3xf32>, tensor<4xi64>, tensor<2x2xi1>) {
// CHECK-NEXT:  %0 = graph.identity %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %1 = graph.neg %0 : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %2 = graph.abs %1 : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %3 = graph.sign %2 : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %4 = graph.relu %3 : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %5 = graph.exp %4 : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %6 = graph.log %5 : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %7 = graph.sqrt %6 : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %8 = graph.reciprocal %7 : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %9 = graph.sigmoid %8 : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %10 = graph.tanh %9 : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %11 = graph.erf %10 : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %12 = graph.floor %11 : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %13 = graph.ceil %12 : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %14 = graph.round %13 : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %15 = graph.sin %14 : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %16 = graph.cos %15 : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %17 = graph.softplus %16 : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %18 = graph.leaky_relu %17 {alpha = 1.000000e-01 : f64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %19 = graph.elu %18 {alpha = 1.000000e+00 : f64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %20 = graph.hard_sigmoid %19 {alpha = 2.000000e-01 : f64, beta = 5.000000e-01 : f64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %21 = graph.clip %20 {min = 0.000000e+00 : f64, max = 6.000000e+00 : f64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %22 = graph.clip %21 {max = 6.000000e+00 : f64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %23 = graph.cast %22 : (tensor<2x3xf32>) -> tensor<2x3xf16>
// CHECK-NEXT:  %24 = graph.cast %23 : (tensor<2x3xf16>) -> tensor<2x3xf32>
// CHECK-NEXT:  %i1 = graph.abs %i : (tensor<4xi64>) -> tensor<4xi64>
// CHECK-NEXT:  %i2 = graph.neg %i1 : (tensor<4xi64>) -> tensor<4xi64>
// CHECK-NEXT:  %i3 = graph.relu %i2 : (tensor<4xi64>) -> tensor<4xi64>
// CHECK-NEXT:  %i4 = graph.clip %i3 {min = -2.000000e+00 : f64} : (tensor<4xi64>) -> tensor<4xi64>
// CHECK-NEXT:  %b1 = graph.not %b : (tensor<2x2xi1>) -> tensor<2x2xi1>
// CHECK-NEXT:  %b2 = graph.identity %b1 : (tensor<2x2xi1>) -> tensor<2x2xi1>
// CHECK-NEXT:  func.return %24, %i4, %b2 : tensor<2x3xf32>, tensor<4xi64>, tensor<2x2xi1>
// CHECK-NEXT:  }
// CHECK-LABEL: func.func @binary(%a: tensor<2x3xf32>, %b: tensor<3xf32>, %i: tensor<2x1xi64>, %j: tensor<3xi64>, %p: tensor<2x3xi1>, %q: tensor<1x3xi1>) -> (tensor<2x3xf32>, tensor<2x3xi64>, tensor<2x3xi1>) {
// CHECK-NEXT:  %0 = graph.add %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %1 = graph.sub %0, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %2 = graph.mul %1, %a : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %3 = graph.div %2, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %4 = graph.pow %3, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %5 = graph.max %4, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %6 = graph.min %5, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %7 = graph.mod %6, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %c0 = graph.equal %7, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xi1>
// CHECK-NEXT:  %c1 = graph.less %7, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xi1>
// CHECK-NEXT:  %c2 = graph.less_equal %7, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xi1>
// CHECK-NEXT:  %c3 = graph.greater %i, %j : (tensor<2x1xi64>, tensor<3xi64>) -> tensor<2x3xi1>
// CHECK-NEXT:  %c4 = graph.greater_equal %i, %j : (tensor<2x1xi64>, tensor<3xi64>) -> tensor<2x3xi1>
// CHECK-NEXT:  %c5 = graph.equal %p, %q : (tensor<2x3xi1>, tensor<1x3xi1>) -> tensor<2x3xi1>
// CHECK-NEXT:  %l0 = graph.and %c0, %c1 : (tensor<2x3xi1>, tensor<2x3xi1>) -> tensor<2x3xi1>
// CHECK-NEXT:  %l1 = graph.or %l0, %c2 : (tensor<2x3xi1>, tensor<2x3xi1>) -> tensor<2x3xi1>
// CHECK-NEXT:  %l2 = graph.xor %l1, %q : (tensor<2x3xi1>, tensor<1x3xi1>) -> tensor<2x3xi1>
// CHECK-NEXT:  %l3 = graph.and %l2, %c3 : (tensor<2x3xi1>, tensor<2x3xi1>) -> tensor<2x3xi1>
// CHECK-NEXT:  %l4 = graph.or %l3, %c4 : (tensor<2x3xi1>, tensor<2x3xi1>) -> tensor<2x3xi1>
// CHECK-NEXT:  %l5 = graph.xor %l4, %c5 : (tensor<2x3xi1>, tensor<2x3xi1>) -> tensor<2x3xi1>
// CHECK-NEXT:  %w = graph.where %l5, %7, %b : (tensor<2x3xi1>, tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %n0 = graph.div %i, %j : (tensor<2x1xi64>, tensor<3xi64>) -> tensor<2x3xi64>
// CHECK-NEXT:  %n1 = graph.mod %n0, %j : (tensor<2x3xi64>, tensor<3xi64>) -> tensor<2x3xi64>
// CHECK-NEXT:  %n2 = graph.where %p, %n1, %i : (tensor<2x3xi1>, tensor<2x3xi64>, tensor<2x1xi64>) -> tensor<2x3xi64>
// CHECK-NEXT:  func.return %w, %n2, %l5 : tensor<2x3xf32>, tensor<2x3xi64>, tensor<2x3xi1>
// CHECK-NEXT:  }

// `-t onnx` prints the graph as the TensorRT target exports it: without -p the
// export pipeline runs first, so the batch norm folds into the conv (one Conv
// with a bias, then Relu); weights are initializers, ops keep their attributes,
// rank-0 constants stay rank 0, and an output that is an input is copied by Identity.
// RUN: compiler-opt %s -t onnx | filecheck %s
// The text reads back through the onnxtxt frontend to the same graph ops.
// RUN: compiler-opt %s -t onnx -o %t.onnxtxt && compiler-opt %t.onnxtxt | filecheck %s --check-prefix=BACK

func.func @main(%x: tensor<1x4x8x8xf32>, %ids: tensor<2xi64>) -> (tensor<1x6x4x4xf32>, tensor<2x4x8xf32>, tensor<2xi64>, tensor<1x6x4xf32>) {
  %w = graph.constant dense<0.5> : tensor<6x2x3x3xf32>
  %s = graph.constant dense<[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]> : tensor<6xf32>
  %z = graph.constant dense<0.0> : tensor<6xf32>
  %c = graph.conv %x, %w {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 2 : i64} : (tensor<1x4x8x8xf32>, tensor<6x2x3x3xf32>) -> tensor<1x6x4x4xf32>
  %bn = graph.batch_norm %c, %s, %s, %z, %s {epsilon = 1.0e-05 : f64} : (tensor<1x6x4x4xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>) -> tensor<1x6x4x4xf32>
  %r = graph.relu %bn : (tensor<1x6x4x4xf32>) -> tensor<1x6x4x4xf32>
  %t = graph.reshape %x : (tensor<1x4x8x8xf32>) -> tensor<4x8x8xf32>
  %g = graph.gather %t, %ids {axis = 1 : i64} : (tensor<4x8x8xf32>, tensor<2xi64>) -> tensor<4x2x8xf32>
  %p = graph.transpose %g {perm = array<i64: 1, 0, 2>} : (tensor<4x2x8xf32>) -> tensor<2x4x8xf32>
  %m = graph.reduce_max %r {axes = array<i64: 3>, keepdims = false} : (tensor<1x6x4x4xf32>) -> tensor<1x6x4xf32>
  func.return %r, %p, %ids, %m : tensor<1x6x4x4xf32>, tensor<2x4x8xf32>, tensor<2xi64>, tensor<1x6x4xf32>
}

// CHECK:      opset_import: ["" : 18]
// CHECK:      main (float[1,4,8,8] arg0, int64[2] arg1) => (float[1,6,4,4] result0, float[2,4,8] result1, int64[2] result2, float[1,6,4] result3)
// CHECK-NEXT:    <float[6,2,3,3] [[W:const_[0-9]+]] = {{.*}}, float[6] [[B:const_[0-9]+]] = {{.*}}
// CHECK:         [Conv_{{[0-9]+}}] [[C:v_[0-9]+]] = Conv <dilations: ints = [1, 1], group: int = 2, kernel_shape: ints = [3, 3], pads: ints = [1, 1, 1, 1], strides: ints = [2, 2]> (arg0, [[W]], [[B]])
// CHECK-NEXT:    [Relu_{{[0-9]+}}] result0 = Relu ([[C]])
// CHECK-NEXT:    [Reshape_{{[0-9]+}}] [[T:v_[0-9]+]] = Reshape (arg0, [[S:shape_[0-9]+]])
// CHECK-NEXT:    [Gather_{{[0-9]+}}] [[G:v_[0-9]+]] = Gather <axis: int = 1> ([[T]], arg1)
// CHECK-NEXT:    [Transpose_{{[0-9]+}}] result1 = Transpose <perm: ints = [1, 0, 2]> ([[G]])
// CHECK-NEXT:    [ReduceMax_{{[0-9]+}}] result3 = ReduceMax <keepdims: int = 0> (result0, [[A:axes_[0-9]+]])
// CHECK-NEXT:    [Identity_{{[0-9]+}}] result2 = Identity (arg1)
// CHECK-NOT:     BatchNormalization

// BACK:      graph.conv %arg0, %{{.*}}, %{{.*}} {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 2 : i64}
// BACK:      graph.relu
// BACK:      graph.reduce_max %{{.*}} {axes = array<i64: 3>, keepdims = false}

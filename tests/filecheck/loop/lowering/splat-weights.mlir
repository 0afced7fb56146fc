// RUN: compiler-opt %s -p plan-memory,convert-graph-to-loop,extract-params | filecheck %s

// A splat weight is a scalar inside the kernel: no global, no params bytes.
// CHECK:     func.func private @conv_0(%{{.*}}: memref<1x2x5x5xf32>, %{{.*}}: memref<1x3x3x3xf32>)
// CHECK:       arith.constant 5.000000e-01 : f32
// CHECK-NOT: memref.global
// CHECK:     func.func @main({{.*}}%params: memref<1xi8>{{.*}}graph.params_bytes = 0 : i64
// CHECK-NOT: memref.view %params
func.func @main(%x: tensor<1x2x5x5xf32>) -> tensor<1x3x3x3xf32> {
  %w = graph.constant dense<5.000000e-01> : tensor<3x2x3x3xf32>
  %0 = graph.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x5x5xf32>, tensor<3x2x3x3xf32>) -> tensor<1x3x3x3xf32>
  func.return %0 : tensor<1x3x3x3xf32>
}

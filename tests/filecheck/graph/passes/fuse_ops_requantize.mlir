// RUN: compiler-opt %s -p fuse-ops | filecheck %s

// An integer conv's requantization (cast to f32, scale, round, clip, cast
// back) joins it as its epilogue although it changes the element type: the
// kernel keeps the int32 sums in a buffer of their own and the schedule runs
// the epilogue on each register tile, so the int32 tensor never reaches memory.
// CHECK:      %[[Y:.*]] = graph.fused(%x, %w) {kind = "complex-out-fusable"} : (tensor<1x16x4x4xi16>, tensor<16x16x1x1xi16>) -> tensor<1x16x4x4xi8> {
// CHECK:        graph.conv
// CHECK-NEXT:   graph.cast
// CHECK-NEXT:   graph.constant
// CHECK-NEXT:   graph.mul
// CHECK-NEXT:   graph.round
// CHECK-NEXT:   graph.clip
// CHECK-NEXT:   graph.cast
// CHECK-NEXT:   graph.yield
// CHECK:      func.return %[[Y]]
func.func @main(%x: tensor<1x16x4x4xi16>, %w: tensor<16x16x1x1xi16>) -> tensor<1x16x4x4xi8> {
  %c = graph.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x16x4x4xi16>, tensor<16x16x1x1xi16>) -> tensor<1x16x4x4xi32>
  %f = graph.cast %c : (tensor<1x16x4x4xi32>) -> tensor<1x16x4x4xf32>
  %s = graph.constant dense<0.5> : tensor<f32>
  %m = graph.mul %f, %s : (tensor<1x16x4x4xf32>, tensor<f32>) -> tensor<1x16x4x4xf32>
  %r = graph.round %m : (tensor<1x16x4x4xf32>) -> tensor<1x16x4x4xf32>
  %k = graph.clip %r {min = -128.0 : f64, max = 127.0 : f64} : (tensor<1x16x4x4xf32>) -> tensor<1x16x4x4xf32>
  %y = graph.cast %k : (tensor<1x16x4x4xf32>) -> tensor<1x16x4x4xi8>
  func.return %y : tensor<1x16x4x4xi8>
}

// RUN: compiler-opt %s -p 'winograd-conv{mode=f4}' --split-input-file | filecheck %s --check-prefix=F4
// RUN: compiler-opt %s -p 'winograd-conv{mode=f2},fuse-ops' --split-input-file | filecheck %s --check-prefix=F2
// RUN: compiler-opt %s -p 'winograd-conv' --split-input-file | filecheck %s --check-prefix=AUTO
// RUN: not compiler-opt %s -p 'winograd-conv{mode=f3}' 2>&1 | filecheck %s --check-prefix=BAD

// A 3x3 stride-1 conv becomes input transform, batched GEMM with the folded
// weight transform U [alpha^2, C, K], and output transform with the bias.
// 8x8 output, F(4x4): 2x2 tiles; F(2x2): 4x4 tiles.
// F4-LABEL: func.func @main
// F4:      %[[U:.*]] = graph.constant dense<{{.*}}> : tensor<36x2x3xf32>
// F4-NEXT: %[[V:.*]] = graph.winograd_input %x {tile = 4 : i64, pads = array<i64: 1, 1, 1, 1>} : (tensor<1x2x8x8xf32>) -> tensor<36x4x2xf32>
// F4-NEXT: %[[M:.*]] = graph.matmul %[[V]], %[[U]] : (tensor<36x4x2xf32>, tensor<36x2x3xf32>) -> tensor<36x4x3xf32>
// F4-NEXT: %[[Y:.*]] = graph.winograd_output %[[M]], %b {tile = 4 : i64, output = array<i64: 1, 8, 8>} : (tensor<36x4x3xf32>, tensor<3xf32>) -> tensor<1x3x8x8xf32>
// F4-NEXT: graph.relu %[[Y]]
// F4-NOT:  graph.conv
// The ReLU fuses into the output transform, which anchors its group as a conv would.
// F2-LABEL: func.func @main
// F2:      graph.winograd_input %x {tile = 2 : i64, pads = array<i64: 1, 1, 1, 1>} : (tensor<1x2x8x8xf32>) -> tensor<16x16x2xf32>
// F2:      graph.matmul {{.*}} : (tensor<16x16x2xf32>, tensor<16x2x3xf32>) -> tensor<16x16x3xf32>
// F2:      graph.fused
// F2:        graph.winograd_output {{.*}} {tile = 2 : i64, output = array<i64: 1, 8, 8>}
// F2-NEXT:   graph.relu
// The default rule keeps narrow convs direct.
// AUTO-LABEL: func.func @main
// AUTO:       graph.conv
// AUTO-NOT:   graph.winograd_input
// BAD: winograd-conv: mode 'f3' does not exist
func.func @main(%x: tensor<1x2x8x8xf32>, %b: tensor<3xf32>) -> tensor<1x3x8x8xf32> {
  %w = graph.constant dense<1.0> : tensor<3x2x3x3xf32>
  %0 = graph.conv %x, %w, %b {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x8x8xf32>, tensor<3x2x3x3xf32>, tensor<3xf32>) -> tensor<1x3x8x8xf32>
  %1 = graph.relu %0 : (tensor<1x3x8x8xf32>) -> tensor<1x3x8x8xf32>
  func.return %1 : tensor<1x3x8x8xf32>
}

// -----

// Blocked layouts stay: the transforms read and write NCHW16c; the packed
// weight is unpacked before its transform. A 7x7 output has ragged tiles.
// F4-LABEL: func.func @blocked
// F4:      graph.constant dense<{{.*}}> : tensor<36x16x16xf32>
// F4-NEXT: graph.winograd_input %x {tile = 4 : i64, pads = array<i64: 0, 0, 0, 0>, layout = "NCHW16c"} : (tensor<1x1x9x9x16xf32>) -> tensor<36x4x16xf32>
// F4:      graph.winograd_output {{.*}} {tile = 4 : i64, output = array<i64: 1, 7, 7>, layout = "NCHW16c"} : (tensor<36x4x16xf32>) -> tensor<1x1x7x7x16xf32>
func.func @blocked(%x: tensor<1x1x9x9x16xf32>) -> tensor<1x1x7x7x16xf32> {
  %w = graph.constant dense<0.5> : tensor<1x1x3x3x16x16xf32>
  %0 = graph.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64, data_layout = "NCHW16c", kernel_layout = "OIHW16i16o", out_layout = "NCHW16c"} : (tensor<1x1x9x9x16xf32>, tensor<1x1x3x3x16x16xf32>) -> tensor<1x1x7x7x16xf32>
  func.return %0 : tensor<1x1x7x7x16xf32>
}

// -----

// Strided, grouped and non-constant-weight convs stay direct.
// F4-LABEL: func.func @ineligible
// F4-NOT:  graph.winograd_input
// F4:      graph.conv
// F4:      graph.conv
// F4:      graph.conv
func.func @ineligible(%x: tensor<1x4x8x8xf32>, %wv: tensor<4x4x3x3xf32>) -> (tensor<1x4x4x4xf32>, tensor<1x4x8x8xf32>, tensor<1x4x8x8xf32>) {
  %w = graph.constant dense<1.0> : tensor<4x4x3x3xf32>
  %wg = graph.constant dense<1.0> : tensor<4x2x3x3xf32>
  %0 = graph.conv %x, %w {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xf32>, tensor<4x4x3x3xf32>) -> tensor<1x4x4x4xf32>
  %1 = graph.conv %x, %wg {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 2 : i64} : (tensor<1x4x8x8xf32>, tensor<4x2x3x3xf32>) -> tensor<1x4x8x8xf32>
  %2 = graph.conv %x, %wv {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xf32>, tensor<4x4x3x3xf32>) -> tensor<1x4x8x8xf32>
  func.return %0, %1, %2 : tensor<1x4x4x4xf32>, tensor<1x4x8x8xf32>, tensor<1x4x8x8xf32>
}

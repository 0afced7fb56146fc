// RUN: compiler-opt --split-input-file %s -p 'convert-layout{layout=NCHW16c}' | filecheck %s
// RUN: compiler-opt --split-input-file %s -p 'convert-layout{layout=NCHW8c}' | filecheck %s --check-prefix=C8

// conv-relu-conv: one transform in, one out; weights packed OIHW16i16o at
// compile time, the bias stays [O], the relu and the per-channel scale
// (re-laid-out from [32, 1, 1] to [1, 2, 1, 1, 16]) follow the layout.
// CHECK-LABEL: func.func @main(%x: tensor<1x16x8x8xf32>) -> tensor<1x16x8x8xf32>
// CHECK:         %w1_OIHW16i16o = graph.constant dense<5.000000e-01> : tensor<2x1x3x3x16x16xf32>
// CHECK:         %s_NCHW16c = graph.constant dense<2.000000e+00> : tensor<1x2x1x1x16xf32>
// CHECK:         %w2_OIHW16i16o = graph.constant dense<2.500000e-01> : tensor<1x2x1x1x16x16xf32>
// CHECK:         %[[IN:.*]] = graph.layout_transform %x {src_layout = "NCHW", dst_layout = "NCHW16c"} : (tensor<1x16x8x8xf32>) -> tensor<1x1x8x8x16xf32>
// CHECK-NEXT:    %c1 = graph.conv %[[IN]], %w1_OIHW16i16o, %b1 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64, data_layout = "NCHW16c", kernel_layout = "OIHW16i16o", out_layout = "NCHW16c"} : (tensor<1x1x8x8x16xf32>, tensor<2x1x3x3x16x16xf32>, tensor<32xf32>) -> tensor<1x2x8x8x16xf32>
// CHECK-NEXT:    %r = graph.relu %c1 : (tensor<1x2x8x8x16xf32>) -> tensor<1x2x8x8x16xf32>
// CHECK-NEXT:    %m = graph.mul %r, %s_NCHW16c : (tensor<1x2x8x8x16xf32>, tensor<1x2x1x1x16xf32>) -> tensor<1x2x8x8x16xf32>
// CHECK-NEXT:    %c2 = graph.conv %m, %w2_OIHW16i16o {{.*}}data_layout = "NCHW16c", kernel_layout = "OIHW16i16o", out_layout = "NCHW16c"} : (tensor<1x2x8x8x16xf32>, tensor<1x2x1x1x16x16xf32>) -> tensor<1x1x8x8x16xf32>
// CHECK-NEXT:    %[[OUT:.*]] = graph.layout_transform %c2 {src_layout = "NCHW16c", dst_layout = "NCHW"} : (tensor<1x1x8x8x16xf32>) -> tensor<1x16x8x8xf32>
// CHECK-NEXT:    func.return %[[OUT]] : tensor<1x16x8x8xf32>
// The block size is an option: 8 packs OIHW8i8o.
// C8-LABEL: func.func @main(%x: tensor<1x16x8x8xf32>) -> tensor<1x16x8x8xf32>
// C8:         %w1_OIHW8i8o = graph.constant dense<5.000000e-01> : tensor<4x2x3x3x8x8xf32>
// C8:         graph.layout_transform %x {src_layout = "NCHW", dst_layout = "NCHW8c"} : (tensor<1x16x8x8xf32>) -> tensor<1x2x8x8x8xf32>
// C8:         graph.conv {{.*}}data_layout = "NCHW8c", kernel_layout = "OIHW8i8o", out_layout = "NCHW8c"}
func.func @main(%x: tensor<1x16x8x8xf32>) -> tensor<1x16x8x8xf32> {
  %w1 = graph.constant dense<0.5> : tensor<32x16x3x3xf32>
  %b1 = graph.constant dense<0.1> : tensor<32xf32>
  %s = graph.constant dense<2.0> : tensor<32x1x1xf32>
  %w2 = graph.constant dense<0.25> : tensor<16x32x1x1xf32>
  %c1 = graph.conv %x, %w1, %b1 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x16x8x8xf32>, tensor<32x16x3x3xf32>, tensor<32xf32>) -> tensor<1x32x8x8xf32>
  %r = graph.relu %c1 : (tensor<1x32x8x8xf32>) -> tensor<1x32x8x8xf32>
  %m = graph.mul %r, %s : (tensor<1x32x8x8xf32>, tensor<32x1x1xf32>) -> tensor<1x32x8x8xf32>
  %c2 = graph.conv %m, %w2 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x32x8x8xf32>, tensor<16x32x1x1xf32>) -> tensor<1x16x8x8xf32>
  func.return %c2 : tensor<1x16x8x8xf32>
}

// -----

// The first conv of an image model (C = 3): its input side stays NCHW (no
// transform of the image), the weight is packed as one input block of 3
// (OIHW3i16o) and the output is blocked. The pools, the batch norm (as
// x * a + b on blocked per-channel vectors) and the global-average reduction
// follow; the reshape before the classifier gets the only transform, on the
// smallest tensor.
// CHECK-LABEL: func.func @main(%img: tensor<1x3x16x16xf32>) -> tensor<1x32xf32>
// CHECK-NOT:     graph.layout_transform
// CHECK:         %c = graph.conv %img, %w_OIHW3i16o {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64, data_layout = "NCHW", kernel_layout = "OIHW3i16o", out_layout = "NCHW16c"} : (tensor<1x3x16x16xf32>, tensor<2x1x3x3x3x16xf32>) -> tensor<1x2x8x8x16xf32>
// CHECK-NEXT:    %bn_scale_NCHW16c = graph.constant dense<0.749999046> : tensor<1x2x1x1x16xf32>
// CHECK-NEXT:    %bn_shift_NCHW16c = graph.constant dense<0.312500238> : tensor<1x2x1x1x16xf32>
// CHECK-NEXT:    %[[MUL:.*]] = graph.mul %c, %bn_scale_NCHW16c : (tensor<1x2x8x8x16xf32>, tensor<1x2x1x1x16xf32>) -> tensor<1x2x8x8x16xf32>
// CHECK-NEXT:    %bn = graph.add %[[MUL]], %bn_shift_NCHW16c : (tensor<1x2x8x8x16xf32>, tensor<1x2x1x1x16xf32>) -> tensor<1x2x8x8x16xf32>
// CHECK-NEXT:    %p = graph.max_pool %bn {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, layout = "NCHW16c"} : (tensor<1x2x8x8x16xf32>) -> tensor<1x2x4x4x16xf32>
// CHECK-NEXT:    %q = graph.avg_pool %p {kernel_shape = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, count_include_pad = 0 : i64, layout = "NCHW16c"} : (tensor<1x2x4x4x16xf32>) -> tensor<1x2x4x4x16xf32>
// CHECK-NEXT:    %g = graph.reduce_mean %q {axes = array<i64: 2, 3>, keepdims = 1 : i64} : (tensor<1x2x4x4x16xf32>) -> tensor<1x2x1x1x16xf32>
// CHECK-NEXT:    %[[T:.*]] = graph.layout_transform %g {src_layout = "NCHW16c", dst_layout = "NCHW"} : (tensor<1x2x1x1x16xf32>) -> tensor<1x32x1x1xf32>
// CHECK-NEXT:    %flat = graph.reshape %[[T]] : (tensor<1x32x1x1xf32>) -> tensor<1x32xf32>
// CHECK-NOT:     graph.batch_norm
func.func @main(%img: tensor<1x3x16x16xf32>) -> tensor<1x32xf32> {
  %w = graph.constant dense<0.5> : tensor<32x3x3x3xf32>
  %scale = graph.constant dense<1.5> : tensor<32xf32>
  %shift = graph.constant dense<0.5> : tensor<32xf32>
  %mean = graph.constant dense<0.25> : tensor<32xf32>
  %var = graph.constant dense<4.0> : tensor<32xf32>
  %c = graph.conv %img, %w {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x3x16x16xf32>, tensor<32x3x3x3xf32>) -> tensor<1x32x8x8xf32>
  %bn = graph.batch_norm %c, %scale, %shift, %mean, %var {epsilon = 1.0e-05 : f64} : (tensor<1x32x8x8xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>) -> tensor<1x32x8x8xf32>
  %p = graph.max_pool %bn {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x32x8x8xf32>) -> tensor<1x32x4x4xf32>
  %q = graph.avg_pool %p {kernel_shape = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, count_include_pad = 0 : i64} : (tensor<1x32x4x4xf32>) -> tensor<1x32x4x4xf32>
  %g = graph.reduce_mean %q {axes = array<i64: 2, 3>, keepdims = 1 : i64} : (tensor<1x32x4x4xf32>) -> tensor<1x32x1x1xf32>
  %flat = graph.reshape %g : (tensor<1x32x1x1xf32>) -> tensor<1x32xf32>
  func.return %flat : tensor<1x32xf32>
}

// -----

// Inception-style branches: a concat of blocked tensors (C = 16 and 32) is a
// plain concat of their blocks; the residual add of two blocked values and
// the relu after it stay blocked. A concat with an operand whose C (8) does
// not divide by 16 is done in NCHW, so its blocked operand is transformed.
// CHECK-LABEL: func.func @main(%x: tensor<1x16x4x4xf32>) -> (tensor<1x48x4x4xf32>, tensor<1x24x4x4xf32>)
// CHECK:         %[[IN:.*]] = graph.layout_transform %x {src_layout = "NCHW", dst_layout = "NCHW16c"}
// CHECK-NEXT:    %a = graph.conv %[[IN]], %wa_OIHW16i16o {{.*}} -> tensor<1x1x4x4x16xf32>
// CHECK-NEXT:    %b = graph.conv %[[IN]], %wb_OIHW16i16o {{.*}} -> tensor<1x2x4x4x16xf32>
// CHECK-NEXT:    %cat = graph.concat %a, %b {axis = 1 : i64} : (tensor<1x1x4x4x16xf32>, tensor<1x2x4x4x16xf32>) -> tensor<1x3x4x4x16xf32>
// CHECK-NEXT:    %sum = graph.add %cat, %cat : (tensor<1x3x4x4x16xf32>, tensor<1x3x4x4x16xf32>) -> tensor<1x3x4x4x16xf32>
// CHECK-NEXT:    %r = graph.relu %sum : (tensor<1x3x4x4x16xf32>) -> tensor<1x3x4x4x16xf32>
// CHECK-NEXT:    %d = graph.relu %x : (tensor<1x16x4x4xf32>) -> tensor<1x16x4x4xf32>
// CHECK-NEXT:    %e = graph.slice %d {{.*}} -> tensor<1x8x4x4xf32>
// CHECK-NEXT:    %[[A:.*]] = graph.layout_transform %a {src_layout = "NCHW16c", dst_layout = "NCHW"} : (tensor<1x1x4x4x16xf32>) -> tensor<1x16x4x4xf32>
// CHECK-NEXT:    %odd = graph.concat %[[A]], %e {axis = 1 : i64} : (tensor<1x16x4x4xf32>, tensor<1x8x4x4xf32>) -> tensor<1x24x4x4xf32>
// CHECK-NEXT:    %[[R:.*]] = graph.layout_transform %r {src_layout = "NCHW16c", dst_layout = "NCHW"} : (tensor<1x3x4x4x16xf32>) -> tensor<1x48x4x4xf32>
// CHECK-NEXT:    func.return %[[R]], %odd
func.func @main(%x: tensor<1x16x4x4xf32>) -> (tensor<1x48x4x4xf32>, tensor<1x24x4x4xf32>) {
  %wa = graph.constant dense<0.5> : tensor<16x16x1x1xf32>
  %wb = graph.constant dense<0.25> : tensor<32x16x3x3xf32>
  %a = graph.conv %x, %wa {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x16x4x4xf32>, tensor<16x16x1x1xf32>) -> tensor<1x16x4x4xf32>
  %b = graph.conv %x, %wb {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x16x4x4xf32>, tensor<32x16x3x3xf32>) -> tensor<1x32x4x4xf32>
  %cat = graph.concat %a, %b {axis = 1 : i64} : (tensor<1x16x4x4xf32>, tensor<1x32x4x4xf32>) -> tensor<1x48x4x4xf32>
  %sum = graph.add %cat, %cat : (tensor<1x48x4x4xf32>, tensor<1x48x4x4xf32>) -> tensor<1x48x4x4xf32>
  %r = graph.relu %sum : (tensor<1x48x4x4xf32>) -> tensor<1x48x4x4xf32>
  %d = graph.relu %x : (tensor<1x16x4x4xf32>) -> tensor<1x16x4x4xf32>
  %e = graph.slice %d {offsets = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1, 1, 1>} : (tensor<1x16x4x4xf32>) -> tensor<1x8x4x4xf32>
  %odd = graph.concat %a, %e {axis = 1 : i64} : (tensor<1x16x4x4xf32>, tensor<1x8x4x4xf32>) -> tensor<1x24x4x4xf32>
  func.return %r, %odd : tensor<1x48x4x4xf32>, tensor<1x24x4x4xf32>
}

// -----

// A conv whose O (24) does not divide by 16 reads a blocked input as is and
// writes NCHW, with the largest o-block dividing O that is a multiple of
// c/2 (8, a whole vector, not 12): the region ends without transforming its
// wider input. A depthwise conv joins a region
// that reaches it blocked (OIHW1i16o).
// CHECK-LABEL: func.func @main(%x: tensor<1x16x4x4xf32>) -> tensor<1x24x4x4xf32>
// CHECK:         %c = graph.conv %{{.*}}, %w_OIHW16i16o {{.*}} -> tensor<1x2x4x4x16xf32>
// CHECK-NEXT:    %dw = graph.conv %c, %wd_OIHW1i16o {{.*}}group = 32 : i64, data_layout = "NCHW16c", kernel_layout = "OIHW1i16o", out_layout = "NCHW16c"} : (tensor<1x2x4x4x16xf32>, tensor<2x1x3x3x1x16xf32>) -> tensor<1x2x4x4x16xf32>
// CHECK-NEXT:    %o = graph.conv %dw, %wo_OIHW16i8o {{.*}}data_layout = "NCHW16c", kernel_layout = "OIHW16i8o", out_layout = "NCHW"} : (tensor<1x2x4x4x16xf32>, tensor<3x2x1x1x16x8xf32>) -> tensor<1x24x4x4xf32>
// CHECK-NEXT:    func.return %o : tensor<1x24x4x4xf32>
func.func @main(%x: tensor<1x16x4x4xf32>) -> tensor<1x24x4x4xf32> {
  %w = graph.constant dense<0.5> : tensor<32x16x1x1xf32>
  %wd = graph.constant dense<0.25> : tensor<32x1x3x3xf32>
  %wo = graph.constant dense<0.125> : tensor<24x32x1x1xf32>
  %c = graph.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x16x4x4xf32>, tensor<32x16x1x1xf32>) -> tensor<1x32x4x4xf32>
  %dw = graph.conv %c, %wd {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 32 : i64} : (tensor<1x32x4x4xf32>, tensor<32x1x3x3xf32>) -> tensor<1x32x4x4xf32>
  %o = graph.conv %dw, %wo {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x32x4x4xf32>, tensor<24x32x1x1xf32>) -> tensor<1x24x4x4xf32>
  func.return %o : tensor<1x24x4x4xf32>
}

// -----

// Left alone: a conv whose O does not divide by 16 on an NCHW input, a
// grouped conv (groups need not align with blocks), a conv with a weight
// that is not a constant, a depthwise conv not reached blocked, and ops
// with no conv around (elementwise, matmul).
// CHECK-LABEL: func.func @main
// CHECK-NOT:     graph.layout_transform
// CHECK-NOT:     _layout
// CHECK-NOT:     NCHW16c
// CHECK:         func.return
func.func @main(%x: tensor<1x16x4x4xf32>, %wv: tensor<32x16x1x1xf32>, %m: tensor<4x16xf32>) -> (tensor<1x24x4x4xf32>, tensor<1x32x4x4xf32>, tensor<1x32x4x4xf32>, tensor<1x16x4x4xf32>, tensor<4x4xf32>) {
  %w24 = graph.constant dense<0.5> : tensor<24x16x1x1xf32>
  %wg = graph.constant dense<0.5> : tensor<32x4x1x1xf32>
  %wd = graph.constant dense<0.5> : tensor<16x1x3x3xf32>
  %a = graph.conv %x, %w24 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x16x4x4xf32>, tensor<24x16x1x1xf32>) -> tensor<1x24x4x4xf32>
  %g = graph.conv %x, %wg {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 4 : i64} : (tensor<1x16x4x4xf32>, tensor<32x4x1x1xf32>) -> tensor<1x32x4x4xf32>
  %v = graph.conv %x, %wv {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x16x4x4xf32>, tensor<32x16x1x1xf32>) -> tensor<1x32x4x4xf32>
  %d = graph.conv %x, %wd {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 16 : i64} : (tensor<1x16x4x4xf32>, tensor<16x1x3x3xf32>) -> tensor<1x16x4x4xf32>
  %r = graph.relu %g : (tensor<1x32x4x4xf32>) -> tensor<1x32x4x4xf32>
  %t = graph.transpose %m {perm = array<i64: 1, 0>} : (tensor<4x16xf32>) -> tensor<16x4xf32>
  %mm = graph.matmul %m, %t : (tensor<4x16xf32>, tensor<16x4xf32>) -> tensor<4x4xf32>
  func.return %a, %r, %v, %d, %mm : tensor<1x24x4x4xf32>, tensor<1x32x4x4xf32>, tensor<1x32x4x4xf32>, tensor<1x16x4x4xf32>, tensor<4x4xf32>
}

// -----

// A wide conv split by channel slices (what fuse-horizontal makes): slices
// of whole blocks slice the blocks (contiguous views of the blocked
// result); a slice starting inside a block reads the NCHW form.
// CHECK-LABEL: func.func @main(%x: tensor<1x16x4x4xf32>) -> (tensor<1x16x4x4xf32>, tensor<1x32x4x4xf32>, tensor<1x8x4x4xf32>)
// CHECK:         %wide = graph.conv {{.*}} -> tensor<1x4x4x4x16xf32>
// CHECK-NEXT:    %a = graph.slice %wide {offsets = array<i64: 0, 0, 0, 0, 0>, strides = array<i64: 1, 1, 1, 1, 1>} : (tensor<1x4x4x4x16xf32>) -> tensor<1x1x4x4x16xf32>
// CHECK-NEXT:    %b = graph.slice %wide {offsets = array<i64: 0, 1, 0, 0, 0>, strides = array<i64: 1, 1, 1, 1, 1>} : (tensor<1x4x4x4x16xf32>) -> tensor<1x2x4x4x16xf32>
// CHECK-NEXT:    %rb = graph.relu %b : (tensor<1x2x4x4x16xf32>) -> tensor<1x2x4x4x16xf32>
// CHECK-NEXT:    %[[P:.*]] = graph.layout_transform %wide {src_layout = "NCHW16c", dst_layout = "NCHW"} : (tensor<1x4x4x4x16xf32>) -> tensor<1x64x4x4xf32>
// CHECK-NEXT:    %c = graph.slice %[[P]] {offsets = array<i64: 0, 52, 0, 0>, strides = array<i64: 1, 1, 1, 1>} : (tensor<1x64x4x4xf32>) -> tensor<1x8x4x4xf32>
func.func @main(%x: tensor<1x16x4x4xf32>) -> (tensor<1x16x4x4xf32>, tensor<1x32x4x4xf32>, tensor<1x8x4x4xf32>) {
  %w = graph.constant dense<0.5> : tensor<64x16x1x1xf32>
  %wide = graph.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x16x4x4xf32>, tensor<64x16x1x1xf32>) -> tensor<1x64x4x4xf32>
  %a = graph.slice %wide {offsets = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1, 1, 1>} : (tensor<1x64x4x4xf32>) -> tensor<1x16x4x4xf32>
  %b = graph.slice %wide {offsets = array<i64: 0, 16, 0, 0>, strides = array<i64: 1, 1, 1, 1>} : (tensor<1x64x4x4xf32>) -> tensor<1x32x4x4xf32>
  %rb = graph.relu %b : (tensor<1x32x4x4xf32>) -> tensor<1x32x4x4xf32>
  %c = graph.slice %wide {offsets = array<i64: 0, 52, 0, 0>, strides = array<i64: 1, 1, 1, 1>} : (tensor<1x64x4x4xf32>) -> tensor<1x8x4x4xf32>
  func.return %a, %rb, %c : tensor<1x16x4x4xf32>, tensor<1x32x4x4xf32>, tensor<1x8x4x4xf32>
}

// -----

// A pad of H and W only follows the layout (H and W are dims 2 and 3 in
// both): the u8 pad with the zero point that narrow-integer-conv puts between
// quantized convs stays blocked. A pad of the channels reads NCHW.
// CHECK-LABEL: func.func @pads
// CHECK:         %[[C1:.*]] = graph.conv {{.*}} -> tensor<1x1x4x4x16xi32>
// CHECK-NEXT:    %[[P:.*]] = graph.pad %[[C1]] {pads = array<i64: 0, 0, 1, 2, 0, 0, 0, 3, 1, 0>, mode = "constant", value = 7.000000e+00 : f64} : (tensor<1x1x4x4x16xi32>) -> tensor<1x1x8x7x16xi32>
// CHECK:         graph.conv %[[P]], {{.*}}data_layout = "NCHW16c"{{.*}} -> tensor<1x1x6x5x16xi32>
// CHECK:         %[[PLAIN:.*]] = graph.layout_transform %[[C1]] {src_layout = "NCHW16c", dst_layout = "NCHW"}
// CHECK-NEXT:    graph.pad %[[PLAIN]] {pads = array<i64: 0, 1, 0, 0, 0, 0, 0, 0>
func.func @pads(%x: tensor<1x16x4x4xi32>) -> (tensor<1x16x6x5xi32>, tensor<1x17x4x4xi32>) {
  %w = graph.constant dense<1> : tensor<16x16x1x1xi32>
  %c1 = graph.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x16x4x4xi32>, tensor<16x16x1x1xi32>) -> tensor<1x16x4x4xi32>
  %p = graph.pad %c1 {pads = array<i64: 0, 0, 1, 2, 0, 0, 3, 1>, mode = "constant", value = 7.0 : f64} : (tensor<1x16x4x4xi32>) -> tensor<1x16x8x7xi32>
  %w3 = graph.constant dense<1> : tensor<16x16x3x3xi32>
  %c2 = graph.conv %p, %w3 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x16x8x7xi32>, tensor<16x16x3x3xi32>) -> tensor<1x16x6x5xi32>
  %q = graph.pad %c1 {pads = array<i64: 0, 1, 0, 0, 0, 0, 0, 0>, mode = "constant", value = 0.0 : f64} : (tensor<1x16x4x4xi32>) -> tensor<1x17x4x4xi32>
  func.return %c2, %q : tensor<1x16x6x5xi32>, tensor<1x17x4x4xi32>
}

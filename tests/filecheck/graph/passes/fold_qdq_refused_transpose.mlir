// RUN: compiler-opt %s -p fold-qdq,fold-constants,dce | filecheck %s

// A Gemm (transB=1) of a 16-bit QDQ model: u16 activations times a [2, 256] u8
// weight read through a transpose. 256 * 65535 * 255 overflows int32, so
// fold-qdq refuses, and it must leave nothing behind: a transpose of the
// int32 weight built for the fold and never used stayed a use of the weight,
// and fold-constants, folding the weight's cast, then visited that detached
// op ("Operation insertion point must have a parent block").
// CHECK-LABEL: func.func @u16_gemm_trans_b
// CHECK:         %[[W:.*]] = graph.constant {{.*}} : tensor<256x2xf32>
// CHECK-NEXT:    %y = graph.matmul %x, %[[W]] : (tensor<1x256xf32>, tensor<256x2xf32>) -> tensor<1x2xf32>
// CHECK-NEXT:    func.return %y
builtin.module {
  func.func @u16_gemm_trans_b(%xq: tensor<1x256xui16>) -> tensor<1x2xf32> {
    %xi = graph.cast %xq : (tensor<1x256xui16>) -> tensor<1x256xi32>
    %xf = graph.cast %xi : (tensor<1x256xi32>) -> tensor<1x256xf32>
    %sx = graph.constant dense<0.5> : tensor<f32>
    %x = graph.mul %xf, %sx : (tensor<1x256xf32>, tensor<f32>) -> tensor<1x256xf32>
    %wq = graph.constant dense<3> : tensor<2x256xui8>
    %wi = graph.cast %wq : (tensor<2x256xui8>) -> tensor<2x256xi32>
    %wf = graph.cast %wi : (tensor<2x256xi32>) -> tensor<2x256xf32>
    %sw = graph.constant dense<[[0.25], [0.5]]> : tensor<2x1xf32>
    %w = graph.mul %wf, %sw : (tensor<2x256xf32>, tensor<2x1xf32>) -> tensor<2x256xf32>
    %wt = graph.transpose %w {perm = array<i64: 1, 0>} : (tensor<2x256xf32>) -> tensor<256x2xf32>
    %y = graph.matmul %x, %wt : (tensor<1x256xf32>, tensor<256x2xf32>) -> tensor<1x2xf32>
    func.return %y : tensor<1x2xf32>
  }
}

// An INT8 conv (int32(q) - zero point, i8 weights: narrow-integer-conv makes
// its operands i16) takes the target's integer dot product over pairs of
// input channels, chosen by default-schedule's `int-dot` (the driver sets it
// from the host's features): VNNI's vpdpwssd (the multiply, the pair sum and
// the accumulation in one instruction), else pmaddwd and an add; with
// `int-dot=none` plain widening i32 multiply-adds and no dot product.
// RUN: compiler-opt %s -p 'graph-optimize{level=3},convert-graph-to-loop,default-schedule{vector-bits=512 vector-registers=32 int-dot=vpdpwssd},apply-schedule,extract-params,convert-loop-to-scf{vector-bits=512},convert-to-llvm' -t llvm | filecheck %s --check-prefix=VNNI
// RUN: compiler-opt %s -p 'graph-optimize{level=3},convert-graph-to-loop,default-schedule{vector-bits=256 vector-registers=16 int-dot=vpdpwssd},apply-schedule,extract-params,convert-loop-to-scf{vector-bits=256},convert-to-llvm' -t llvm | filecheck %s --check-prefix=AVXVNNI
// RUN: compiler-opt %s -p 'graph-optimize{level=3},convert-graph-to-loop,default-schedule{vector-bits=256 vector-registers=16 int-dot=pmaddwd},apply-schedule,extract-params,convert-loop-to-scf{vector-bits=256},convert-to-llvm' -t llvm | filecheck %s --check-prefix=AVX2
// RUN: compiler-opt %s -p 'graph-optimize{level=3},convert-graph-to-loop,default-schedule{vector-bits=256 vector-registers=16 int-dot=none},apply-schedule,extract-params,convert-loop-to-scf{vector-bits=256},convert-to-llvm' -t llvm | filecheck %s --check-prefix=NONE

// The pair of inputs is one 32-bit broadcast (a <2 x i16> load shuffled to
// every lane pair), the weights of 16 (8) output channels x 2 input channels
// one contiguous <32 x i16> (<16 x i16>) load of the packed weight.
// VNNI:        define internal void @"conv_0"
// VNNI:          shufflevector <2 x i16> {{.*}}, <32 x i32> <i32 0, i32 1, i32 0, i32 1,
// VNNI:          load <32 x i16>
// VNNI:          call <16 x i32> @"llvm.x86.avx512.vpdpwssd.512"(<16 x i32>
// VNNI-NOT:      pmadd
// VNNI:        define void @"main"

// AVXVNNI:     define internal void @"conv_0"
// AVXVNNI:       call <8 x i32> @"llvm.x86.avx512.vpdpwssd.256"(<8 x i32>
// AVXVNNI:     define void @"main"

// AVX2:        define internal void @"conv_0"
// AVX2:          load <16 x i16>
// AVX2:          %[[D:.*]] = call <8 x i32> @"llvm.x86.avx2.pmadd.wd"(<16 x i16> {{.*}}, <16 x i16>
// AVX2-NEXT:     add <8 x i32> {{.*}}%[[D]]
// AVX2-NOT:      vpdp
// AVX2:        define void @"main"

// NONE:        define internal void @"conv_0"
// NONE-NOT:      pmadd
// NONE-NOT:      vpdp
// NONE:          sext <{{[0-9]+}} x i16> {{.*}} to <{{[0-9]+}} x i32>
// NONE:          mul <{{[0-9]+}} x i32>
// NONE:        define void @"main"

builtin.module {
  func.func @main(%q: tensor<1x32x6x6xi8>) -> tensor<1x32x6x6xi32> {
    %qi = graph.cast %q : (tensor<1x32x6x6xi8>) -> tensor<1x32x6x6xi32>
    %zp = graph.constant dense<5> : tensor<i32>
    %x = graph.sub %qi, %zp : (tensor<1x32x6x6xi32>, tensor<i32>) -> tensor<1x32x6x6xi32>
    %w = graph.constant dense<-7> : tensor<32x32x3x3xi32>
    %b = graph.constant dense<100> : tensor<32xi32>
    %c = graph.conv %x, %w, %b {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x32x6x6xi32>, tensor<32x32x3x3xi32>, tensor<32xi32>) -> tensor<1x32x6x6xi32>
    func.return %c : tensor<1x32x6x6xi32>
  }
}

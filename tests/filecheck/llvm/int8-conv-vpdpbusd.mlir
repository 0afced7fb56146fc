// An INT8 conv of u8 activations (int32(q) - zero point, q ui8) with i8
// weights: with `u8-dot` (the driver sets it on hosts with VNNI)
// narrow-integer-conv makes it read q itself and an i8 weight, the zero point
// compensated in the bias, and the default schedule with a VNNI target
// (`int-dot=vpdpwssd`: AVX-512 VNNI or AVX-VNNI, which have vpdpbusd too)
// takes vpdpbusd over groups of four input channels: four u8 x s8 products
// summed into each i32 lane and accumulated, one instruction. Without VNNI
// the same u8 graph runs the plain widening loop (zext x, sext w, i32
// multiply-add; exact, unlike pmaddubsw, which saturates), and the driver's
// own choice there (no u8-dot: i16 operands) takes pmaddwd. Everything target
// specific is pinned: the pass options and, for assembly, the CPU features.
// RUN: compiler-opt %s -p 'graph-optimize{level=3 u8-dot=true},convert-graph-to-loop,default-schedule{vector-bits=512 vector-registers=32 int-dot=vpdpwssd},apply-schedule,extract-params,convert-loop-to-scf{vector-bits=512},convert-to-llvm' -t llvm | filecheck %s --check-prefix=VNNI
// RUN: compiler-opt %s -p 'graph-optimize{level=3 u8-dot=true},convert-graph-to-loop,default-schedule{vector-bits=256 vector-registers=16 int-dot=vpdpwssd},apply-schedule,extract-params,convert-loop-to-scf{vector-bits=256},convert-to-llvm' -t llvm | filecheck %s --check-prefix=AVXVNNI
// RUN: compiler-opt %s -p 'graph-optimize{level=3 u8-dot=true},convert-graph-to-loop,default-schedule{vector-bits=512 vector-registers=32 int-dot=pmaddwd},apply-schedule,extract-params,convert-loop-to-scf{vector-bits=512},convert-to-llvm' -t llvm | filecheck %s --check-prefix=NOVNNI
// RUN: compiler-opt %s -p 'graph-optimize{level=3 u8-dot=true},convert-graph-to-loop,default-schedule{vector-bits=512 vector-registers=32 int-dot=vpdpwssd},apply-schedule,extract-params,convert-loop-to-scf{vector-bits=512},convert-to-llvm' -t 'asm{cpu=znver4 features="+avx512f,+avx512bw,+avx512vl,+avx512dq,+avx512vnni,+avx2,+fma"}' | filecheck %s --check-prefix=ASM-VNNI
// RUN: compiler-opt %s -p 'graph-optimize{level=3 u8-dot=true},convert-graph-to-loop,default-schedule{vector-bits=256 vector-registers=16 int-dot=vpdpwssd},apply-schedule,extract-params,convert-loop-to-scf{vector-bits=256},convert-to-llvm' -t 'asm{cpu=alderlake features="+avx2,+fma,+avxvnni,-avx512f,-avx512vl,-avx512vnni"}' | filecheck %s --check-prefix=ASM-AVXVNNI
// RUN: compiler-opt %s -p 'graph-optimize{level=3},convert-graph-to-loop,default-schedule{vector-bits=512 vector-registers=32 int-dot=pmaddwd},apply-schedule,extract-params,convert-loop-to-scf{vector-bits=512},convert-to-llvm' -t 'asm{cpu=skylake-avx512 features="+avx512f,+avx512bw,+avx512vl,+avx512dq,-avx512vnni,+avx2,+fma"}' | filecheck %s --check-prefix=ASM-NOVNNI

// The four inputs are one 32-bit broadcast (a <4 x i8> load shuffled to every
// lane), the weights of 16 (8) output channels x 4 input channels one
// contiguous <64 x i8> (<32 x i8>) load of the packed weight, passed as i32
// lanes (LLVM upgrades that form of the intrinsic to its <4N x i8> one).
// VNNI:        define internal void @"conv_0"
// VNNI:          shufflevector <4 x i8> {{.*}}, <64 x i32> <i32 0, i32 1, i32 2, i32 3, i32 0, i32 1, i32 2, i32 3,
// VNNI:          load <64 x i8>
// VNNI:          call <16 x i32> @"llvm.x86.avx512.vpdpbusd.512"(<16 x i32>
// VNNI-NOT:      pmadd
// VNNI-NOT:      vpdpwssd
// VNNI-NOT:      sext
// VNNI:        define void @"main"

// AVXVNNI:     define internal void @"conv_0"
// AVXVNNI:       load <32 x i8>
// AVXVNNI:       call <8 x i32> @"llvm.x86.avx512.vpdpbusd.256"(<8 x i32>
// AVXVNNI:     define void @"main"

// NOVNNI:      define internal void @"conv_0"
// NOVNNI-NOT:    vpdp
// NOVNNI-NOT:    pmadd
// NOVNNI:        zext i8 {{.*}} to i32
// NOVNNI:        sext <16 x i8> {{.*}} to <16 x i32>
// NOVNNI:        mul <16 x i32>
// NOVNNI:      define void @"main"

// ASM-VNNI:    vpdpbusd {{.*}}%zmm{{[0-9]+}}, %zmm{{[0-9]+}}, %zmm{{[0-9]+}}
// ASM-VNNI-NOT: vpmaddwd

// AVX-VNNI (no AVX-512) has the VEX-encoded 256-bit form.
// ASM-AVXVNNI: {vex} vpdpbusd {{.*}}%ymm{{[0-9]+}}, %ymm{{[0-9]+}}, %ymm{{[0-9]+}}

// ASM-NOVNNI-NOT: vpdpbusd
// ASM-NOVNNI:     vpmaddwd
// ASM-NOVNNI-NOT: vpdpbusd

builtin.module {
  func.func @main(%q: tensor<1x32x6x6xui8>) -> tensor<1x32x6x6xi32> {
    %qi = graph.cast %q : (tensor<1x32x6x6xui8>) -> tensor<1x32x6x6xi32>
    %zp = graph.constant dense<131> : tensor<i32>
    %x = graph.sub %qi, %zp : (tensor<1x32x6x6xi32>, tensor<i32>) -> tensor<1x32x6x6xi32>
    %w = graph.constant dense<-7> : tensor<32x32x3x3xi32>
    %b = graph.constant dense<100> : tensor<32xi32>
    %c = graph.conv %x, %w, %b {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x32x6x6xi32>, tensor<32x32x3x3xi32>, tensor<32xi32>) -> tensor<1x32x6x6xi32>
    func.return %c : tensor<1x32x6x6xi32>
  }
}

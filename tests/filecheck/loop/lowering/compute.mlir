// RUN: compiler-opt --split-input-file %s -p plan-memory,convert-graph-to-loop | filecheck %s
// RUN: compiler-opt --split-input-file %s -p plan-memory,convert-graph-to-loop | filecheck %s --check-prefix=PLAIN
// RUN: compiler-opt --split-input-file %s -p 'plan-memory,convert-graph-to-loop,default-schedule{vector-bits=256 vector-registers=16 threads=1},apply-schedule' | filecheck %s --check-prefix=SCHED

// Compute definitions: what one graph.fused group (or a lone op) becomes.
// The groups are written by hand in the shapes fuse-ops produces (see
// docs/graph-contracts.md); plan-memory runs first because the lowering needs
// the plan. The checks follow the loop structure and the important ops, not
// every index computation.
//
// A compute definition is the plain algorithm: no loop of any kernel is
// annotated (PLAIN); a reduction is an `init` nest, a `compute` nest and, with
// a fused epilogue, an `epilogue` nest, each marked on its outermost loop.
// Each kernel carries its workload (JSON) and a stable key for tuning
// records. The register tiles are the default schedule's (the SCHED lines:
// default-schedule + apply-schedule, AVX2-sized, one thread).

// PLAIN-NOT: {{axis "[^"]*" (vectorize|unroll|parallel)}}
// PLAIN-NOT: loop.schedule

// An injective group is one loop nest over the result: the add (with %b
// broadcast along d0), the mul by the scalar constant (inlined as an
// arith.constant, not a kernel argument) and the tanh are computed inline,
// with one store and no intermediate buffer. The second group is the same
// computation on other buffers: its kernel is the first one (dedup). The
// third differs in the constant: a kernel of its own.

// CHECK-LABEL: builtin.module
// CHECK:         func.func private @add_mul_tanh_0(%[[A:.*]]: memref<2x16xf32>, %[[B:.*]]: memref<16xf32>, %[[O:.*]]: memref<2x16xf32>) attributes {loop.kernel, loop.workload = "{{.*}}", loop.workload_key = "{{[0-9a-f]+}}"{{.*}}} {
// CHECK-NEXT:      loop.for %[[I:.*]] = 0 to 2 step 1 axis "d0" {
// CHECK-NEXT:        loop.for %[[J:.*]] = 0 to 16 step 1 axis "d1" {
// CHECK-NEXT:          %[[X:.*]] = memref.load %[[A]][%[[I]], %[[J]]] : memref<2x16xf32>
// CHECK-NEXT:          %[[Y:.*]] = memref.load %[[B]][%[[J]]] : memref<16xf32>
// CHECK-NEXT:          %[[S:.*]] = arith.addf %[[X]], %[[Y]] : f32
// CHECK-NEXT:          %[[K:.*]] = arith.constant 3.000000e+00 : f32
// CHECK-NEXT:          %[[M:.*]] = arith.mulf %[[S]], %[[K]] : f32
// CHECK-NEXT:          %[[T:.*]] = math.tanh %[[M]] : f32
// CHECK-NEXT:          memref.store %[[T]], %[[O]][%[[I]], %[[J]]] : memref<2x16xf32>
// CHECK-NEXT:        }
// CHECK-NEXT:      }
// CHECK-NEXT:      func.return
// CHECK:         func.func private @[[OTHER:add_mul_tanh_[0-9]+]](
// CHECK:               arith.constant 4.000000e+00 : f32
// CHECK-NOT:     func.func private
// CHECK:         func.func @main(%x: memref<2x16xf32>, %y: memref<16xf32>, %z: memref<2x16xf32>, %out: memref<2x16xf32>, %out_1: memref<2x16xf32>, %out_2: memref<2x16xf32>, %arena: memref<1xi8> {graph.name = "arena"})
// CHECK-NEXT:      func.call @add_mul_tanh_0(%x, %y, %out)
// CHECK-NEXT:      func.call @add_mul_tanh_0(%z, %y, %out_1)
// CHECK-NEXT:      func.call @[[OTHER]](%z, %y, %out_2)
// CHECK-NEXT:      func.return
func.func @main(%x: tensor<2x16xf32>, %y: tensor<16xf32>, %z: tensor<2x16xf32>) -> (tensor<2x16xf32>, tensor<2x16xf32>, tensor<2x16xf32>) {
  %f1 = graph.fused(%x, %y) {kind = "injective"} : (tensor<2x16xf32>, tensor<16xf32>) -> tensor<2x16xf32> {
  ^bb0(%a: tensor<2x16xf32>, %b: tensor<16xf32>):
    %k = graph.constant dense<3.0> : tensor<f32>
    %s = graph.add %a, %b : (tensor<2x16xf32>, tensor<16xf32>) -> tensor<2x16xf32>
    %m = graph.mul %s, %k : (tensor<2x16xf32>, tensor<f32>) -> tensor<2x16xf32>
    %t = graph.tanh %m : (tensor<2x16xf32>) -> tensor<2x16xf32>
    graph.yield %t : tensor<2x16xf32>
  }
  %f2 = graph.fused(%z, %y) {kind = "injective"} : (tensor<2x16xf32>, tensor<16xf32>) -> tensor<2x16xf32> {
  ^bb0(%a: tensor<2x16xf32>, %b: tensor<16xf32>):
    %k = graph.constant dense<3.0> : tensor<f32>
    %s = graph.add %a, %b : (tensor<2x16xf32>, tensor<16xf32>) -> tensor<2x16xf32>
    %m = graph.mul %s, %k : (tensor<2x16xf32>, tensor<f32>) -> tensor<2x16xf32>
    %t = graph.tanh %m : (tensor<2x16xf32>) -> tensor<2x16xf32>
    graph.yield %t : tensor<2x16xf32>
  }
  %f3 = graph.fused(%z, %y) {kind = "injective"} : (tensor<2x16xf32>, tensor<16xf32>) -> tensor<2x16xf32> {
  ^bb0(%a: tensor<2x16xf32>, %b: tensor<16xf32>):
    %k = graph.constant dense<4.0> : tensor<f32>
    %s = graph.add %a, %b : (tensor<2x16xf32>, tensor<16xf32>) -> tensor<2x16xf32>
    %m = graph.mul %s, %k : (tensor<2x16xf32>, tensor<f32>) -> tensor<2x16xf32>
    %t = graph.tanh %m : (tensor<2x16xf32>) -> tensor<2x16xf32>
    graph.yield %t : tensor<2x16xf32>
  }
  func.return %f1, %f2, %f3 : tensor<2x16xf32>, tensor<2x16xf32>, tensor<2x16xf32>
}

// -----

// conv + bias + relu (complex-out-fusable), plain NCHW. The plain algorithm:
// an init nest zeroes the output, the compute nest accumulates over (kh, kw)
// one guarded input element (an in-range test and a select of 0.0 outside)
// times one weight, and the bias + relu epilogue is a nest of its own that
// rewrites the output. The unit batch dim, the single group and the single
// input channel get no loop. Both weights are globals passed as kernel
// arguments.
//
// Scheduled (SCHED), per output row (oh) a local tile of 2 output channels x
// 4 columns is initialized ("ow.init*" vectorized, "co.init*" unrolled),
// accumulated over (kh, kw) with the input vector reused across the channels
// ("co" unrolled inside the vectorized "ow"), and the bias + relu epilogue
// runs on the tile as it is written back ("ow.wb" / "co.wb"); the init and
// epilogue stages are gone.

// CHECK-LABEL: builtin.module
// CHECK:         "memref.global"() <{sym_name = "[[WG:__constant_[0-9]+]]", type = memref<2x1x3x3xf32>
// CHECK:         "memref.global"() <{sym_name = "[[BG:__constant_[0-9]+]]", type = memref<2x1x1xf32>
// CHECK:         func.func private @conv_add_relu_0(%[[X:.*]]: memref<1x1x4x4xf32>, %[[W:.*]]: memref<2x1x3x3xf32>, %[[B:.*]]: memref<2x1x1xf32>, %[[O:.*]]: memref<1x2x4x4xf32>) attributes {loop.kernel, loop.algorithm = "conv2d_nchw", loop.workload = "{{.*}}", loop.workload_key = "{{[0-9a-f]+}}"{{.*}}} {
// CHECK-NOT:       memref.alloca
// CHECK:           loop.for %[[CI:.*]] = 0 to 2 step 1 axis "co.init" stage "init" {
// CHECK-NEXT:        loop.for %[[HI:.*]] = 0 to 4 step 1 axis "oh.init" {
// CHECK-NEXT:          loop.for %[[WI:.*]] = 0 to 4 step 1 axis "ow.init" {
// CHECK:                 %[[CHI:.*]] = arith.addi %{{.*}}, %[[CI]] : index
// CHECK-NEXT:            %[[Z:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT:            memref.store %[[Z]], %[[O]][%{{.*}}, %[[CHI]], %[[HI]], %[[WI]]] : memref<1x2x4x4xf32>
// CHECK:           loop.for %[[CO:.*]] = 0 to 2 step 1 axis "co" stage "compute" {
// CHECK-NEXT:        loop.for %[[OH:.*]] = 0 to 4 step 1 axis "oh" {
// CHECK-NEXT:          loop.for %[[OW:.*]] = 0 to 4 step 1 axis "ow" {
// CHECK:                 loop.for %[[KH:.*]] = 0 to 3 step 1 axis "kh" {
// CHECK-NEXT:              loop.for %[[KW:.*]] = 0 to 3 step 1 axis "kw" {
// CHECK:                     arith.cmpi sge
// CHECK:                     arith.cmpi slt
// CHECK:                     %[[XV:.*]] = memref.load %[[X]]
// CHECK:                     %[[GUARDED:.*]] = arith.select %{{.*}}, %[[XV]], %{{.*}} : f32
// CHECK:                     %[[CH:.*]] = arith.addi %{{.*}}, %[[CO]] : index
// CHECK-NEXT:                %[[WV:.*]] = memref.load %[[W]][%[[CH]], %{{.*}}, %[[KH]], %[[KW]]] : memref<2x1x3x3xf32>
// CHECK-NEXT:                %[[A:.*]] = memref.load %[[O]][%{{.*}}, %[[CH]], %[[OH]], %[[OW]]] : memref<1x2x4x4xf32>
// CHECK-NEXT:                %[[P:.*]] = arith.mulf %[[GUARDED]], %[[WV]] : f32
// CHECK-NEXT:                %[[SUM:.*]] = arith.addf %[[A]], %[[P]] : f32
// CHECK-NEXT:                memref.store %[[SUM]], %[[O]][%{{.*}}, %[[CH]], %[[OH]], %[[OW]]] : memref<1x2x4x4xf32>
// CHECK:           loop.for %[[E1:.*]] = 0 to 2 step 1 axis "d1.epi" stage "epilogue" {
// CHECK-NEXT:        loop.for %[[E2:.*]] = 0 to 4 step 1 axis "d2.epi" {
// CHECK-NEXT:          loop.for %[[E3:.*]] = 0 to 4 step 1 axis "d3.epi" {
// CHECK-NEXT:            %[[V:.*]] = memref.load %[[O]][%{{.*}}, %[[E1]], %[[E2]], %[[E3]]] : memref<1x2x4x4xf32>
// CHECK:                 %[[BV:.*]] = memref.load %[[B]][%[[E1]], %{{.*}}, %{{.*}}] : memref<2x1x1xf32>
// CHECK-NEXT:            %[[VB:.*]] = arith.addf %[[V]], %[[BV]] : f32
// CHECK-NEXT:            %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT:            %[[R:.*]] = arith.maximumf %[[VB]], %[[ZERO]] : f32
// CHECK-NEXT:            memref.store %[[R]], %[[O]][%{{.*}}, %[[E1]], %[[E2]], %[[E3]]] : memref<1x2x4x4xf32>
// CHECK-NOT:       memref.alloca
// CHECK:         func.func @main(%x: memref<1x1x4x4xf32>, %out: memref<1x2x4x4xf32>, %arena: memref<1xi8> {graph.name = "arena"})
// CHECK-NEXT:      %[[WP:.*]] = memref.get_global @[[WG]] : memref<2x1x3x3xf32>
// CHECK-NEXT:      %[[BP:.*]] = memref.get_global @[[BG]] : memref<2x1x1xf32>
// CHECK-NEXT:      func.call @conv_add_relu_0(%x, %[[WP]], %[[BP]], %out)
// CHECK-NEXT:      func.return

// SCHED-LABEL: func.func private @conv_add_relu_0(
// SCHED-SAME:    %[[X:.*]]: memref<1x1x4x4xf32>, %[[W:.*]]: memref<2x1x3x3xf32>, %[[B:.*]]: memref<2x1x1xf32>, %[[O:.*]]: memref<1x2x4x4xf32>)
// SCHED-SAME:      loop.schedule = "{{.*}}cache_write{{.*}}", loop.scheduled} {
// SCHED-NOT:       stage "init"
// SCHED:           loop.for %[[OH:.*]] = 0 to 4 step 1 axis "oh" stage "compute" {
// SCHED-NEXT:        %[[ACC:.*]] = memref.alloca() : memref<1x2x1x4xf32>
// SCHED-NEXT:        loop.for %[[WI:.*]] = 0 to 4 step 1 axis "ow.init{{[0-9]*}}" vectorize {
// SCHED-NEXT:          loop.for %[[CI:.*]] = 0 to 2 step 1 axis "co.init{{[0-9]*}}" unroll {
// SCHED:                 %[[Z:.*]] = arith.constant 0.000000e+00 : f32
// SCHED-NEXT:            memref.store %[[Z]], %[[ACC]][%{{.*}}, %[[CI]], %{{.*}}, %[[WI]]] : memref<1x2x1x4xf32>
// SCHED:             loop.for %[[KH:.*]] = 0 to 3 step 1 axis "kh" {
// SCHED-NEXT:          loop.for %[[KW:.*]] = 0 to 3 step 1 axis "kw" {
// SCHED-NEXT:            loop.for %[[OW:.*]] = 0 to 4 step 1 axis "ow" vectorize {
// SCHED-NEXT:              loop.for %[[CO:.*]] = 0 to 2 step 1 axis "co" unroll {
// SCHED:                     %[[XV:.*]] = memref.load %[[X]]
// SCHED:                     %[[GUARDED:.*]] = arith.select %{{.*}}, %[[XV]], %{{.*}} : f32
// SCHED:                     %[[CH:.*]] = arith.addi %{{.*}}, %[[CO]] : index
// SCHED-NEXT:                %[[WV:.*]] = memref.load %[[W]][%[[CH]], %{{.*}}, %[[KH]], %[[KW]]] : memref<2x1x3x3xf32>
// SCHED:                     %[[A:.*]] = memref.load %[[ACC]][%{{.*}}, %[[CO]], %{{.*}}, %[[OW]]] : memref<1x2x1x4xf32>
// SCHED-NEXT:                %[[P:.*]] = arith.mulf %[[GUARDED]], %[[WV]] : f32
// SCHED-NEXT:                %[[SUM:.*]] = arith.addf %[[A]], %[[P]] : f32
// SCHED:                     memref.store %[[SUM]], %[[ACC]][%{{.*}}, %[[CO]], %{{.*}}, %[[OW]]] : memref<1x2x1x4xf32>
// SCHED:             loop.for %[[WB:.*]] = 0 to 4 step 1 axis "ow.wb" vectorize {
// SCHED-NEXT:          loop.for %[[CB:.*]] = 0 to 2 step 1 axis "co.wb" unroll {
// SCHED:                 %[[V:.*]] = memref.load %[[ACC]][%{{.*}}, %[[CB]], %{{.*}}, %[[WB]]] : memref<1x2x1x4xf32>
// SCHED:                 %[[BV:.*]] = memref.load %[[B]][%[[CB]], %{{.*}}, %{{.*}}] : memref<2x1x1xf32>
// SCHED-NEXT:            %[[VB:.*]] = arith.addf %[[V]], %[[BV]] : f32
// SCHED-NEXT:            %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// SCHED-NEXT:            %[[R:.*]] = arith.maximumf %[[VB]], %[[ZERO]] : f32
// SCHED:                 memref.store %[[R]], %[[O]][%{{.*}}, %[[CB]], %[[OH]], %[[WB]]] : memref<1x2x4x4xf32>
// SCHED-NOT:       stage "epilogue"
// SCHED:         func.func @main
func.func @main(%x: tensor<1x1x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %w = graph.constant dense<[[[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]], [[[-1.0, -2.0, -3.0], [-4.0, -5.0, -6.0], [-7.0, -8.0, -9.0]]]]> : tensor<2x1x3x3xf32>
  %b = graph.constant dense<[[[0.5]], [[-0.5]]]> : tensor<2x1x1xf32>
  %y = graph.fused(%x, %w, %b) {kind = "complex-out-fusable"} : (tensor<1x1x4x4xf32>, tensor<2x1x3x3xf32>, tensor<2x1x1xf32>) -> tensor<1x2x4x4xf32> {
  ^bb0(%xa: tensor<1x1x4x4xf32>, %wa: tensor<2x1x3x3xf32>, %ba: tensor<2x1x1xf32>):
    %c = graph.conv %xa, %wa {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x1x4x4xf32>, tensor<2x1x3x3xf32>) -> tensor<1x2x4x4xf32>
    %a = graph.add %c, %ba : (tensor<1x2x4x4xf32>, tensor<2x1x1xf32>) -> tensor<1x2x4x4xf32>
    %r = graph.relu %a : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
    graph.yield %r : tensor<1x2x4x4xf32>
  }
  func.return %y : tensor<1x2x4x4xf32>
}

// -----

// matmul + bias: the plain reduction (init, compute over (m, n, k), and the
// bias add as an epilogue nest).
//
// Scheduled (SCHED), two rows are a matrix-vector product: per row, the row
// of columns accumulates in a local buffer (kept in registers by LLVM) over k
// with the columns innermost (vectorized); the bias add runs on it as it is
// written back ("n.wb").

// CHECK-LABEL: builtin.module
// CHECK:         func.func private @matmul_add_0(%[[A:.*]]: memref<2x4xf32>, %[[W:.*]]: memref<4x3xf32>, %[[B:.*]]: memref<3xf32>, %[[O:.*]]: memref<2x3xf32>) attributes {loop.kernel, loop.algorithm = "matmul", loop.workload = "{{.*}}", loop.workload_key = "{{[0-9a-f]+}}"{{.*}}} {
// CHECK-NEXT:      loop.for %[[MI:.*]] = 0 to 2 step 1 axis "m.init" stage "init" {
// CHECK-NEXT:        loop.for %[[NI:.*]] = 0 to 3 step 1 axis "n.init" {
// CHECK-NEXT:          %[[Z:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT:          memref.store %[[Z]], %[[O]][%[[MI]], %[[NI]]] : memref<2x3xf32>
// CHECK-NEXT:        }
// CHECK-NEXT:      }
// CHECK-NEXT:      loop.for %[[M:.*]] = 0 to 2 step 1 axis "m" stage "compute" {
// CHECK-NEXT:        loop.for %[[N:.*]] = 0 to 3 step 1 axis "n" {
// CHECK-NEXT:          loop.for %[[K:.*]] = 0 to 4 step 1 axis "k" {
// CHECK-NEXT:            %[[AV:.*]] = memref.load %[[A]][%[[M]], %[[K]]] : memref<2x4xf32>
// CHECK-NEXT:            %[[WV:.*]] = memref.load %[[W]][%[[K]], %[[N]]] : memref<4x3xf32>
// CHECK-NEXT:            %[[C:.*]] = memref.load %[[O]][%[[M]], %[[N]]] : memref<2x3xf32>
// CHECK-NEXT:            %[[P:.*]] = arith.mulf %[[AV]], %[[WV]] : f32
// CHECK-NEXT:            %[[S:.*]] = arith.addf %[[C]], %[[P]] : f32
// CHECK-NEXT:            memref.store %[[S]], %[[O]][%[[M]], %[[N]]] : memref<2x3xf32>
// CHECK-NEXT:          }
// CHECK-NEXT:        }
// CHECK-NEXT:      }
// CHECK-NEXT:      loop.for %[[EM:.*]] = 0 to 2 step 1 axis "m.epi" stage "epilogue" {
// CHECK-NEXT:        loop.for %[[EN:.*]] = 0 to 3 step 1 axis "n.epi" {
// CHECK-NEXT:          %[[V:.*]] = memref.load %[[O]][%[[EM]], %[[EN]]] : memref<2x3xf32>
// CHECK-NEXT:          %[[BV:.*]] = memref.load %[[B]][%[[EN]]] : memref<3xf32>
// CHECK-NEXT:          %[[R:.*]] = arith.addf %[[V]], %[[BV]] : f32
// CHECK-NEXT:          memref.store %[[R]], %[[O]][%[[EM]], %[[EN]]] : memref<2x3xf32>
// CHECK-NEXT:        }
// CHECK-NEXT:      }
// CHECK-NEXT:      func.return
// CHECK:         func.func @main(%x: memref<2x4xf32>, %w: memref<4x3xf32>, %b: memref<3xf32>, %out: memref<2x3xf32>, %arena: memref<1xi8> {graph.name = "arena"})
// CHECK-NEXT:      func.call @matmul_add_0(%x, %w, %b, %out)

// SCHED-LABEL: func.func private @matmul_add_0(
// SCHED-SAME:    %[[A:.*]]: memref<2x4xf32>, %[[W:.*]]: memref<4x3xf32>, %[[B:.*]]: memref<3xf32>, %[[O:.*]]: memref<2x3xf32>)
// SCHED-SAME:      loop.schedule = "{{.*}}cache_write{{.*}}", loop.scheduled} {
// SCHED-NEXT:      loop.for %[[M:.*]] = 0 to 2 step 1 axis "m" stage "compute" {
// SCHED-NEXT:        %[[ACC:.*]] = memref.alloca() : memref<1x3xf32>
// SCHED-NEXT:        loop.for %[[NI:.*]] = 0 to 3 step 1 axis "n.init{{[0-9]*}}" vectorize {
// SCHED:               %[[Z:.*]] = arith.constant 0.000000e+00 : f32
// SCHED-NEXT:          memref.store %[[Z]], %[[ACC]][%{{.*}}, %[[NI]]] : memref<1x3xf32>
// Few rows: the reduction is unrolled and jammed into the column loop (jam_k).
// SCHED:             loop.for %[[KO:.*]] = 0 to 2 step 1 axis "k.outer" {
// SCHED-NEXT:          loop.for %[[N:.*]] = 0 to 3 step 1 axis "n" vectorize {
// SCHED-NEXT:            loop.for %[[KI:.*]] = 0 to 2 step 1 axis "k.inner" unroll {
// SCHED:                 %[[K:.*]] = arith.addi %{{.*}}, %[[KI]] : index
// SCHED-NEXT:            %[[AV:.*]] = memref.load %[[A]][%[[M]], %[[K]]] : memref<2x4xf32>
// SCHED-NEXT:            %[[WV:.*]] = memref.load %[[W]][%[[K]], %[[N]]] : memref<4x3xf32>
// SCHED:                 %[[S0:.*]] = memref.load %[[ACC]][%{{.*}}, %[[N]]] : memref<1x3xf32>
// SCHED-NEXT:            %[[P:.*]] = arith.mulf %[[AV]], %[[WV]] : f32
// SCHED-NEXT:            %[[S:.*]] = arith.addf %[[S0]], %[[P]] : f32
// SCHED:                 memref.store %[[S]], %[[ACC]][%{{.*}}, %[[N]]] : memref<1x3xf32>
// SCHED:             loop.for %[[E:.*]] = 0 to 3 step 1 axis "n.wb" vectorize {
// SCHED:               %[[V:.*]] = memref.load %[[ACC]][%{{.*}}, %[[E]]] : memref<1x3xf32>
// SCHED-NEXT:          %[[BV:.*]] = memref.load %[[B]][%[[E]]] : memref<3xf32>
// SCHED-NEXT:          %[[R:.*]] = arith.addf %[[V]], %[[BV]] : f32
// SCHED-NEXT:          memref.store %[[R]], %[[O]][%[[M]], %[[E]]] : memref<2x3xf32>
// SCHED-NOT:       stage
// SCHED:         func.func @main
func.func @main(%x: tensor<2x4xf32>, %w: tensor<4x3xf32>, %b: tensor<3xf32>) -> tensor<2x3xf32> {
  %y = graph.fused(%x, %w, %b) {kind = "complex-out-fusable"} : (tensor<2x4xf32>, tensor<4x3xf32>, tensor<3xf32>) -> tensor<2x3xf32> {
  ^bb0(%xa: tensor<2x4xf32>, %wa: tensor<4x3xf32>, %ba: tensor<3xf32>):
    %m = graph.matmul %xa, %wa : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
    %a = graph.add %m, %ba : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
    graph.yield %a : tensor<2x3xf32>
  }
  func.return %y : tensor<2x3xf32>
}

// -----

// A reduction with an injective prologue and an epilogue: t = transpose(
// reshape(x * 2)) is never stored; the reduction loop reads x at the
// composed index (x[d2, d0 * 2 + d1]) and multiplies inline. Three nests:
// init, accumulate, and the output nest running the bias add.

// CHECK-LABEL: builtin.module
// CHECK:         func.func private @reduce_sum_mul_reshape_0(%[[X:.*]]: memref<2x6xf32>, %[[V:.*]]: memref<2xf32>, %[[O:.*]]: memref<3x2xf32>) attributes {loop.kernel, loop.workload = "{{.*}}", loop.workload_key = "{{[0-9a-f]+}}"{{.*}}} {
// CHECK-NEXT:      loop.for %{{.*}} = 0 to 3 step 1 axis "d0.init" {
// CHECK-NEXT:        loop.for %{{.*}} = 0 to 2 step 1 axis "d1.init" {
// CHECK:               arith.constant 0.000000e+00 : f32
// CHECK-NEXT:          memref.store
// CHECK:           loop.for %[[D0:.*]] = 0 to 3 step 1 axis "d0" {
// CHECK-NEXT:        loop.for %[[D1:.*]] = 0 to 2 step 1 axis "d1" {
// CHECK-NEXT:          loop.for %[[D2:.*]] = 0 to 2 step 1 axis "d2" {
// CHECK:                 %[[TWO:.*]] = arith.constant 2 : index
// CHECK-NEXT:            %[[R:.*]] = arith.muli %[[D0]], %[[TWO]] : index
// CHECK-NEXT:            %[[COL:.*]] = arith.addi %[[R]], %[[D1]] : index
// CHECK-NEXT:            %[[XV:.*]] = memref.load %[[X]][%[[D2]], %[[COL]]] : memref<2x6xf32>
// CHECK-NEXT:            %[[K:.*]] = arith.constant 2.000000e+00 : f32
// CHECK-NEXT:            %[[XK:.*]] = arith.mulf %[[XV]], %[[K]] : f32
// CHECK-NEXT:            %[[ACC:.*]] = memref.load %[[O]][%[[D0]], %[[D1]]] : memref<3x2xf32>
// CHECK-NEXT:            %[[S:.*]] = arith.addf %[[ACC]], %[[XK]] : f32
// CHECK-NEXT:            memref.store %[[S]], %[[O]][%[[D0]], %[[D1]]] : memref<3x2xf32>
// CHECK:           loop.for %[[E0:.*]] = 0 to 3 step 1 axis "d0.out" {
// CHECK-NEXT:        loop.for %[[E1:.*]] = 0 to 2 step 1 axis "d1.out" {
// CHECK-NEXT:          %[[RV:.*]] = memref.load %[[O]][%[[E0]], %[[E1]]] : memref<3x2xf32>
// CHECK-NEXT:          %[[BV:.*]] = memref.load %[[V]][%[[E1]]] : memref<2xf32>
// CHECK-NEXT:          %[[Y:.*]] = arith.addf %[[RV]], %[[BV]] : f32
// CHECK-NEXT:          memref.store %[[Y]], %[[O]][%[[E0]], %[[E1]]] : memref<3x2xf32>
// CHECK-NOT:     memref.alloca
// CHECK:         func.func @main(%x: memref<2x6xf32>, %out: memref<3x2xf32>, %arena: memref<1xi8> {graph.name = "arena"})
// CHECK-NEXT:      %[[G:.*]] = memref.get_global
// CHECK-NEXT:      func.call @reduce_sum_mul_reshape_0(%x, %[[G]], %out)
func.func @main(%x: tensor<2x6xf32>) -> tensor<3x2xf32> {
  %v = graph.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %y = graph.fused(%x, %v) {kind = "reduction"} : (tensor<2x6xf32>, tensor<2xf32>) -> tensor<3x2xf32> {
  ^bb0(%xa: tensor<2x6xf32>, %va: tensor<2xf32>):
    %k = graph.constant dense<2.0> : tensor<f32>
    %m = graph.mul %xa, %k : (tensor<2x6xf32>, tensor<f32>) -> tensor<2x6xf32>
    %s = graph.reshape %m : (tensor<2x6xf32>) -> tensor<2x3x2xf32>
    %t = graph.transpose %s {perm = array<i64: 1, 2, 0>} : (tensor<2x3x2xf32>) -> tensor<3x2x2xf32>
    %a = graph.reduce_sum %t {axes = array<i64: 2>, keepdims = 0 : i64} : (tensor<3x2x2xf32>) -> tensor<3x2xf32>
    %b = graph.add %a, %va : (tensor<3x2xf32>, tensor<2xf32>) -> tensor<3x2xf32>
    graph.yield %b : tensor<3x2xf32>
  }
  func.return %y : tensor<3x2xf32>
}

// -----

// Softmax over the last axis with a scale prologue (attention's x / sqrt(d)):
// per row, a running max and a running sum in two one-element allocas
// (inside the row loop, so each thread has its own when rows run in parallel); the
// "max" and "exp" loops recompute the scaled input inline; "exp" stores
// exp(x - max) into the output and "norm" multiplies it by 1 / sum.
// LogSoftmax over axis 0 walks the columns: the row loops run along d0, and
// "norm" subtracts log(sum) from the stored x - max.

// CHECK-LABEL: builtin.module
// CHECK:         func.func private @softmax_mul_0(%[[X:.*]]: memref<2x8xf32>, %[[O:.*]]: memref<2x8xf32>) attributes {loop.kernel, loop.workload = "{{.*}}", loop.workload_key = "{{[0-9a-f]+}}"{{.*}}} {
// CHECK:           loop.for %[[ROW:.*]] = 0 to 2 step 1 axis "d0" {
// CHECK:             %[[MAX:.*]] = memref.alloca() : memref<1xf32>
// CHECK-NEXT:        %[[SUM:.*]] = memref.alloca() : memref<1xf32>
// CHECK:             arith.constant 0xff800000 : f32
// CHECK-NEXT:        memref.store %{{.*}}, %[[MAX]]
// CHECK-NEXT:        loop.for %[[C1:.*]] = 0 to 8 step 1 axis "max" {
// CHECK-NEXT:          %[[V1:.*]] = memref.load %[[X]][%[[ROW]], %[[C1]]] : memref<2x8xf32>
// CHECK-NEXT:          %[[S1:.*]] = arith.constant 1.250000e-01 : f32
// CHECK-NEXT:          %[[XS1:.*]] = arith.mulf %[[V1]], %[[S1]] : f32
// CHECK-NEXT:          %[[M1:.*]] = memref.load %[[MAX]]
// CHECK-NEXT:          %[[M2:.*]] = arith.maximumf %[[M1]], %[[XS1]] : f32
// CHECK-NEXT:          memref.store %[[M2]], %[[MAX]]
// CHECK:             memref.store %{{.*}}, %[[SUM]]
// CHECK-NEXT:        loop.for %[[C2:.*]] = 0 to 8 step 1 axis "exp" {
// CHECK-NEXT:          %[[V2:.*]] = memref.load %[[X]][%[[ROW]], %[[C2]]] : memref<2x8xf32>
// CHECK-NEXT:          arith.constant 1.250000e-01 : f32
// CHECK-NEXT:          %[[XS2:.*]] = arith.mulf %[[V2]]
// CHECK-NEXT:          %[[M3:.*]] = memref.load %[[MAX]]
// CHECK-NEXT:          %[[D:.*]] = arith.subf %[[XS2]], %[[M3]] : f32
// CHECK-NEXT:          %[[E:.*]] = math.exp %[[D]] : f32
// CHECK-NEXT:          %[[S2:.*]] = memref.load %[[SUM]]
// CHECK-NEXT:          %[[S3:.*]] = arith.addf %[[S2]], %[[E]] : f32
// CHECK-NEXT:          memref.store %[[S3]], %[[SUM]]
// CHECK-NEXT:          memref.store %[[E]], %[[O]][%[[ROW]], %[[C2]]] : memref<2x8xf32>
// CHECK:             loop.for %[[C3:.*]] = 0 to 8 step 1 axis "norm" {
// CHECK-NEXT:          %[[V3:.*]] = memref.load %[[O]][%[[ROW]], %[[C3]]] : memref<2x8xf32>
// CHECK-NEXT:          %[[S4:.*]] = memref.load %[[SUM]]
// CHECK-NEXT:          %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-NEXT:          %[[INV:.*]] = arith.divf %[[ONE]], %[[S4]] : f32
// CHECK-NEXT:          %[[N:.*]] = arith.mulf %[[V3]], %[[INV]] : f32
// CHECK-NEXT:          memref.store %[[N]], %[[O]][%[[ROW]], %[[C3]]] : memref<2x8xf32>
// CHECK:         func.func private @log_softmax_0(%[[LX:.*]]: memref<2x8xf32>, %[[LO:.*]]: memref<2x8xf32>) attributes {loop.kernel, loop.workload = "{{.*}}", loop.workload_key = "{{[0-9a-f]+}}"{{.*}}} {
// CHECK:           loop.for %[[COL:.*]] = 0 to 8 step 1 axis "d1" {
// CHECK:             loop.for %[[R1:.*]] = 0 to 2 step 1 axis "max" {
// CHECK-NEXT:          memref.load %[[LX]][%[[R1]], %[[COL]]] : memref<2x8xf32>
// CHECK:             loop.for %{{.*}} = 0 to 2 step 1 axis "exp" {
// CHECK:             loop.for %[[R3:.*]] = 0 to 2 step 1 axis "norm" {
// CHECK-NEXT:          %[[LV:.*]] = memref.load %[[LO]][%[[R3]], %[[COL]]] : memref<2x8xf32>
// CHECK-NEXT:          %[[LS:.*]] = memref.load
// CHECK-NEXT:          %[[LOG:.*]] = math.log %[[LS]] : f32
// CHECK-NEXT:          %[[LR:.*]] = arith.subf %[[LV]], %[[LOG]] : f32
// CHECK-NEXT:          memref.store %[[LR]], %[[LO]][%[[R3]], %[[COL]]] : memref<2x8xf32>
// CHECK:         func.func @main(%x: memref<2x8xf32>, %out: memref<2x8xf32>, %out_1: memref<2x8xf32>, %arena: memref<1xi8> {graph.name = "arena"})
// CHECK-NEXT:      func.call @softmax_mul_0(%x, %out)
// CHECK-NEXT:      func.call @log_softmax_0(%x, %out_1)
func.func @main(%x: tensor<2x8xf32>) -> (tensor<2x8xf32>, tensor<2x8xf32>) {
  %p = graph.fused(%x) {kind = "reduction"} : (tensor<2x8xf32>) -> tensor<2x8xf32> {
  ^bb0(%xa: tensor<2x8xf32>):
    %k = graph.constant dense<0.125> : tensor<f32>
    %m = graph.mul %xa, %k : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
    %s = graph.softmax %m {axis = 1 : i64} : (tensor<2x8xf32>) -> tensor<2x8xf32>
    graph.yield %s : tensor<2x8xf32>
  }
  %l = graph.log_softmax %x {axis = 0 : i64} : (tensor<2x8xf32>) -> tensor<2x8xf32>
  func.return %p, %l : tensor<2x8xf32>, tensor<2x8xf32>
}

// -----

// A blocked conv (NCHW16c in and out, weight packed OIHW16i16o) with a bias
// and a relu: TVM's conv2d_NCHWc. The plain algorithm: the init nest stores
// the bias into the output, the compute nest accumulates one guarded input
// element times one weight over (icb, kh, kw, ii) (the single input block
// gets no loop), and the relu is an epilogue nest.
//
// Scheduled (SCHED, AVX2: 8 lanes, 16 registers), a 5x16 register tile (5
// output columns x 16 output channels) lives in a memref.alloca inside the
// column-tile loop "ow.outer"; the column loops are unrolled and the channel
// loops vectorized. The accumulation broadcasts one input element (loaded
// outside "oc") times one weight vector. The output width 13 is two full
// tiles of 5 and a remainder tile of three columns starting at column 10
// (the ".tail" loops): 6+6+1 would leave the last tile's FMA chains short. The bias is the tile's initial value and the relu runs
// on the tile as it is written back.

// CHECK-LABEL: builtin.module
// CHECK:         func.func private @conv_relu_0(%[[X:.*]]: memref<1x1x2x13x16xf32>, %[[W:.*]]: memref<2x1x3x3x16x16xf32>, %[[B:.*]]: memref<32xf32>, %[[O:.*]]: memref<1x2x2x13x16xf32>) attributes {loop.kernel, loop.algorithm = "conv2d_NCHWc", loop.workload = "{{.*}}", loop.workload_key = "{{[0-9a-f]+}}"{{.*}}} {
// CHECK-NOT:       memref.alloca
// CHECK:           loop.for %[[BI:.*]] = 0 to 2 step 1 axis "ob.init" stage "init" {
// CHECK-NEXT:        loop.for %[[HI:.*]] = 0 to 2 step 1 axis "oh.init" {
// CHECK-NEXT:          loop.for %[[WI:.*]] = 0 to 13 step 1 axis "ow.init" {
// CHECK-NEXT:            loop.for %[[CI:.*]] = 0 to 16 step 1 axis "oc.init" {
// CHECK:                   %[[CH:.*]] = arith.addi %{{.*}}, %[[CI]] : index
// CHECK-NEXT:              %[[BV:.*]] = memref.load %[[B]][%[[CH]]] : memref<32xf32>
// CHECK-NEXT:              memref.store %[[BV]], %[[O]][%{{.*}}, %[[BI]], %[[HI]], %[[WI]], %[[CI]]] : memref<1x2x2x13x16xf32>
// CHECK:           loop.for %[[OB:.*]] = 0 to 2 step 1 axis "ob" stage "compute" {
// CHECK-NEXT:        loop.for %[[OH:.*]] = 0 to 2 step 1 axis "oh" {
// CHECK-NEXT:          loop.for %[[OW:.*]] = 0 to 13 step 1 axis "ow" {
// CHECK-NEXT:            loop.for %[[OC:.*]] = 0 to 16 step 1 axis "oc" {
// CHECK:                   loop.for %[[KH:.*]] = 0 to 3 step 1 axis "kh" {
// CHECK-NEXT:                loop.for %[[KW:.*]] = 0 to 3 step 1 axis "kw" {
// CHECK-NEXT:                  loop.for %[[II:.*]] = 0 to 16 step 1 axis "ii" {
// CHECK:                         %[[XV:.*]] = memref.load %[[X]][%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[II]]] : memref<1x1x2x13x16xf32>
// CHECK-NEXT:                    %{{.*}} = arith.constant 0.000000e+00 : f32
// CHECK-NEXT:                    %[[XG:.*]] = arith.select %{{.*}}, %[[XV]], %{{.*}} : f32
// CHECK-NEXT:                    %[[WV:.*]] = memref.load %[[W]][%[[OB]], %{{.*}}, %[[KH]], %[[KW]], %[[II]], %[[OC]]] : memref<2x1x3x3x16x16xf32>
// CHECK-NEXT:                    %[[A:.*]] = memref.load %[[O]][%{{.*}}, %[[OB]], %[[OH]], %[[OW]], %[[OC]]] : memref<1x2x2x13x16xf32>
// CHECK-NEXT:                    %[[P:.*]] = arith.mulf %[[XG]], %[[WV]] : f32
// CHECK-NEXT:                    %[[S:.*]] = arith.addf %[[A]], %[[P]] : f32
// CHECK-NEXT:                    memref.store %[[S]], %[[O]][%{{.*}}, %[[OB]], %[[OH]], %[[OW]], %[[OC]]] : memref<1x2x2x13x16xf32>
// CHECK:           loop.for %[[E1:.*]] = 0 to 2 step 1 axis "d1.epi" stage "epilogue" {
// CHECK-NEXT:        loop.for %[[E2:.*]] = 0 to 2 step 1 axis "d2.epi" {
// CHECK-NEXT:          loop.for %[[E3:.*]] = 0 to 13 step 1 axis "d3.epi" {
// CHECK-NEXT:            loop.for %[[E4:.*]] = 0 to 16 step 1 axis "d4.epi" {
// CHECK-NEXT:              %[[T:.*]] = memref.load %[[O]][%{{.*}}, %[[E1]], %[[E2]], %[[E3]], %[[E4]]] : memref<1x2x2x13x16xf32>
// CHECK-NEXT:              %[[Z:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT:              %[[RELU:.*]] = arith.maximumf %[[T]], %[[Z]] : f32
// CHECK-NEXT:              memref.store %[[RELU]], %[[O]][%{{.*}}, %[[E1]], %[[E2]], %[[E3]], %[[E4]]] : memref<1x2x2x13x16xf32>
// CHECK-NOT:       memref.alloca
// CHECK:         func.func @main(%x: memref<1x1x2x13x16xf32>, %w: memref<2x1x3x3x16x16xf32>, %b: memref<32xf32>, %out: memref<1x2x2x13x16xf32>, %arena: memref<1xi8> {graph.name = "arena"})
// CHECK-NEXT:      func.call @conv_relu_0(%x, %w, %b, %out)

// SCHED-LABEL: func.func private @conv_relu_0(
// SCHED-SAME:    %[[X:.*]]: memref<1x1x2x13x16xf32>, %[[W:.*]]: memref<2x1x3x3x16x16xf32>, %[[B:.*]]: memref<32xf32>, %[[O:.*]]: memref<1x2x2x13x16xf32>)
// SCHED-SAME:      loop.schedule = "{{.*}}cache_write{{.*}}", loop.scheduled} {
// SCHED-NOT:       stage "init"
// SCHED:           loop.for %[[OB:.*]] = 0 to 2 step 1 axis "ob" stage "compute" {
// SCHED-NEXT:        loop.for %[[OH:.*]] = 0 to 2 step 1 axis "oh" {
// SCHED-NEXT:          loop.for %[[OWO:.*]] = 0 to 2 step 1 axis "ow.outer" {
// SCHED-NEXT:            %[[ACC:.*]] = memref.alloca() : memref<1x1x1x5x16xf32>
// SCHED-NEXT:            loop.for %[[RI:.*]] = 0 to 5 step 1 axis "ow.inner.init" unroll {
// SCHED-NEXT:              loop.for %[[CI:.*]] = 0 to 16 step 1 axis "oc.init{{[0-9]*}}" vectorize {
// SCHED:                     %[[BV:.*]] = memref.load %[[B]][%{{.*}}] : memref<32xf32>
// SCHED-NEXT:                memref.store %[[BV]], %[[ACC]][%{{.*}}, %{{.*}}, %{{.*}}, %[[RI]], %[[CI]]] : memref<1x1x1x5x16xf32>
// SCHED:                 loop.for %[[KH:.*]] = 0 to 3 step 1 axis "kh" {
// SCHED-NEXT:              loop.for %[[KW:.*]] = 0 to 3 step 1 axis "kw" {
// SCHED-NEXT:                loop.for %[[II:.*]] = 0 to 16 step 1 axis "ii" {
// SCHED-NEXT:                  loop.for %[[R:.*]] = 0 to 5 step 1 axis "ow.inner" unroll {
// SCHED-NEXT:                    loop.for %[[OC:.*]] = 0 to 16 step 1 axis "oc" vectorize {
// SCHED:                           %[[XV:.*]] = memref.load %[[X]][%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[II]]] : memref<1x1x2x13x16xf32>
// SCHED:                           %[[XG:.*]] = arith.select %{{.*}}, %[[XV]], %{{.*}} : f32
// SCHED-NEXT:                      %[[WV:.*]] = memref.load %[[W]][%[[OB]], %{{.*}}, %[[KH]], %[[KW]], %[[II]], %[[OC]]] : memref<2x1x3x3x16x16xf32>
// SCHED:                           %[[A:.*]] = memref.load %[[ACC]][%{{.*}}, %{{.*}}, %{{.*}}, %[[R]], %[[OC]]] : memref<1x1x1x5x16xf32>
// SCHED-NEXT:                      %[[P:.*]] = arith.mulf %[[XG]], %[[WV]] : f32
// SCHED-NEXT:                      %[[S:.*]] = arith.addf %[[A]], %[[P]] : f32
// SCHED:                           memref.store %[[S]], %[[ACC]][%{{.*}}, %{{.*}}, %{{.*}}, %[[R]], %[[OC]]] : memref<1x1x1x5x16xf32>
// SCHED:                 loop.for %[[RO:.*]] = 0 to 5 step 1 axis "ow.inner.wb" unroll {
// SCHED-NEXT:              loop.for %[[OCO:.*]] = 0 to 16 step 1 axis "oc.wb" vectorize {
// SCHED:                     %[[T:.*]] = memref.load %[[ACC]][%{{.*}}, %{{.*}}, %{{.*}}, %[[RO]], %[[OCO]]] : memref<1x1x1x5x16xf32>
// SCHED:                     %[[COL:.*]] = arith.addi %{{.*}}, %[[RO]] : index
// SCHED-NEXT:                %[[Z:.*]] = arith.constant 0.000000e+00 : f32
// SCHED-NEXT:                %[[RELU:.*]] = arith.maximumf %[[T]], %[[Z]] : f32
// SCHED:                     memref.store %[[RELU]], %[[O]][%{{.*}}, %[[OB]], %[[OH]], %[[COL]], %[[OCO]]] : memref<1x2x2x13x16xf32>
// SCHED:               %[[ACC1:.*]] = memref.alloca() : memref<1x1x1x3x16xf32>
// SCHED-NEXT:          loop.for %{{.*}} = 10 to 13 step 1 axis "ow.tail.init" unroll {
// SCHED-NEXT:            loop.for %{{.*}} = 0 to 16 step 1 axis "oc.tail.init" vectorize {
// SCHED:               loop.for %{{.*}} = 0 to 3 step 1 axis "kh.tail" {
// SCHED:                     loop.for %{{.*}} = 10 to 13 step 1 axis "ow.tail" unroll {
// SCHED-NEXT:                  loop.for %{{.*}} = 0 to 16 step 1 axis "oc.tail" vectorize {
// SCHED:               loop.for %[[RT:.*]] = 10 to 13 step 1 axis "ow.tail.wb" unroll {
// SCHED-NEXT:            loop.for %[[OCT:.*]] = 0 to 16 step 1 axis "oc.tail.wb" vectorize {
// SCHED:                   memref.load %[[ACC1]]
// SCHED:                   arith.maximumf
// SCHED:                   memref.store %{{.*}}, %[[O]][%{{.*}}, %[[OB]], %[[OH]], %{{.*}}, %{{.*}}] : memref<1x2x2x13x16xf32>
// SCHED-NOT:       stage "epilogue"
// SCHED:         func.func @main
func.func @main(%x: tensor<1x1x2x13x16xf32>, %w: tensor<2x1x3x3x16x16xf32>, %b: tensor<32xf32>) -> tensor<1x2x2x13x16xf32> {
  %y = graph.fused(%x, %w, %b) {kind = "complex-out-fusable"} : (tensor<1x1x2x13x16xf32>, tensor<2x1x3x3x16x16xf32>, tensor<32xf32>) -> tensor<1x2x2x13x16xf32> {
  ^bb0(%xa: tensor<1x1x2x13x16xf32>, %wa: tensor<2x1x3x3x16x16xf32>, %ba: tensor<32xf32>):
    %c = graph.conv %xa, %wa, %ba {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64, data_layout = "NCHW16c", kernel_layout = "OIHW16i16o", out_layout = "NCHW16c"} : (tensor<1x1x2x13x16xf32>, tensor<2x1x3x3x16x16xf32>, tensor<32xf32>) -> tensor<1x2x2x13x16xf32>
    %r = graph.relu %c : (tensor<1x2x2x13x16xf32>) -> tensor<1x2x2x13x16xf32>
    graph.yield %r : tensor<1x2x2x13x16xf32>
  }
  func.return %y : tensor<1x2x2x13x16xf32>
}

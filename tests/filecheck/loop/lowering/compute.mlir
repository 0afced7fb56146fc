// RUN: compiler-opt --split-input-file %s -p plan-memory,convert-graph-to-loop | filecheck %s

// Compute definitions: what one graph.fused group (or a lone op) becomes.
// The groups are written by hand in the shapes fuse-ops produces (see
// docs/graph-contracts.md); plan-memory runs first because the lowering needs
// the plan. The checks follow the loop structure and the important ops, not
// every index computation.

// An injective group is one loop nest over the result: the add (with %b
// broadcast along d0), the mul by the scalar constant (inlined as an
// arith.constant, not a kernel argument) and the tanh are computed inline,
// with one store and no intermediate buffer. The second group is the same
// computation on other buffers: its kernel is the first one (dedup). The
// third differs in the constant: a kernel of its own.

// CHECK-LABEL: builtin.module
// CHECK:         func.func private @add_mul_tanh_0(%[[A:.*]]: memref<2x16xf32>, %[[B:.*]]: memref<16xf32>, %[[O:.*]]: memref<2x16xf32>) attributes {loop.kernel} {
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

// conv + bias + relu (complex-out-fusable), plain NCHW: the register-tiled
// micro-kernel. Per output row (oh) a local tile of 2 output channels x 4
// columns is zeroed ("cb.init" unrolled, "w.init" vectorized), accumulated
// over (kh, kw): one guarded input vector (an in-range test and a select of
// 0.0 outside) times each channel's broadcast weight ("cb" unrolled inside
// the vectorized "w"), and the bias + relu epilogue runs on the tile as it
// is stored ("cb.out" / "w.out"). The unit batch dim, the single group and
// the single input channel get no loop. Both weights are globals passed as
// kernel arguments.

// CHECK-LABEL: builtin.module
// CHECK:         "memref.global"() <{sym_name = "[[WG:__constant_[0-9]+]]", type = memref<2x1x3x3xf32>
// CHECK:         "memref.global"() <{sym_name = "[[BG:__constant_[0-9]+]]", type = memref<2x1x1xf32>
// CHECK:         func.func private @conv_add_relu_0(%[[X:.*]]: memref<1x1x4x4xf32>, %[[W:.*]]: memref<2x1x3x3xf32>, %[[B:.*]]: memref<2x1x1xf32>, %[[O:.*]]: memref<1x2x4x4xf32>) attributes {loop.kernel} {
// CHECK:           loop.for %[[OH:.*]] = 0 to 4 step 1 axis "oh" {
// CHECK:             %[[ACC:.*]] = memref.alloca() : memref<2x4xf32>
// CHECK-NEXT:        loop.for %{{.*}} = 0 to 2 step 1 axis "cb.init" unroll {
// CHECK-NEXT:          loop.for %{{.*}} = 0 to 4 step 1 axis "w.init" vectorize {
// CHECK-NEXT:            arith.constant 0.000000e+00 : f32
// CHECK-NEXT:            memref.store
// CHECK:             loop.for %[[KH:.*]] = 0 to 3 step 1 axis "kh" {
// CHECK-NEXT:          loop.for %[[KW:.*]] = 0 to 3 step 1 axis "kw" {
// CHECK:                 loop.for %[[WI:.*]] = 0 to 4 step 1 axis "w" vectorize {
// CHECK:                   arith.cmpi sge
// CHECK:                   arith.cmpi slt
// CHECK:                   %[[XV:.*]] = memref.load %[[X]]
// CHECK:                   %[[GUARDED:.*]] = arith.select %{{.*}}, %[[XV]], %{{.*}} : f32
// CHECK-NEXT:              loop.for %[[CB:.*]] = 0 to 2 step 1 axis "cb" unroll {
// CHECK-NEXT:                %[[CO:.*]] = arith.addi %{{.*}}, %[[CB]] : index
// CHECK-NEXT:                %[[WV:.*]] = memref.load %[[W]][%[[CO]], %{{.*}}, %[[KH]], %[[KW]]] : memref<2x1x3x3xf32>
// CHECK-NEXT:                %[[P:.*]] = arith.mulf %[[GUARDED]], %[[WV]] : f32
// CHECK-NEXT:                %[[A:.*]] = memref.load %[[ACC]][%[[CB]], %[[WI]]] : memref<2x4xf32>
// CHECK-NEXT:                %[[SUM:.*]] = arith.addf %[[A]], %[[P]] : f32
// CHECK-NEXT:                memref.store %[[SUM]], %[[ACC]][%[[CB]], %[[WI]]] : memref<2x4xf32>
// CHECK:             loop.for %[[C2:.*]] = 0 to 2 step 1 axis "cb.out" unroll {
// CHECK-NEXT:          loop.for %[[E:.*]] = 0 to 4 step 1 axis "w.out" vectorize {
// CHECK-NEXT:            %[[CO2:.*]] = arith.addi %{{.*}}, %[[C2]] : index
// CHECK-NEXT:            %[[V:.*]] = memref.load %[[ACC]][%[[C2]], %[[E]]] : memref<2x4xf32>
// CHECK:                 %[[BV:.*]] = memref.load %[[B]][%[[CO2]], %{{.*}}, %{{.*}}] : memref<2x1x1xf32>
// CHECK-NEXT:            %[[VB:.*]] = arith.addf %[[V]], %[[BV]] : f32
// CHECK-NEXT:            %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT:            %[[R:.*]] = arith.maximumf %[[VB]], %[[ZERO]] : f32
// CHECK-NEXT:            memref.store %[[R]], %[[O]][%{{.*}}, %[[CO2]], %[[OH]], %[[E]]] : memref<1x2x4x4xf32>
// CHECK:         func.func @main(%x: memref<1x1x4x4xf32>, %out: memref<1x2x4x4xf32>, %arena: memref<1xi8> {graph.name = "arena"})
// CHECK-NEXT:      %[[WP:.*]] = memref.get_global @[[WG]] : memref<2x1x3x3xf32>
// CHECK-NEXT:      %[[BP:.*]] = memref.get_global @[[BG]] : memref<2x1x1xf32>
// CHECK-NEXT:      func.call @conv_add_relu_0(%x, %[[WP]], %[[BP]], %out)
// CHECK-NEXT:      func.return
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

// matmul + bias: per row, a column panel accumulates in a local buffer (kept
// in registers by LLVM) over k with the columns innermost ("j" loops,
// vectorized); the bias add runs on the panel as it is stored.

// CHECK-LABEL: builtin.module
// CHECK:         func.func private @matmul_add_0(%[[A:.*]]: memref<2x4xf32>, %[[W:.*]]: memref<4x3xf32>, %[[B:.*]]: memref<3xf32>, %[[O:.*]]: memref<2x3xf32>) attributes {loop.kernel} {
// CHECK:           loop.for %[[M:.*]] = 0 to 2 step 1 axis "m" {
// CHECK-NEXT:        %[[ACC:.*]] = memref.alloca() : memref<3xf32>
// CHECK-NEXT:        loop.for %{{.*}} = 0 to 3 step 1 axis "j" vectorize {
// CHECK:             loop.for %[[K:.*]] = 0 to 4 step 1 axis "k" {
// CHECK-NEXT:          %[[AV:.*]] = memref.load %[[A]][%[[M]], %[[K]]] : memref<2x4xf32>
// CHECK-NEXT:          loop.for %[[N:.*]] = 0 to 3 step 1 axis "j.1" vectorize {
// CHECK-NEXT:            %[[COL:.*]] = arith.addi %{{.*}}, %[[N]] : index
// CHECK-NEXT:            %[[WV:.*]] = memref.load %[[W]][%[[K]], %[[COL]]] : memref<4x3xf32>
// CHECK-NEXT:            %[[S0:.*]] = memref.load %[[ACC]][%[[N]]] : memref<3xf32>
// CHECK-NEXT:            %[[P:.*]] = arith.mulf %[[AV]], %[[WV]] : f32
// CHECK-NEXT:            %[[S:.*]] = arith.addf %[[S0]], %[[P]] : f32
// CHECK-NEXT:            memref.store %[[S]], %[[ACC]][%[[N]]] : memref<3xf32>
// CHECK:             loop.for %[[E:.*]] = 0 to 3 step 1 axis "j.2" vectorize {
// CHECK-NEXT:          %[[COL2:.*]] = arith.addi %{{.*}}, %[[E]] : index
// CHECK-NEXT:          %[[V:.*]] = memref.load %[[ACC]][%[[E]]] : memref<3xf32>
// CHECK-NEXT:          %[[BV:.*]] = memref.load %[[B]][%[[COL2]]] : memref<3xf32>
// CHECK-NEXT:          %[[R:.*]] = arith.addf %[[V]], %[[BV]] : f32
// CHECK-NEXT:          memref.store %[[R]], %[[O]][%[[M]], %[[COL2]]] : memref<2x3xf32>
// CHECK:         func.func @main(%x: memref<2x4xf32>, %w: memref<4x3xf32>, %b: memref<3xf32>, %out: memref<2x3xf32>, %arena: memref<1xi8> {graph.name = "arena"})
// CHECK-NEXT:      func.call @matmul_add_0(%x, %w, %b, %out)
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
// CHECK:         func.func private @reduce_sum_mul_reshape_0(%[[X:.*]]: memref<2x6xf32>, %[[V:.*]]: memref<2xf32>, %[[O:.*]]: memref<3x2xf32>) attributes {loop.kernel} {
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
// CHECK:         func.func private @softmax_mul_0(%[[X:.*]]: memref<2x8xf32>, %[[O:.*]]: memref<2x8xf32>) attributes {loop.kernel} {
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
// CHECK:         func.func private @log_softmax_0(%[[LX:.*]]: memref<2x8xf32>, %[[LO:.*]]: memref<2x8xf32>) attributes {loop.kernel} {
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
// and a relu: TVM's conv2d_NCHWc. An 8x16 register tile (8 output columns x
// 16 output channels) lives in a memref.alloca inside the outer loops (one
// per thread when "ob" runs in parallel); the column loops "r.init",
// "r", "r.out" are unrolled and the channel loops "oc.*" vectorized. The
// accumulation broadcasts one input element (loaded outside "oc") times one
// weight vector. The output width 13 is one full tile of 8 ("owb") and a
// remainder tile of 5 columns starting at column 8 (the ".1" loops). The
// relu runs in "oc.out" on the tile before the store.

// CHECK-LABEL: builtin.module
// CHECK:         func.func private @conv_relu_0(%[[X:.*]]: memref<1x1x2x13x16xf32>, %[[W:.*]]: memref<2x1x3x3x16x16xf32>, %[[B:.*]]: memref<32xf32>, %[[O:.*]]: memref<1x2x2x13x16xf32>) attributes {loop.kernel} {
// CHECK:           loop.for %[[OB:.*]] = 0 to 2 step 1 axis "ob" {
// CHECK-NEXT:        loop.for %[[OH:.*]] = 0 to 2 step 1 axis "oh" {
// CHECK-NEXT:          %[[ACC:.*]] = memref.alloca() : memref<8x16xf32>
// CHECK-NEXT:          loop.for %{{.*}} = 0 to 1 step 1 axis "owb" {
// CHECK:                 loop.for %[[RI:.*]] = 0 to 8 step 1 axis "r.init" unroll {
// CHECK-NEXT:              loop.for %[[CI:.*]] = 0 to 16 step 1 axis "oc.init" vectorize {
// CHECK:                     %[[BV:.*]] = memref.load %[[B]][%{{.*}}] : memref<32xf32>
// CHECK-NEXT:                memref.store %[[BV]], %[[ACC]][%[[RI]], %[[CI]]] : memref<8x16xf32>
// CHECK:                 loop.for %[[KH:.*]] = 0 to 3 step 1 axis "kh" {
// CHECK-NEXT:              loop.for %[[KW:.*]] = 0 to 3 step 1 axis "kw" {
// CHECK-NEXT:                loop.for %[[II:.*]] = 0 to 16 step 1 axis "ii" {
// CHECK:                       loop.for %[[R:.*]] = 0 to 8 step 1 axis "r" unroll {
// CHECK:                         %[[XV:.*]] = memref.load %[[X]][%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[II]]] : memref<1x1x2x13x16xf32>
// CHECK:                         %[[XG:.*]] = arith.select %{{.*}}, %[[XV]], %{{.*}} : f32
// CHECK-NEXT:                    loop.for %[[OC:.*]] = 0 to 16 step 1 axis "oc" vectorize {
// CHECK-NEXT:                      %[[WV:.*]] = memref.load %[[W]][%[[OB]], %{{.*}}, %[[KH]], %[[KW]], %[[II]], %[[OC]]] : memref<2x1x3x3x16x16xf32>
// CHECK-NEXT:                      %[[P:.*]] = arith.mulf %[[XG]], %[[WV]] : f32
// CHECK-NEXT:                      %[[A:.*]] = memref.load %[[ACC]][%[[R]], %[[OC]]] : memref<8x16xf32>
// CHECK-NEXT:                      %[[S:.*]] = arith.addf %[[A]], %[[P]] : f32
// CHECK-NEXT:                      memref.store %[[S]], %[[ACC]][%[[R]], %[[OC]]] : memref<8x16xf32>
// CHECK:                 loop.for %[[RO:.*]] = 0 to 8 step 1 axis "r.out" unroll {
// CHECK-NEXT:              loop.for %[[OCO:.*]] = 0 to 16 step 1 axis "oc.out" vectorize {
// CHECK-NEXT:                %[[COL:.*]] = arith.addi %{{.*}}, %[[RO]] : index
// CHECK-NEXT:                %[[T:.*]] = memref.load %[[ACC]][%[[RO]], %[[OCO]]] : memref<8x16xf32>
// CHECK-NEXT:                %[[Z:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT:                %[[RELU:.*]] = arith.maximumf %[[T]], %[[Z]] : f32
// CHECK-NEXT:                memref.store %[[RELU]], %[[O]][%{{.*}}, %[[OB]], %[[OH]], %[[COL]], %[[OCO]]] : memref<1x2x2x13x16xf32>
// CHECK:               loop.for %{{.*}} = 0 to 5 step 1 axis "r.init.1" unroll {
// CHECK:               loop.for %{{.*}} = 0 to 5 step 1 axis "r.1" unroll {
// CHECK:                 %[[EIGHT:.*]] = arith.constant 8 : index
// CHECK-NEXT:            arith.addi %[[EIGHT]], %{{.*}} : index
// CHECK:                   loop.for %{{.*}} = 0 to 16 step 1 axis "oc.1" vectorize {
// CHECK:               loop.for %{{.*}} = 0 to 5 step 1 axis "r.out.1" unroll {
// CHECK-NEXT:            loop.for %{{.*}} = 0 to 16 step 1 axis "oc.out.1" vectorize {
// CHECK:         func.func @main(%x: memref<1x1x2x13x16xf32>, %w: memref<2x1x3x3x16x16xf32>, %b: memref<32xf32>, %out: memref<1x2x2x13x16xf32>, %arena: memref<1xi8> {graph.name = "arena"})
// CHECK-NEXT:      func.call @conv_relu_0(%x, %w, %b, %out)
func.func @main(%x: tensor<1x1x2x13x16xf32>, %w: tensor<2x1x3x3x16x16xf32>, %b: tensor<32xf32>) -> tensor<1x2x2x13x16xf32> {
  %y = graph.fused(%x, %w, %b) {kind = "complex-out-fusable"} : (tensor<1x1x2x13x16xf32>, tensor<2x1x3x3x16x16xf32>, tensor<32xf32>) -> tensor<1x2x2x13x16xf32> {
  ^bb0(%xa: tensor<1x1x2x13x16xf32>, %wa: tensor<2x1x3x3x16x16xf32>, %ba: tensor<32xf32>):
    %c = graph.conv %xa, %wa, %ba {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64, data_layout = "NCHW16c", kernel_layout = "OIHW16i16o", out_layout = "NCHW16c"} : (tensor<1x1x2x13x16xf32>, tensor<2x1x3x3x16x16xf32>, tensor<32xf32>) -> tensor<1x2x2x13x16xf32>
    %r = graph.relu %c : (tensor<1x2x2x13x16xf32>) -> tensor<1x2x2x13x16xf32>
    graph.yield %r : tensor<1x2x2x13x16xf32>
  }
  func.return %y : tensor<1x2x2x13x16xf32>
}

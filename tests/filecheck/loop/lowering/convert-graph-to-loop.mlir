// RUN: compiler-opt --split-input-file %s -p convert-graph-to-loop | filecheck %s

// The entry function and the arena. The input is already planned (the
// graph.offsets / graph.arena_bytes below are what plan-memory would write,
// moved to distinctive offsets), so this file pins the lowering alone: every
// intermediate is a memref.view of %arena at exactly its planned offset, the
// weight is a memref.global read with memref.get_global, the model output is
// written straight into the caller's buffer, and each op is one kernel whose
// signature is (operands..., result) over memrefs of the tensor shapes.

// CHECK-LABEL: builtin.module
// CHECK:         "memref.global"() <{sym_name = "__constant_0", type = memref<4x4xf32>, initial_value = dense<{{\[\[}}1.000000e+00, 2.000000e+00, 3.000000e+00, 4.000000e+00], {{.*}}]> : tensor<4x4xf32>, sym_visibility = "private", constant, alignment = 64 : i64}>
// The matmul kernel is the plain algorithm (its schedule comes later): an
// init nest and a compute nest over (m, n, k), no epilogue nest.
// CHECK:         func.func private @matmul_0(%[[MA:.*]]: memref<4x4xf32>, %[[MB:.*]]: memref<4x4xf32>, %[[MC:.*]]: memref<4x4xf32>) attributes {loop.kernel, loop.algorithm = "matmul", loop.workload = "{{.*}}", loop.workload_key = "{{[0-9a-f]+}}"{{.*}}} {
// CHECK-NEXT:      loop.for %{{.*}} = 0 to 4 step 1 axis "m.init" stage "init" {
// CHECK-NEXT:        loop.for %{{.*}} = 0 to 4 step 1 axis "n.init" {
// CHECK:           loop.for %[[M:.*]] = 0 to 4 step 1 axis "m" stage "compute" {
// CHECK-NEXT:        loop.for %[[N:.*]] = 0 to 4 step 1 axis "n" {
// CHECK-NEXT:          loop.for %[[K:.*]] = 0 to 4 step 1 axis "k" {
// CHECK-NEXT:            memref.load %[[MA]][%[[M]], %[[K]]]
// CHECK-NEXT:            memref.load %[[MB]][%[[K]], %[[N]]]
// CHECK-NEXT:            memref.load %[[MC]][%[[M]], %[[N]]]
// CHECK-NOT:       stage "epilogue"
// CHECK:           func.return
// CHECK:         func.func private @transpose_0(%[[TI:.*]]: memref<4x4xf32>, %[[TO:.*]]: memref<4x4xf32>) attributes {loop.kernel, loop.workload = "{{.*}}", loop.workload_key = "{{[0-9a-f]+}}"{{.*}}} {
// CHECK-NEXT:      loop.for %[[I:.*]] = 0 to 4 step 1 axis "d0" {
// CHECK-NEXT:        loop.for %[[J:.*]] = 0 to 4 step 1 axis "d1" {
// CHECK-NEXT:          %[[V:.*]] = memref.load %[[TI]][%[[J]], %[[I]]] : memref<4x4xf32>
// CHECK-NEXT:          memref.store %[[V]], %[[TO]][%[[I]], %[[J]]] : memref<4x4xf32>
// CHECK:         func.func private @tanh_0(%{{.*}}: memref<4x4xf32>, %{{.*}}: memref<4x4xf32>) attributes {loop.kernel, loop.workload = "{{.*}}", loop.workload_key = "{{[0-9a-f]+}}"{{.*}}} {
// CHECK:             math.tanh
// The second matmul is the same kernel as the first: emitted once, called twice.
// CHECK-NOT:     func.func private @matmul_
// CHECK:         func.func @main(%x: memref<4x4xf32> {graph.name = "input"}, %out: memref<4x4xf32> {graph.name = "logits"}, %arena: memref<256xi8> {graph.name = "arena"})
// CHECK-SAME:        attributes {graph.num_inputs = 1 : i64, graph.num_outputs = 1 : i64, graph.arena_bytes = 256 : i64} {
// CHECK-NEXT:      %[[W:.*]] = memref.get_global @__constant_0 : memref<4x4xf32>
// CHECK-NEXT:      %[[OA:.*]] = arith.constant 192 : index
// CHECK-NEXT:      %[[A:.*]] = memref.view %arena[%[[OA]]][] : memref<256xi8> to memref<4x4xf32>
// CHECK-NEXT:      func.call @matmul_0(%x, %[[W]], %[[A]]) : (memref<4x4xf32>, memref<4x4xf32>, memref<4x4xf32>) -> ()
// CHECK-NEXT:      %[[OB:.*]] = arith.constant 64 : index
// CHECK-NEXT:      %[[B:.*]] = memref.view %arena[%[[OB]]][] : memref<256xi8> to memref<4x4xf32>
// CHECK-NEXT:      func.call @transpose_0(%[[A]], %[[B]])
// CHECK-NEXT:      %[[OC:.*]] = arith.constant 64 : index
// CHECK-NEXT:      %[[C:.*]] = memref.view %arena[%[[OC]]][] : memref<256xi8> to memref<4x4xf32>
// CHECK-NEXT:      func.call @tanh_0(%[[B]], %[[C]])
// CHECK-NEXT:      func.call @matmul_0(%[[C]], %[[W]], %out)
// CHECK-NEXT:      func.return
// CHECK-NEXT:    }
func.func @main(%x: tensor<4x4xf32> {graph.name = "input"}) -> (tensor<4x4xf32> {graph.name = "logits"}) attributes {graph.arena_bytes = 256 : i64, graph.naive_bytes = 192 : i64} {
  %w = graph.constant dense<[[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0], [9.0, 10.0, 11.0, 12.0], [13.0, 14.0, 15.0, 16.0]]> : tensor<4x4xf32>
  %a = graph.matmul %x, %w {graph.offsets = array<i64: 192>} : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %b = graph.transpose %a {graph.offsets = array<i64: 64>, perm = array<i64: 1, 0>} : (tensor<4x4xf32>) -> tensor<4x4xf32>
  %c = graph.tanh %b {graph.offsets = array<i64: 64>} : (tensor<4x4xf32>) -> tensor<4x4xf32>
  %d = graph.matmul %c, %w {graph.offsets = array<i64: -1>} : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  func.return %d : tensor<4x4xf32>
}

// -----

// Views emit no kernel: the reshape is a view of %e at %e's offset, the
// contiguous slice (row 1 of 2x2x8) a view 64 bytes further. The slice that
// cuts the last dim is not contiguous: it is a kernel (an index shift of 4).
// Both outputs are written in place by their producers.

// CHECK-LABEL: builtin.module
// CHECK-NOT:     @reshape_
// CHECK:         func.func private @exp_0(%{{.*}}: memref<2x16xf32>, %{{.*}}: memref<2x16xf32>)
// CHECK:         func.func private @slice_0(%[[SI:.*]]: memref<2x2x8xf32>, %[[SO:.*]]: memref<2x2x4xf32>)
// CHECK:             loop.for %[[K:.*]] = 0 to 4 step 1 axis "d2" {
// CHECK-NEXT:          %[[FOUR:.*]] = arith.constant 4 : index
// CHECK-NEXT:          %[[K4:.*]] = arith.addi %[[K]], %[[FOUR]] : index
// CHECK-NEXT:          memref.load %[[SI]][%{{.*}}, %{{.*}}, %[[K4]]] : memref<2x2x8xf32>
// CHECK-NOT:     func.func private @slice_
// CHECK:         func.func private @tanh_0(%{{.*}}: memref<1x2x8xf32>, %{{.*}}: memref<1x2x8xf32>)
// CHECK:         func.func private @neg_0(%{{.*}}: memref<2x2x4xf32>, %{{.*}}: memref<2x2x4xf32>)
// CHECK:         func.func @main(%x: memref<2x16xf32>, %out: memref<1x2x8xf32>, %out_1: memref<2x2x4xf32>, %arena: memref<192xi8> {graph.name = "arena"})
// CHECK-NEXT:      %[[O0:.*]] = arith.constant 0 : index
// CHECK-NEXT:      %[[E:.*]] = memref.view %arena[%[[O0]]][] : memref<192xi8> to memref<2x16xf32>
// CHECK-NEXT:      func.call @exp_0(%x, %[[E]])
// CHECK-NEXT:      %[[O1:.*]] = arith.constant 0 : index
// CHECK-NEXT:      %[[R:.*]] = memref.view %arena[%[[O1]]][] : memref<192xi8> to memref<2x2x8xf32>
// CHECK-NEXT:      %[[O2:.*]] = arith.constant 64 : index
// CHECK-NEXT:      %[[S:.*]] = memref.view %arena[%[[O2]]][] : memref<192xi8> to memref<1x2x8xf32>
// CHECK-NEXT:      %[[O3:.*]] = arith.constant 128 : index
// CHECK-NEXT:      %[[N:.*]] = memref.view %arena[%[[O3]]][] : memref<192xi8> to memref<2x2x4xf32>
// CHECK-NEXT:      func.call @slice_0(%[[R]], %[[N]])
// CHECK-NEXT:      func.call @tanh_0(%[[S]], %out)
// CHECK-NEXT:      func.call @neg_0(%[[N]], %out_1)
// CHECK-NEXT:      func.return
func.func @main(%x: tensor<2x16xf32>) -> (tensor<1x2x8xf32>, tensor<2x2x4xf32>) attributes {graph.arena_bytes = 192 : i64, graph.naive_bytes = 192 : i64} {
  %e = graph.exp %x {graph.offsets = array<i64: 0>} : (tensor<2x16xf32>) -> tensor<2x16xf32>
  %r = graph.reshape %e {graph.offsets = array<i64: 0>} : (tensor<2x16xf32>) -> tensor<2x2x8xf32>
  %s = graph.slice %r {graph.offsets = array<i64: 64>, offsets = array<i64: 1, 0, 0>, strides = array<i64: 1, 1, 1>} : (tensor<2x2x8xf32>) -> tensor<1x2x8xf32>
  %n = graph.slice %r {graph.offsets = array<i64: 128>, offsets = array<i64: 0, 0, 4>, strides = array<i64: 1, 1, 1>} : (tensor<2x2x8xf32>) -> tensor<2x2x4xf32>
  %t = graph.tanh %s {graph.offsets = array<i64: -1>} : (tensor<1x2x8xf32>) -> tensor<1x2x8xf32>
  %u = graph.neg %n {graph.offsets = array<i64: -1>} : (tensor<2x2x4xf32>) -> tensor<2x2x4xf32>
  func.return %t, %u : tensor<1x2x8xf32>, tensor<2x2x4xf32>
}

// -----

// In-place concats (nested too) emit no kernel: relu, exp and sigmoid write
// straight into their slices of the concat's buffer (offsets 0, 128, 256 of
// 384 bytes), and the tanh reads the whole concat as one view. The tanh runs
// in place (same offset in and out).

// CHECK-LABEL: builtin.module
// CHECK-NOT:     @concat_
// CHECK:         func.func @main(%x: memref<1x2x4x4xf32>, %out: memref<1x6x4x4xf32>, %arena: memref<384xi8> {graph.name = "arena"})
// CHECK-NEXT:      %[[O0:.*]] = arith.constant 0 : index
// CHECK-NEXT:      %[[A:.*]] = memref.view %arena[%[[O0]]][] : memref<384xi8> to memref<1x2x4x4xf32>
// CHECK-NEXT:      func.call @relu_0(%x, %[[A]])
// CHECK-NEXT:      %[[O1:.*]] = arith.constant 128 : index
// CHECK-NEXT:      %[[B:.*]] = memref.view %arena[%[[O1]]][] : memref<384xi8> to memref<1x2x4x4xf32>
// CHECK-NEXT:      func.call @exp_0(%x, %[[B]])
// CHECK-NEXT:      %[[O2:.*]] = arith.constant 0 : index
// CHECK-NEXT:      memref.view %arena[%[[O2]]][] : memref<384xi8> to memref<1x4x4x4xf32>
// CHECK-NEXT:      %[[O3:.*]] = arith.constant 256 : index
// CHECK-NEXT:      %[[C:.*]] = memref.view %arena[%[[O3]]][] : memref<384xi8> to memref<1x2x4x4xf32>
// CHECK-NEXT:      func.call @sigmoid_0(%x, %[[C]])
// CHECK-NEXT:      %[[O4:.*]] = arith.constant 0 : index
// CHECK-NEXT:      %[[Y:.*]] = memref.view %arena[%[[O4]]][] : memref<384xi8> to memref<1x6x4x4xf32>
// CHECK-NEXT:      %[[O5:.*]] = arith.constant 0 : index
// CHECK-NEXT:      %[[Z:.*]] = memref.view %arena[%[[O5]]][] : memref<384xi8> to memref<1x6x4x4xf32>
// CHECK-NEXT:      func.call @tanh_0(%[[Y]], %[[Z]]) : (memref<1x6x4x4xf32>, memref<1x6x4x4xf32>) -> ()
// CHECK-NEXT:      func.call @transpose_0(%[[Z]], %out)
// CHECK-NEXT:      func.return
func.func @main(%x: tensor<1x2x4x4xf32>) -> tensor<1x6x4x4xf32> attributes {graph.arena_bytes = 384 : i64, graph.naive_bytes = 1408 : i64} {
  %a = graph.relu %x {graph.offsets = array<i64: 0>} : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %b = graph.exp %x {graph.offsets = array<i64: 128>} : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %ab = graph.concat %a, %b {graph.in_place, graph.offsets = array<i64: 0>, axis = 1 : i64} : (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x4x4x4xf32>
  %c = graph.sigmoid %x {graph.offsets = array<i64: 256>} : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %y = graph.concat %ab, %c {graph.in_place, graph.offsets = array<i64: 0>, axis = 1 : i64} : (tensor<1x4x4x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x6x4x4xf32>
  %z = graph.tanh %y {graph.offsets = array<i64: 0>} : (tensor<1x6x4x4xf32>) -> tensor<1x6x4x4xf32>
  %o = graph.transpose %z {graph.offsets = array<i64: -1>, perm = array<i64: 0, 1, 3, 2>} : (tensor<1x6x4x4xf32>) -> tensor<1x6x4x4xf32>
  func.return %o : tensor<1x6x4x4xf32>
}

// -----

// A concat without graph.in_place is an ordinary kernel: each output element
// selects its operand by the channel index.

// CHECK-LABEL: builtin.module
// CHECK:         func.func private @concat_0(%{{.*}}: memref<1x2x4x4xf32>, %{{.*}}: memref<1x2x4x4xf32>, %{{.*}}: memref<1x4x4x4xf32>) attributes {loop.kernel, loop.workload = "{{.*}}", loop.workload_key = "{{[0-9a-f]+}}"{{.*}}}
// CHECK:           arith.select
// CHECK:         func.func @main
// CHECK:           func.call @concat_0(%{{.*}}, %{{.*}}, %out)
func.func @main(%x: tensor<1x2x4x4xf32>) -> tensor<1x4x4x4xf32> attributes {graph.arena_bytes = 256 : i64, graph.naive_bytes = 256 : i64} {
  %a = graph.relu %x {graph.offsets = array<i64: 0>} : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %b = graph.exp %x {graph.offsets = array<i64: 128>} : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %y = graph.concat %a, %b {graph.offsets = array<i64: -1>, axis = 1 : i64} : (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x4x4x4xf32>
  func.return %y : tensor<1x4x4x4xf32>
}

// -----

// Model outputs. %t's producer writes into the first output; %a is returned
// in the third slot, so relu writes there. Everything that no kernel produced
// in its slot is copied at the end, by one shared copy kernel per type: the
// model input (slot 2), the second return of %t (slot 4, copied from slot 1)
// and the constant (slot 5, from its global). No arena is needed: it is
// still an argument, of one byte.

// CHECK-LABEL: builtin.module
// CHECK:         "memref.global"() <{sym_name = "__constant_0", type = memref<2xf32>
// CHECK:         func.func private @copy_0(%[[CI:.*]]: memref<4x4xf32>, %[[CO:.*]]: memref<4x4xf32>) attributes {loop.kernel} {
// CHECK-NEXT:      loop.for %[[I:.*]] = 0 to 4 step 1 axis "d0" {
// CHECK-NEXT:        loop.for %[[J:.*]] = 0 to 4 step 1 axis "d1" {
// CHECK-NEXT:          %[[V:.*]] = memref.load %[[CI]][%[[I]], %[[J]]] : memref<4x4xf32>
// CHECK-NEXT:          memref.store %[[V]], %[[CO]][%[[I]], %[[J]]] : memref<4x4xf32>
// CHECK:         func.func private @[[COPY2:copy_[0-9]+]](%{{.*}}: memref<2xf32>, %{{.*}}: memref<2xf32>) attributes {loop.kernel}
// CHECK:         func.func @main(%x: memref<4x4xf32>, %out: memref<4x4xf32>, %out_1: memref<4x4xf32>, %out_2: memref<4x4xf32>, %out_3: memref<4x4xf32>, %out_4: memref<2xf32>, %arena: memref<1xi8> {graph.name = "arena"})
// CHECK-SAME:        attributes {graph.num_inputs = 1 : i64, graph.num_outputs = 5 : i64, graph.arena_bytes = 0 : i64}
// CHECK-NEXT:      %[[K:.*]] = memref.get_global @__constant_0 : memref<2xf32>
// CHECK-NEXT:      func.call @relu_0(%x, %out_2)
// CHECK-NEXT:      func.call @transpose_0(%out_2, %out)
// CHECK-NEXT:      func.call @copy_0(%x, %out_1)
// CHECK-NEXT:      func.call @copy_0(%out, %out_3)
// CHECK-NEXT:      func.call @[[COPY2]](%[[K]], %out_4)
// CHECK-NEXT:      func.return
func.func @main(%x: tensor<4x4xf32>) -> (tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<2xf32>) attributes {graph.arena_bytes = 0 : i64, graph.naive_bytes = 0 : i64} {
  %k = graph.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %a = graph.relu %x {graph.offsets = array<i64: -1>} : (tensor<4x4xf32>) -> tensor<4x4xf32>
  %t = graph.transpose %a {graph.offsets = array<i64: -1>, perm = array<i64: 1, 0>} : (tensor<4x4xf32>) -> tensor<4x4xf32>
  func.return %t, %x, %a, %t, %k : tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<2xf32>
}

// -----

// A reshape that is a model output, or whose source is a model input, cannot
// be a view of the arena (the caller owns those buffers): it is a copy
// kernel that re-indexes the elements.

// CHECK-LABEL: builtin.module
// CHECK:         func.func private @reshape_0(%[[RI:.*]]: memref<4x4xf32>, %[[RO:.*]]: memref<2x8xf32>) attributes {loop.kernel, loop.workload = "{{.*}}", loop.workload_key = "{{[0-9a-f]+}}"{{.*}}}
// CHECK:             arith.divui
// CHECK:             arith.remui
// CHECK:         func.func @main(%x: memref<4x4xf32>, %out: memref<2x8xf32>, %arena: memref<1xi8> {graph.name = "arena"})
// CHECK-NEXT:      func.call @reshape_0(%x, %out)
// CHECK-NEXT:      func.return
func.func @main(%x: tensor<4x4xf32>) -> tensor<2x8xf32> attributes {graph.arena_bytes = 0 : i64, graph.naive_bytes = 0 : i64} {
  %r = graph.reshape %x {graph.offsets = array<i64: -1>} : (tensor<4x4xf32>) -> tensor<2x8xf32>
  func.return %r : tensor<2x8xf32>
}

// -----

// Groups that differ only in which weight they read share one kernel (the
// weight is an argument); splat scalars are part of the kernel, compared by
// their bits: the add of -0.0 is a kernel of its own, the second add of 0.0
// reuses the first.
// CHECK-LABEL: builtin.module
// CHECK:         func.func private @matmul_0(
// CHECK-NOT:     func.func private @matmul_
// CHECK:         func.func private @add_0(
// CHECK:           arith.constant 0.000000e+00 : f32
// CHECK:         func.func private @add_1(
// CHECK:           arith.constant -0.000000e+00 : f32
// CHECK-NOT:     func.func private @add_
// CHECK:         func.func @main(
// CHECK:           func.call @matmul_0(%x, %{{.*}}, %[[A:.*]]) :
// CHECK:           func.call @matmul_0(%[[A]], %{{.*}}, %[[B:.*]]) :
// CHECK:           func.call @add_0(%[[B]], %[[C:.*]]) :
// CHECK:           func.call @add_1(%[[C]], %[[D:.*]]) :
// CHECK:           func.call @add_0(%[[D]], %out) :
func.func @main(%x: tensor<4x4xf32> {graph.name = "input"}) -> (tensor<4x4xf32> {graph.name = "logits"}) attributes {graph.arena_bytes = 256 : i64, graph.naive_bytes = 192 : i64} {
  %w1 = graph.constant dense<[[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0], [9.0, 10.0, 11.0, 12.0], [13.0, 14.0, 15.0, 16.0]]> : tensor<4x4xf32>
  %w2 = graph.constant dense<[[2.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0], [9.0, 10.0, 11.0, 12.0], [13.0, 14.0, 15.0, 16.0]]> : tensor<4x4xf32>
  %zero = graph.constant dense<0.0> : tensor<4x4xf32>
  %negzero = graph.constant dense<-0.0> : tensor<4x4xf32>
  %zero2 = graph.constant dense<0.0> : tensor<4x4xf32>
  %a = graph.matmul %x, %w1 {graph.offsets = array<i64: 0>} : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %b = graph.matmul %a, %w2 {graph.offsets = array<i64: 64>} : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %c = graph.add %b, %zero {graph.offsets = array<i64: 0>} : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %d = graph.add %c, %negzero {graph.offsets = array<i64: 64>} : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %e = graph.add %d, %zero2 {graph.offsets = array<i64: -1>} : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  func.return %e : tensor<4x4xf32>
}

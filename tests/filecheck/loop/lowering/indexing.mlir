// RUN: compiler-opt --split-input-file %s -p plan-memory,convert-graph-to-loop | filecheck %s
// RUN: compiler-opt --split-input-file %s -p 'plan-memory,convert-graph-to-loop,default-schedule{vector-bits=256 vector-registers=16 threads=2 min-parallel-work=1},apply-schedule' | filecheck %s --check-prefix=SCHED

// graph.gather_elements is injective: one nest over the result that loads the
// index, wraps a negative one (+ dim size), clamps it into the dim and loads
// the data there; a fused relu is computed inline.

// CHECK-LABEL: func.func private @gather_elements_relu_0(
// CHECK-SAME:      %[[D:.*]]: memref<3x5xf32>, %[[I:.*]]: memref<3x2xi64>, %[[O:.*]]: memref<3x2xf32>)
// CHECK:         loop.for %[[R:.*]] = 0 to 3 step 1 axis "d0" {
// CHECK-NEXT:      loop.for %[[C:.*]] = 0 to 2 step 1 axis "d1" {
// CHECK-NEXT:        %[[RAW:.*]] = memref.load %[[I]][%[[R]], %[[C]]] : memref<3x2xi64>
// CHECK-NEXT:        %[[P:.*]] = arith.index_cast %[[RAW]] : i64 to index
// CHECK:             %[[NEG:.*]] = arith.cmpi slt, %[[P]], %{{.*}} : index
// CHECK:             %[[W:.*]] = arith.select %[[NEG]], %{{.*}}, %[[P]] : index
// CHECK:             arith.maxsi %[[W]]
// CHECK:             %[[CL:.*]] = arith.minsi
// CHECK-NEXT:        %[[V:.*]] = memref.load %[[D]][%[[R]], %[[CL]]] : memref<3x5xf32>
// CHECK:             arith.maximumf %[[V]]
// CHECK:             memref.store %{{.*}}, %[[O]][%[[R]], %[[C]]] : memref<3x2xf32>
func.func @main(%d: tensor<3x5xf32>, %i: tensor<3x2xi64>) -> tensor<3x2xf32> {
  %f = graph.fused(%d, %i) {kind = "injective"} : (tensor<3x5xf32>, tensor<3x2xi64>) -> tensor<3x2xf32> {
  ^bb0(%a: tensor<3x5xf32>, %b: tensor<3x2xi64>):
    %g = graph.gather_elements %a, %b {axis = 1 : i64} : (tensor<3x5xf32>, tensor<3x2xi64>) -> tensor<3x2xf32>
    %r = graph.relu %g : (tensor<3x2xf32>) -> tensor<3x2xf32>
    graph.yield %r : tensor<3x2xf32>
  }
  func.return %f : tensor<3x2xf32>
}

// -----

// graph.scatter_elements is two stages: a `copy` nest over the data, then a
// `scatter` nest over the updates that stores (here: adds) each update at the
// row its index names. The scatter nest stores at a loaded row, so no
// schedule may run the loop over update rows at once (after the default schedule the copy is
// parallel, u0 is not; u1 is, as each of its iterations writes its own column).

// CHECK-LABEL: func.func private @scatter_elements_0(
// CHECK-SAME:      %[[D:.*]]: memref<4x6xf32>, %[[I:.*]]: memref<2x6xi64>, %[[U:.*]]: memref<2x6xf32>, %[[O:.*]]: memref<4x6xf32>)
// CHECK-SAME:      loop.algorithm = "scatter_elements"
// CHECK:         loop.for %[[R:.*]] = 0 to 4 step 1 axis "d0" stage "copy" {
// CHECK-NEXT:      loop.for %[[C:.*]] = 0 to 6 step 1 axis "d1" {
// CHECK-NEXT:        %[[X:.*]] = memref.load %[[D]][%[[R]], %[[C]]] : memref<4x6xf32>
// CHECK-NEXT:        memref.store %[[X]], %[[O]][%[[R]], %[[C]]] : memref<4x6xf32>
// CHECK:         loop.for %[[UR:.*]] = 0 to 2 step 1 axis "u0" stage "scatter" {
// CHECK-NEXT:      loop.for %[[UC:.*]] = 0 to 6 step 1 axis "u1" {
// CHECK-NEXT:        %[[RAW:.*]] = memref.load %[[I]][%[[UR]], %[[UC]]] : memref<2x6xi64>
// CHECK-NEXT:        arith.index_cast %[[RAW]] : i64 to index
// CHECK:             %[[T:.*]] = arith.minsi
// CHECK-NEXT:        %[[NEW:.*]] = memref.load %[[U]][%[[UR]], %[[UC]]] : memref<2x6xf32>
// CHECK-NEXT:        %[[OLD:.*]] = memref.load %[[O]][%[[T]], %[[UC]]] : memref<4x6xf32>
// CHECK-NEXT:        %[[SUM:.*]] = arith.addf %[[OLD]], %[[NEW]] : f32
// CHECK-NEXT:        memref.store %[[SUM]], %[[O]][%[[T]], %[[UC]]] : memref<4x6xf32>

// SCHED-LABEL: func.func private @scatter_elements_0(
// SCHED:         loop.for {{.*}} axis "d0" parallel stage "copy" {
// SCHED:         loop.for {{.*}} axis "u0" stage "scatter" {
// SCHED-NEXT:      loop.for {{.*}} axis "u1" parallel {
func.func @main(%d: tensor<4x6xf32>, %i: tensor<2x6xi64>, %u: tensor<2x6xf32>) -> tensor<4x6xf32> {
  %s = graph.scatter_elements %d, %i, %u {axis = 0 : i64, reduction = "add"} : (tensor<4x6xf32>, tensor<2x6xi64>, tensor<2x6xf32>) -> tensor<4x6xf32>
  func.return %s : tensor<4x6xf32>
}

// -----

// graph.topk_indices counts, for each element, the elements along the axis
// that come before it (greater, or equal at a lower position), places each
// position at its rank in a scratch row, and copies the first k (here 4 of
// 8: k is not small next to the row).

// CHECK-LABEL: func.func private @topk_indices_0(
// CHECK-SAME:      %[[X:.*]]: memref<3x8xf32>, %[[O:.*]]: memref<3x4xi64>)
// CHECK-SAME:      loop.algorithm = "topk_rank"
// CHECK:         %[[RANK:.*]] = memref.alloc() : memref<3x8xi64>
// CHECK:         %[[ORDER:.*]] = memref.alloc() : memref<3x8xi64>
// CHECK:         stage "init"
// CHECK:         loop.for %[[R:.*]] = 0 to 3 step 1 axis "d0" stage "count" {
// CHECK-NEXT:      loop.for %[[I:.*]] = 0 to 8 step 1 axis "d1" {
// CHECK-NEXT:        loop.for %[[J:.*]] = 0 to 8 step 1 axis "j" {
// CHECK-NEXT:          %[[MINE:.*]] = memref.load %[[X]][%[[R]], %[[I]]]
// CHECK-NEXT:          %[[OTHER:.*]] = memref.load %[[X]][%[[R]], %[[J]]]
// CHECK-NEXT:          %[[WINS:.*]] = arith.cmpf ogt, %[[OTHER]], %[[MINE]] : f32
// CHECK-NEXT:          %[[EQ:.*]] = arith.cmpf oeq, %[[OTHER]], %[[MINE]] : f32
// CHECK-NEXT:          %[[LOWER:.*]] = arith.cmpi slt, %[[J]], %[[I]] : index
// CHECK-NEXT:          %[[TIE:.*]] = arith.andi %[[EQ]], %[[LOWER]] : i1
// CHECK-NEXT:          arith.ori %[[WINS]], %[[TIE]] : i1
// CHECK:               memref.store %{{.*}}, %[[RANK]][%[[R]], %[[I]]]
// CHECK:         stage "place"
// CHECK:           memref.store %{{.*}}, %[[ORDER]][%{{.*}}, %{{.*}}] : memref<3x8xi64>
// CHECK:         loop.for {{.*}} = 0 to 3 step 1 axis "d0.out" stage "copy" {
// CHECK-NEXT:      loop.for {{.*}} = 0 to 4 step 1 axis "d1.out" {
// CHECK:         memref.dealloc %[[RANK]]
// CHECK-NEXT:    memref.dealloc %[[ORDER]]
func.func @main(%x: tensor<3x8xf32>) -> tensor<3x4xi64> {
  %t = graph.topk_indices %x {axis = 1 : i64, k = 4 : i64, largest = 1 : i64} : (tensor<3x8xf32>) -> tensor<3x4xi64>
  func.return %t : tensor<3x4xi64>
}

// -----

// With k small next to the row (2 of 8: k * 3 <= n), graph.topk_indices
// selects instead: per row, k passes over the row, pass t taking the best
// element that comes after the previous pick (NaN above every number, ties
// to the lower position), kept in four scalars.

// CHECK-LABEL: func.func private @topk_indices_0(
// CHECK-SAME:      %[[X:.*]]: memref<3x8xf32>, %[[O:.*]]: memref<3x2xi64>)
// CHECK-SAME:      loop.algorithm = "topk_select"
// CHECK:         loop.for %[[R:.*]] = 0 to 3 step 1 axis "d0" {
// CHECK:           %[[PV:.*]] = memref.alloca() : memref<1xf32>
// CHECK-NEXT:      %[[PI:.*]] = memref.alloca() : memref<1xi64>
// CHECK-NEXT:      %[[BV:.*]] = memref.alloca() : memref<1xf32>
// CHECK-NEXT:      %[[BI:.*]] = memref.alloca() : memref<1xi64>
// CHECK:           loop.for %[[T:.*]] = 0 to 2 step 1 axis "t" {
// CHECK:             loop.for %[[J:.*]] = 0 to 8 step 1 axis "j" {
// CHECK-NEXT:          %[[V:.*]] = memref.load %[[X]][%[[R]], %[[J]]] : memref<3x8xf32>
// CHECK:               arith.cmpf uno, %[[V]], %[[V]] : f32
// CHECK:               %[[NV:.*]] = arith.select %[[TAKE:.*]], %[[V]], %{{.*}} : f32
// CHECK-NEXT:          memref.store %[[NV]], %[[BV]]
// CHECK-NEXT:          %[[NI:.*]] = arith.select %[[TAKE]], %{{.*}}, %{{.*}} : i64
// CHECK-NEXT:          memref.store %[[NI]], %[[BI]]
// CHECK-NEXT:        }
// CHECK-NEXT:        %[[PICK:.*]] = memref.load %[[BI]]
// CHECK:             memref.store %[[PICK]], %[[PI]]
// CHECK-NEXT:        memref.store %[[PICK]], %[[O]][%[[R]], %[[T]]] : memref<3x2xi64>
// CHECK-NOT:     memref.alloc()
func.func @main(%x: tensor<3x8xf32>) -> tensor<3x2xi64> {
  %t = graph.topk_indices %x {axis = 1 : i64, k = 2 : i64, largest = 1 : i64} : (tensor<3x8xf32>) -> tensor<3x2xi64>
  func.return %t : tensor<3x2xi64>
}

// -----

// graph.cumsum is a scan: position p = 4 - i (reverse) takes the result at
// its predecessor p + 1 and (exclusive) the input there, both 0 at the first
// step. The scan loop reads what it wrote: the default schedule keeps it
// serial and runs the rows in parallel.

// CHECK-LABEL: func.func private @cumsum_0(
// CHECK-SAME:      %[[X:.*]]: memref<2x5xi64>, %[[O:.*]]: memref<2x5xi64>)
// CHECK-SAME:      loop.algorithm = "scan"
// CHECK:         loop.for %[[R:.*]] = 0 to 2 step 1 axis "d0" stage "scan" {
// CHECK-NEXT:      loop.for %[[I:.*]] = 0 to 5 step 1 axis "scan" {
// CHECK:             %[[P:.*]] = arith.subi %{{.*}}, %[[I]] : index
// CHECK:             %[[FIRST:.*]] = arith.cmpi eq, %[[I]]
// CHECK:             %[[Q:.*]] = arith.minsi
// CHECK:             %[[PREV:.*]] = memref.load %[[O]][%[[R]], %[[Q]]]
// CHECK-NEXT:        %[[ACC:.*]] = arith.select %[[FIRST]], %{{.*}}, %[[PREV]] : i64
// CHECK:             %[[IN:.*]] = memref.load %[[X]][%[[R]], %[[Q]]]
// CHECK-NEXT:        %[[TERM:.*]] = arith.select %[[FIRST]], %{{.*}}, %[[IN]] : i64
// CHECK-NEXT:        %[[SUM:.*]] = arith.addi %[[ACC]], %[[TERM]] : i64
// CHECK-NEXT:        memref.store %[[SUM]], %[[O]][%[[R]], %[[P]]]

// SCHED-LABEL: func.func private @cumsum_0(
// SCHED:         loop.for {{.*}} axis "d0" parallel stage "scan" {
// SCHED-NEXT:      loop.for {{.*}} axis "scan" {
func.func @main(%y: tensor<2x5xi64>) -> tensor<2x5xi64> {
  %c = graph.cumsum %y {axis = 1 : i64, exclusive = 1 : i64, reverse = 1 : i64} : (tensor<2x5xi64>) -> tensor<2x5xi64>
  func.return %c : tensor<2x5xi64>
}

// -----

// A constant pad is two stages: a `fill` nest over the result that stores the
// pad value, then a `copy` nest over the input that stores each element at its
// index plus the low pads. Both index the result contiguously (no clamp, no
// select), so the default schedule vectorizes both innermost loops.

// CHECK-LABEL: func.func private @pad_0(
// CHECK-SAME:      %[[X:.*]]: memref<2x3x4xf32>, %[[O:.*]]: memref<2x5x7xf32>)
// CHECK:         %[[NEGINF:.*]] = arith.constant 0xff800000 : f32
// CHECK:         loop.for %[[A:.*]] = 0 to 2 step 1 axis "d0" stage "fill" {
// CHECK-NEXT:      loop.for %[[B:.*]] = 0 to 5 step 1 axis "d1" {
// CHECK-NEXT:        loop.for %[[C:.*]] = 0 to 7 step 1 axis "d2" {
// CHECK-NEXT:          memref.store %[[NEGINF]], %[[O]][%[[A]], %[[B]], %[[C]]] : memref<2x5x7xf32>
// CHECK:         loop.for %[[I:.*]] = 0 to 2 step 1 axis "c0" stage "copy" {
// CHECK-NEXT:      loop.for %[[J:.*]] = 0 to 3 step 1 axis "c1" {
// CHECK-NEXT:        loop.for %[[K:.*]] = 0 to 4 step 1 axis "c2" {
// CHECK-NEXT:          %[[V:.*]] = memref.load %[[X]][%[[I]], %[[J]], %[[K]]] : memref<2x3x4xf32>
// CHECK:               %[[J1:.*]] = arith.addi %[[J]], %{{.*}} : index
// CHECK:               %[[K1:.*]] = arith.addi %[[K]], %{{.*}} : index
// CHECK-NEXT:          memref.store %[[V]], %[[O]][%[[I]], %[[J1]], %[[K1]]] : memref<2x5x7xf32>
// CHECK-NOT:     arith.select
// CHECK:         func.return

// SCHED-LABEL: func.func private @pad_0(
// SCHED:         axis "d2" vectorize
// SCHED:         axis "c2" vectorize
func.func @main(%x: tensor<2x3x4xf32>) -> tensor<2x5x7xf32> {
  %f = graph.fused(%x) {kind = "injective"} : (tensor<2x3x4xf32>) -> tensor<2x5x7xf32> {
  ^bb0(%a: tensor<2x3x4xf32>):
    %p = graph.pad %a {pads = array<i64: 0, 1, 2, 0, 1, 1>, mode = "constant", value = 0xFFF0000000000000 : f64} : (tensor<2x3x4xf32>) -> tensor<2x5x7xf32>
    graph.yield %p : tensor<2x5x7xf32>
  }
  func.return %f : tensor<2x5x7xf32>
}

// -----

// The injective ops fused before a constant pad (ShuffleNet's channel shuffle
// before a depthwise conv's pad) are computed inline in the `copy` nest.

// CHECK-LABEL: func.func private @transpose_pad_0(
// CHECK:         stage "fill"
// CHECK:         loop.for %[[I:.*]] = 0 to 4 step 1 axis "c0" stage "copy" {
// CHECK-NEXT:      loop.for %[[J:.*]] = 0 to 3 step 1 axis "c1" {
// CHECK-NEXT:        %[[V:.*]] = memref.load %{{.*}}[%[[J]], %[[I]]] : memref<3x4xf32>
// CHECK:             memref.store %[[V]], %{{.*}}[%{{.*}}, %{{.*}}] : memref<6x5xf32>

// A reflect pad stays one nest over the result (each element mirrors its index).

// CHECK-LABEL: func.func private @pad_0(
// CHECK-SAME:      memref<3x6xf32>)
// CHECK-NOT:     stage "fill"
// CHECK:         axis "d0"
// CHECK-NOT:     stage "copy"
// CHECK:         func.return
func.func @main(%x: tensor<3x4xf32>) -> (tensor<6x5xf32>, tensor<3x6xf32>) {
  %f = graph.fused(%x) {kind = "injective"} : (tensor<3x4xf32>) -> tensor<6x5xf32> {
  ^bb0(%a: tensor<3x4xf32>):
    %t = graph.transpose %a {perm = array<i64: 1, 0>} : (tensor<3x4xf32>) -> tensor<4x3xf32>
    %p = graph.pad %t {pads = array<i64: 1, 1, 1, 1>, mode = "constant", value = 0.0 : f64} : (tensor<4x3xf32>) -> tensor<6x5xf32>
    graph.yield %p : tensor<6x5xf32>
  }
  %r = graph.fused(%x) {kind = "injective"} : (tensor<3x4xf32>) -> tensor<3x6xf32> {
  ^bb0(%a: tensor<3x4xf32>):
    %p = graph.pad %a {pads = array<i64: 0, 1, 0, 1>, mode = "reflect", value = 0.0 : f64} : (tensor<3x4xf32>) -> tensor<3x6xf32>
    graph.yield %p : tensor<3x6xf32>
  }
  func.return %f, %r : tensor<6x5xf32>, tensor<3x6xf32>
}

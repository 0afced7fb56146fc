// RUN: compiler-opt --split-input-file %s -p plan-memory,convert-graph-to-loop | filecheck %s --check-prefix=GLOBALS
// RUN: compiler-opt --split-input-file %s -p plan-memory,convert-graph-to-loop,extract-params | filecheck %s
// The bytes of the blob: extract-params-blob.mlir.

// Three weights: f32, i64 and i1 (stored one byte per element, as i8).
// Before extract-params they are memref.globals read with memref.get_global;
// after it, each is a memref.view of the new %params argument (inserted
// right before %arena) at a 64-byte aligned offset, the globals are gone and
// @main records graph.params_bytes (24 + pad + 24 + pad + 3 = 131 bytes).

// GLOBALS-LABEL: builtin.module
// GLOBALS:         "memref.global"() <{sym_name = "__constant_0", type = memref<2x3xf32>, initial_value = dense<{{.*}}> : tensor<2x3xf32>, sym_visibility = "private", constant, alignment = 64 : i64}>
// GLOBALS-NEXT:    "memref.global"() <{sym_name = "__constant_1", type = memref<3xi64>, initial_value = dense<[7, 8, 9]> : tensor<3xi64>, {{.*}}constant
// GLOBALS-NEXT:    "memref.global"() <{sym_name = "__constant_2", type = memref<3xi8>, initial_value = dense<[1, 0, 1]> : tensor<3xi8>, {{.*}}constant
// GLOBALS:         func.func @main(%x: memref<2x3xf32> {graph.name = "x"}, %c: memref<3xf32> {graph.name = "c"}, %out: memref<2x3xf32> {graph.name = "y"}, %arena: memref<128xi8> {graph.name = "arena"})
// GLOBALS-NEXT:      memref.get_global @__constant_0 : memref<2x3xf32>
// GLOBALS-NEXT:      memref.get_global @__constant_1 : memref<3xi64>
// GLOBALS-NEXT:      memref.get_global @__constant_2 : memref<3xi8>

// CHECK-LABEL: builtin.module
// CHECK-NOT:     memref.global
// CHECK:         func.func private @where_0(%{{.*}}: memref<3xi8>, %{{.*}}: memref<3xf32>, %{{.*}}: memref<3xf32>, %{{.*}}: memref<3xf32>)
// CHECK:         func.func @main(%x: memref<2x3xf32> {graph.name = "x"}, %c: memref<3xf32> {graph.name = "c"}, %out: memref<2x3xf32> {graph.name = "y"}, %params: memref<131xi8> {graph.name = "params"}, %arena: memref<128xi8> {graph.name = "arena"})
// CHECK-SAME:        attributes {graph.num_inputs = 2 : i64, graph.num_outputs = 1 : i64, graph.arena_bytes = 128 : i64, graph.params_bytes = 131 : i64} {
// CHECK-NEXT:      %[[O0:.*]] = arith.constant 0 : index
// CHECK-NEXT:      %[[W:.*]] = memref.view %params[%[[O0]]][] : memref<131xi8> to memref<2x3xf32>
// CHECK-NEXT:      %[[O1:.*]] = arith.constant 64 : index
// CHECK-NEXT:      %[[V:.*]] = memref.view %params[%[[O1]]][] : memref<131xi8> to memref<3xi64>
// CHECK-NEXT:      %[[O2:.*]] = arith.constant 128 : index
// CHECK-NEXT:      %[[M:.*]] = memref.view %params[%[[O2]]][] : memref<131xi8> to memref<3xi8>
// CHECK-NOT:       memref.get_global
// CHECK:           func.call @add_0(%x, %[[W]], %{{.*}})
// CHECK:           func.call @cast_0(%[[V]], %{{.*}})
// CHECK:           func.call @where_0(%[[M]], %{{.*}}, %c, %{{.*}})
// CHECK-NOT:       memref.get_global
// CHECK:           func.return

func.func @main(%x: tensor<2x3xf32> {graph.name = "x"}, %c: tensor<3xf32> {graph.name = "c"}) -> (tensor<2x3xf32> {graph.name = "y"}) {
  %w = graph.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  %v = graph.constant dense<[7, 8, 9]> : tensor<3xi64>
  %m = graph.constant dense<[true, false, true]> : tensor<3xi1>
  %a = graph.add %x, %w : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %f = graph.cast %v : (tensor<3xi64>) -> tensor<3xf32>
  %s = graph.where %m, %f, %c : (tensor<3xi1>, tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %y = graph.add %a, %s : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  func.return %y : tensor<2x3xf32>
}

// -----

// One weight read by two kernels is one range of the blob and one view,
// passed to both calls. A weight inside a fused group (a non-splat constant
// in its region) is a global too, and so a view of %params.

// GLOBALS-LABEL: builtin.module
// GLOBALS-COUNT-2: "memref.global"()
// GLOBALS-NOT:     "memref.global"()

// CHECK-LABEL: builtin.module
// CHECK-NOT:     memref.global
// CHECK:         func.func @main(%x: memref<4x4xf32>, %out: memref<4x4xf32>, %params: memref<80xi8> {graph.name = "params"}, %arena: memref<64xi8> {graph.name = "arena"})
// CHECK-SAME:        graph.params_bytes = 80 : i64
// CHECK-NEXT:      %[[O0:.*]] = arith.constant 0 : index
// CHECK-NEXT:      %[[W:.*]] = memref.view %params[%[[O0]]][] : memref<80xi8> to memref<4x4xf32>
// CHECK-NEXT:      %[[O1:.*]] = arith.constant 64 : index
// CHECK-NEXT:      %[[K:.*]] = memref.view %params[%[[O1]]][] : memref<80xi8> to memref<4xf32>
// CHECK:           func.call @matmul_0(%x, %[[W]], %[[T:.*]]) :
// CHECK-NEXT:      func.call @matmul_add_0(%[[T]], %[[W]], %[[K]], %out)
// CHECK-NEXT:      func.return
func.func @main(%x: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %w = graph.constant dense<[[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0], [9.0, 10.0, 11.0, 12.0], [13.0, 14.0, 15.0, 16.0]]> : tensor<4x4xf32>
  %t = graph.matmul %x, %w : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %y = graph.fused(%t, %w) {kind = "complex-out-fusable"} : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32> {
  ^bb0(%ta: tensor<4x4xf32>, %wa: tensor<4x4xf32>):
    %b = graph.constant dense<[0.5, 1.5, 2.5, 3.5]> : tensor<4xf32>
    %m = graph.matmul %ta, %wa : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
    %a = graph.add %m, %b : (tensor<4x4xf32>, tensor<4xf32>) -> tensor<4x4xf32>
    graph.yield %a : tensor<4x4xf32>
  }
  func.return %y : tensor<4x4xf32>
}

// -----

// No weights: %params is still an argument (of one byte), and the blob is empty.

// GLOBALS-LABEL: builtin.module
// GLOBALS-NOT:     memref.global

// CHECK-LABEL: builtin.module
// CHECK:         func.func @main(%x: memref<4xf32>, %out: memref<4xf32>, %params: memref<1xi8> {graph.name = "params"}, %arena: memref<1xi8> {graph.name = "arena"})
// CHECK-SAME:        graph.params_bytes = 0 : i64
// CHECK-NEXT:      func.call @relu_0(%x, %out)
func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = graph.relu %x : (tensor<4xf32>) -> tensor<4xf32>
  func.return %y : tensor<4xf32>
}

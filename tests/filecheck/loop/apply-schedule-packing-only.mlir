// RUN: compiler-opt %s -p 'apply-schedule{packing-only=true}' | filecheck %s
// RUN: compiler-opt %s -p 'apply-schedule{packing-only=true},apply-schedule' | filecheck %s --check-prefix=ALL

// packing-only=true applies the schedules that pack a constant (the matmul's
// packs its weight: the global is repacked and @main passes the packed copy)
// and leaves the others as data (the tanh's split), for the driver's
// lowering workers to apply one function at a time. A second, plain
// apply-schedule applies what is left and skips what is applied.

// CHECK:       sym_name = "__constant_0_packed_1_16", type = memref<2x2x16xf32>
// CHECK-NOT:   sym_name = "__constant_0"
// CHECK:       func.func private @matmul_0(%{{.*}}: memref<2x2xf32>, %{{.*}}: memref<2x2x16xf32>, %{{.*}}: memref<2x32xf32>) attributes {{{.*}}loop.scheduled
// CHECK:         axis "n.outer"
// CHECK:         axis "n.inner"
// CHECK:       func.func private @tanh_0
// CHECK-NOT:     loop.scheduled
// CHECK-NEXT:    loop.for %{{.*}} = 0 to 2 step 1 axis "d0" {
// CHECK-NEXT:      loop.for %{{.*}} = 0 to 32 step 1 axis "d1" {
// CHECK:       func.func @main(
// CHECK:         memref.get_global @__constant_0_packed_1_16 : memref<2x2x16xf32>
// CHECK:         func.call @matmul_0(

// ALL:         func.func private @matmul_0(%{{.*}}: memref<2x2xf32>, %{{.*}}: memref<2x2x16xf32>, %{{.*}}: memref<2x32xf32>)
// ALL:           axis "n.outer"
// ALL-NOT:       axis "n.outer"
// ALL:         func.func private @tanh_0({{.*}}loop.scheduled
// ALL:           axis "d1.outer"
// ALL:           axis "d1.inner"

builtin.module {
  "memref.global"() <{sym_name = "__constant_0", type = memref<2x32xf32>, initial_value = dense<[[-6.000000e+00, 1.000000e+00, -5.000000e+00, 2.000000e+00, -4.000000e+00, 3.000000e+00, -3.000000e+00, 4.000000e+00, -2.000000e+00, 5.000000e+00, -1.000000e+00, 6.000000e+00, 0.000000e+00, -6.000000e+00, 1.000000e+00, -5.000000e+00, 2.000000e+00, -4.000000e+00, 3.000000e+00, -3.000000e+00, 4.000000e+00, -2.000000e+00, 5.000000e+00, -1.000000e+00, 6.000000e+00, 0.000000e+00, -6.000000e+00, 1.000000e+00, -5.000000e+00, 2.000000e+00, -4.000000e+00, 3.000000e+00], [-3.000000e+00, 4.000000e+00, -2.000000e+00, 5.000000e+00, -1.000000e+00, 6.000000e+00, 0.000000e+00, -6.000000e+00, 1.000000e+00, -5.000000e+00, 2.000000e+00, -4.000000e+00, 3.000000e+00, -3.000000e+00, 4.000000e+00, -2.000000e+00, 5.000000e+00, -1.000000e+00, 6.000000e+00, 0.000000e+00, -6.000000e+00, 1.000000e+00, -5.000000e+00, 2.000000e+00, -4.000000e+00, 3.000000e+00, -3.000000e+00, 4.000000e+00, -2.000000e+00, 5.000000e+00, -1.000000e+00, 6.000000e+00]]> : tensor<2x32xf32>, sym_visibility = "private", constant, alignment = 64 : i64}> : () -> ()
  func.func private @matmul_0(%0: memref<2x2xf32>, %1: memref<2x32xf32>, %2: memref<2x32xf32>) attributes {loop.kernel, loop.schedule = "[{\22primitive\22: \22split\22, \22axis\22: \22n\22, \22factor\22: 16}, {\22primitive\22: \22pack\22, \22operand\22: 1, \22axis\22: 1, \22factor\22: 16}]", loop.algorithm = "matmul", loop.constant_operands = array<i64: 1>} {
    loop.for %3 = 0 to 2 step 1 axis "m.init" stage "init" {
      loop.for %4 = 0 to 32 step 1 axis "n.init" {
        %5 = arith.constant 0.000000e+00 : f32
        memref.store %5, %2[%3, %4] : memref<2x32xf32>
      }
    }
    loop.for %6 = 0 to 2 step 1 axis "m" stage "compute" {
      loop.for %7 = 0 to 32 step 1 axis "n" {
        loop.for %8 = 0 to 2 step 1 axis "k" {
          %9 = memref.load %0[%6, %8] : memref<2x2xf32>
          %10 = memref.load %1[%8, %7] : memref<2x32xf32>
          %11 = memref.load %2[%6, %7] : memref<2x32xf32>
          %12 = arith.mulf %9, %10 : f32
          %13 = arith.addf %11, %12 : f32
          memref.store %13, %2[%6, %7] : memref<2x32xf32>
        }
      }
    }
    func.return
  }
  func.func private @tanh_0(%0: memref<2x32xf32>, %1: memref<2x32xf32>) attributes {loop.kernel, loop.schedule = "[{\22primitive\22: \22split\22, \22axis\22: \22d1\22, \22factor\22: 16}]"} {
    loop.for %2 = 0 to 2 step 1 axis "d0" {
      loop.for %3 = 0 to 32 step 1 axis "d1" {
        %4 = memref.load %0[%2, %3] : memref<2x32xf32>
        %5 = math.tanh %4 : f32
        memref.store %5, %1[%2, %3] : memref<2x32xf32>
      }
    }
    func.return
  }
  func.func @main(%x: memref<2x2xf32>, %out: memref<2x32xf32>, %arena: memref<256xi8> {graph.name = "arena"}) attributes {graph.num_inputs = 1 : i64, graph.num_outputs = 1 : i64, graph.arena_bytes = 256 : i64} {
    %0 = memref.get_global @__constant_0 : memref<2x32xf32>
    %1 = arith.constant 0 : index
    %2 = memref.view %arena[%1][] : memref<256xi8> to memref<2x32xf32>
    func.call @matmul_0(%x, %0, %2) : (memref<2x2xf32>, memref<2x32xf32>, memref<2x32xf32>) -> ()
    func.call @tanh_0(%2, %out) : (memref<2x32xf32>, memref<2x32xf32>) -> ()
    func.return
  }
}


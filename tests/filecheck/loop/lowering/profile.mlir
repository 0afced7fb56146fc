// RUN: compiler-opt %s -p 'plan-memory,convert-graph-to-loop{profile=true}' | filecheck %s

// profile=true marks each kernel call k with compiler_profile(k), ends with
// compiler_profile(-1), and lists the kernels on @main and the module.
// CHECK:       builtin.module attributes {graph.profile = ["relu_0", "exp_0"]}
// CHECK:       func.func private @compiler_profile(i64) -> ()
// CHECK:       func.func @main({{.*}}graph.profile = ["relu_0", "exp_0"]
// CHECK:         %[[K0:.*]] = arith.constant 0 : i64
// CHECK-NEXT:    func.call @compiler_profile(%[[K0]]) : (i64) -> ()
// CHECK-NEXT:    func.call @relu_0(
// CHECK-NEXT:    %[[K1:.*]] = arith.constant 1 : i64
// CHECK-NEXT:    func.call @compiler_profile(%[[K1]]) : (i64) -> ()
// CHECK-NEXT:    func.call @exp_0(
// CHECK-NEXT:    %[[END:.*]] = arith.constant -1 : i64
// CHECK-NEXT:    func.call @compiler_profile(%[[END]]) : (i64) -> ()
// CHECK-NEXT:    func.return
func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = graph.relu %x : (tensor<4xf32>) -> tensor<4xf32>
  %1 = graph.exp %0 : (tensor<4xf32>) -> tensor<4xf32>
  func.return %1 : tensor<4xf32>
}

// RUN: compiler-opt --split-input-file --verify-diagnostics %s | filecheck %s
// graph.constant: the value's type is the result type, static, of a supported
// element type. (A value with too few bytes for its elements cannot be written
// in the textual syntax; tests/unit/test_errors.py builds one in Python.)

// value type differs from the result type
func.func @f() {
  %c = "graph.constant"() <{value = dense<1.0> : tensor<2xf32>}> : () -> tensor<3xf32>
  func.return
}
// CHECK: Operation does not verify: value type tensor<2xf32> does not match result type tensor<3xf32>

// -----

// an unsupported element type
func.func @f() {
  %c = graph.constant dense<1> : tensor<2xi4>
  func.return
}
// CHECK: Operation does not verify: element type i4 is not supported (supported: f32, f64, f16, bf16, i64, i32, i16, i8, ui8, ui16, ui32, ui64, i1)

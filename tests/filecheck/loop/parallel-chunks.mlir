// RUN: compiler-opt %s -p apply-schedule | filecheck %s
// RUN: compiler-opt %s -p apply-schedule,convert-loop-to-scf | filecheck %s --check-prefix=SCF
// RUN: compiler-opt %s -p apply-schedule | compiler-opt | filecheck %s

// `parallel` with `chunks`: the loop keeps the count as `loop.chunks`, and
// its scf.parallel as `compiler.chunks` (outline-parallel-loops passes it on
// to the thread runtime, which cuts the 10 iterations into 7 chunks).
func.func @chunked(%x: memref<10x8xf32>) attributes {loop.kernel, loop.schedule = "[{\"primitive\": \"parallel\", \"axis\": \"i\", \"chunks\": 7}]"} {
  loop.for %i = 0 to 10 step 1 axis "i" {
    loop.for %j = 0 to 8 step 1 axis "j" {
      %v = memref.load %x[%i, %j] : memref<10x8xf32>
      %s = arith.addf %v, %v : f32
      memref.store %s, %x[%i, %j] : memref<10x8xf32>
    }
  }
  func.return
}

// CHECK-LABEL: func.func @chunked
// CHECK-NEXT:    loop.for %i = 0 to 10 step 1 axis "i" parallel {
// CHECK-NEXT:      loop.for %j = 0 to 8 step 1 axis "j" {
// CHECK:         } attributes {loop.chunks = 7 : i64}

// SCF-LABEL: func.func @chunked
// SCF:         "scf.parallel"
// SCF:           scf.reduce
// SCF-NEXT:    }) {compiler.chunks = 7 : i64} : (index, index, index) -> ()

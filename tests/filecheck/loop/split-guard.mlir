// RUN: compiler-opt %s --split-input-file -p apply-schedule | filecheck %s
// RUN: compiler-opt %s --split-input-file -p apply-schedule,convert-loop-to-scf | filecheck %s --check-prefix=SCF

// split with tail "guard" (GuardWithIf): 10 by 4 is ceil(10/4) = 3 outer
// iterations, no tail nest; the memory ops of the body run under
// `outer*4 + inner < 10`, the index arithmetic stays outside the guard.
func.func @guard(%x: memref<10x3xf32>, %y: memref<10x3xf32>) attributes {loop.kernel, loop.schedule = "[{\"primitive\": \"split\", \"axis\": \"i\", \"factor\": 4, \"tail\": \"guard\"}]"} {
  loop.for %i = 0 to 10 step 1 axis "i" {
    loop.for %j = 0 to 3 step 1 axis "j" {
      %v = memref.load %x[%i, %j] : memref<10x3xf32>
      %w = arith.addf %v, %v : f32
      memref.store %w, %y[%i, %j] : memref<10x3xf32>
    }
  }
  func.return
}

// CHECK-LABEL: func.func @guard
// CHECK-NEXT:    loop.for %i.outer = 0 to 3 step 1 axis "i.outer" {
// CHECK-NEXT:      loop.for %i.inner = 0 to 4 step 1 axis "i.inner" {
// CHECK:             %[[POS:.*]] = arith.addi
// CHECK:             %[[IN:.*]] = arith.cmpi ult, %[[POS]], %{{.*}} : index
// CHECK-NEXT:        loop.for %j = 0 to 3 step 1 axis "j" {
// CHECK-NEXT:          scf.if %[[IN]] {
// CHECK-NEXT:            %v = memref.load %x[%[[POS]], %j] : memref<10x3xf32>
// CHECK-NEXT:            %w = arith.addf %v, %v : f32
// CHECK-NEXT:            memref.store %w, %y[%[[POS]], %j] : memref<10x3xf32>
// CHECK-NEXT:          }
// CHECK-NOT:   axis "i.tail"
// CHECK:         func.return

// SCF-LABEL: func.func @guard
// SCF:         scf.for
// SCF:           arith.cmpi ult
// SCF:             scf.if
// SCF-NEXT:          memref.load %x

// -----

// A factor that divides the trip count needs no guard: the split is the peeling one.
func.func @divides(%x: memref<8xf32>) attributes {loop.kernel, loop.schedule = "[{\"primitive\": \"split\", \"axis\": \"i\", \"factor\": 4, \"tail\": \"guard\"}]"} {
  loop.for %i = 0 to 8 step 1 axis "i" {
    %z = arith.constant 0.0 : f32
    memref.store %z, %x[%i] : memref<8xf32>
  }
  func.return
}

// CHECK-LABEL: func.func @divides
// CHECK-NEXT:    loop.for %i.outer = 0 to 2 step 1 axis "i.outer" {
// CHECK-NOT:     scf.if
// CHECK:         func.return

// RUN: compiler-opt %s --split-input-file -p apply-schedule | filecheck %s

// reorder permutes loop headers (bounds, names, annotations); the body is unchanged.
func.func @reorder(%x: memref<2x3x4xf32>) attributes {loop.kernel, loop.schedule = "[{\"primitive\": \"reorder\", \"axes\": [\"k\", \"i\", \"j\"]}]"} {
  loop.for %i = 0 to 2 step 1 axis "i" {
    loop.for %j = 0 to 3 step 1 axis "j" {
      loop.for %k = 0 to 4 step 1 axis "k" {
        %z = arith.constant 0.0 : f32
        memref.store %z, %x[%i, %j, %k] : memref<2x3x4xf32>
      }
    }
  }
  func.return
}

// CHECK-LABEL: func.func @reorder
// CHECK-NEXT:    loop.for %k = 0 to 4 step 1 axis "k" {
// CHECK-NEXT:      loop.for %i = 0 to 2 step 1 axis "i" {
// CHECK-NEXT:        loop.for %j = 0 to 3 step 1 axis "j" {
// CHECK-NEXT:          %z = arith.constant
// CHECK-NEXT:          memref.store %z, %x[%i, %j, %k] : memref<2x3x4xf32>

// -----

// The named loops trade places; a loop between them (i.inner) stays where it is.
// Index arithmetic between split loops is sunk into the innermost body.
func.func @reorder_split(%x: memref<8x4xf32>) attributes {loop.kernel, loop.schedule = "[{\"primitive\": \"split\", \"axis\": \"i\", \"factor\": 4}, {\"primitive\": \"reorder\", \"axes\": [\"j\", \"i.outer\"]}]"} {
  loop.for %i = 0 to 8 step 1 axis "i" {
    loop.for %j = 0 to 4 step 1 axis "j" {
      %z = arith.constant 0.0 : f32
      memref.store %z, %x[%i, %j] : memref<8x4xf32>
    }
  }
  func.return
}

// CHECK-LABEL: func.func @reorder_split
// CHECK-NEXT:    loop.for %j = 0 to 4 step 1 axis "j" {
// CHECK-NEXT:      loop.for %i.inner = 0 to 4 step 1 axis "i.inner" {
// CHECK-NEXT:        loop.for %i.outer = 0 to 2 step 1 axis "i.outer" {
// CHECK-NEXT:          %[[C4:.*]] = arith.constant 4 : index
// CHECK-NEXT:          %[[M:.*]] = arith.muli %i.outer, %[[C4]] : index
// CHECK-NEXT:          %i = arith.addi %[[M]], %i.inner : index
// CHECK:               memref.store %z, %x[%i, %j] : memref<8x4xf32>

// -----

// fuse collapses two perfectly nested loops: the old IVs come back as div/rem.
func.func @fuse(%x: memref<3x5xf32>) attributes {loop.kernel, loop.schedule = "[{\"primitive\": \"fuse\", \"outer\": \"i\", \"inner\": \"j\"}]"} {
  loop.for %i = 0 to 3 step 1 axis "i" {
    loop.for %j = 0 to 5 step 1 axis "j" {
      %z = arith.constant 0.0 : f32
      memref.store %z, %x[%i, %j] : memref<3x5xf32>
    }
  }
  func.return
}

// CHECK-LABEL: func.func @fuse
// CHECK-NEXT:    loop.for %i.j.fused = 0 to 15 step 1 axis "i.j.fused" {
// CHECK-NEXT:      %[[C5:.*]] = arith.constant 5 : index
// CHECK-NEXT:      %i = arith.divui %i.j.fused, %[[C5]] : index
// CHECK-NEXT:      %j = arith.remui %i.j.fused, %[[C5]] : index
// CHECK-NEXT:      %z = arith.constant
// CHECK-NEXT:      memref.store %z, %x[%i, %j] : memref<3x5xf32>
// CHECK-NEXT:    }

// -----

// Fusing a batch loop of extent 1 needs no division; bounds and steps are honoured.
func.func @fuse_unit(%x: memref<1x10xf32>) attributes {loop.kernel, loop.schedule = "[{\"primitive\": \"fuse\", \"outer\": \"n\", \"inner\": \"c\"}]"} {
  loop.for %n = 0 to 1 step 1 axis "n" {
    loop.for %c = 1 to 10 step 3 axis "c" {
      %z = arith.constant 0.0 : f32
      memref.store %z, %x[%n, %c] : memref<1x10xf32>
    }
  }
  func.return
}

// CHECK-LABEL: func.func @fuse_unit
// CHECK-NEXT:    loop.for %n.c.fused = 0 to 3 step 1 axis "n.c.fused" {
// CHECK-NEXT:      %n = arith.constant 0 : index
// CHECK-NEXT:      %[[C3:.*]] = arith.constant 3 : index
// CHECK-NEXT:      %[[M:.*]] = arith.muli %n.c.fused, %[[C3]] : index
// CHECK-NEXT:      %[[C1:.*]] = arith.constant 1 : index
// CHECK-NEXT:      %c = arith.addi %[[M]], %[[C1]] : index
// CHECK-NEXT:      %z = arith.constant
// CHECK-NEXT:      memref.store %z, %x[%n, %c] : memref<1x10xf32>

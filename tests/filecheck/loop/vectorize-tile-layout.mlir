// RUN: compiler-opt %s -p apply-schedule | filecheck %s

// vectorize lays out the local tiles that its loop walks contiguously: a
// cache_write tile takes its buffer's dim order, and here the buffer is
// stored transposed (c[n, m], as an NCHW output is by a channel-vectorized
// conv), so the tile would be 8x2 with the vectorized n loop walking its
// outer, strided dim. vectorize "n" moves that dim last: the tile is 2x8 and
// every access of it (fill, update, write-back) indexes it [m, n].
func.func @transposed_out(%a: memref<4x3xf32>, %b: memref<3x8xf32>, %c: memref<8x4xf32>) attributes {loop.kernel, loop.schedule = "[{\"primitive\": \"split\", \"axis\": \"m\", \"factor\": 2}, {\"primitive\": \"reorder\", \"axes\": [\"m.outer\", \"k\", \"m.inner\", \"n\"]}, {\"primitive\": \"cache_write\", \"axis\": \"m.outer\"}, {\"primitive\": \"vectorize\", \"axis\": \"n\"}]"} {
  loop.for %m = 0 to 4 step 1 axis "m" stage "compute" {
    loop.for %n = 0 to 8 step 1 axis "n" {
      loop.for %k = 0 to 3 step 1 axis "k" {
        %x = memref.load %a[%m, %k] : memref<4x3xf32>
        %y = memref.load %b[%k, %n] : memref<3x8xf32>
        %acc = memref.load %c[%n, %m] : memref<8x4xf32>
        %p = arith.mulf %x, %y : f32
        %s = arith.addf %acc, %p : f32
        memref.store %s, %c[%n, %m] : memref<8x4xf32>
      }
    }
  }
  func.return
}

// CHECK-LABEL: func.func @transposed_out
// CHECK:         %[[T:.*]] = memref.alloca() : memref<2x8xf32>
// CHECK:           loop.for %[[FM:.*]] = 0 to 2 step 1 axis "m.inner.init"
// CHECK-NEXT:        loop.for %[[FN:.*]] = 0 to 8 step 1 axis "n.init"
// CHECK:               memref.store %{{.*}}, %[[T]][%[[FM]], %[[FN]]] : memref<2x8xf32>
// CHECK:             loop.for %[[UM:.*]] = 0 to 2 step 1 axis "m.inner" {
// CHECK-NEXT:          loop.for %[[UN:.*]] = 0 to 8 step 1 axis "n" vectorize {
// CHECK:                 memref.load %[[T]][%[[UM]], %[[UN]]] : memref<2x8xf32>
// CHECK:                 memref.store %{{.*}}, %[[T]][%[[UM]], %[[UN]]] : memref<2x8xf32>
// CHECK:           loop.for %[[WM:.*]] = 0 to 2 step 1 axis "m.inner.wb"
// CHECK-NEXT:        loop.for %[[WN:.*]] = 0 to 8 step 1 axis "n.wb"
// CHECK:               memref.load %[[T]][%[[WM]], %[[WN]]] : memref<2x8xf32>
// CHECK-NOT:     memref<8x2xf32>

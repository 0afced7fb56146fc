// RUN: compiler-opt %s --split-input-file -p apply-schedule | filecheck %s

// cache_write(axis): the elements of the output buffer that one iteration of
// `axis` updates (a tile) accumulate in a `memref.alloca` that is initialized
// at the top of the iteration (`<loop>.init` loops mirroring the tile loops)
// and written back once at its end (`<loop>.wb` loops). Once every update of
// the buffer goes through tiles, the `init` stage is inlined into the tile's
// initialization, the `epilogue` stage runs in the write-back on the value
// about to be stored, and both stage nests are removed.

// A register tile of 2 rows x 8 columns per iteration of m.outer: the init
// value (0.0) goes straight into the tile, the updates over k read and write
// the tile, and the write-back stores relu(tile) into %c. Nothing of the
// init and epilogue nests is left (the body is matched line by line).
func.func @matmul_tile(%a: memref<4x3xf32>, %b: memref<3x8xf32>, %c: memref<4x8xf32>) attributes {loop.kernel, loop.schedule = "[{\"primitive\": \"split\", \"axis\": \"m\", \"factor\": 2}, {\"primitive\": \"reorder\", \"axes\": [\"m.outer\", \"k\", \"m.inner\", \"n\"]}, {\"primitive\": \"cache_write\", \"axis\": \"m.outer\"}]"} {
  loop.for %mi = 0 to 4 step 1 axis "m.init" stage "init" {
    loop.for %ni = 0 to 8 step 1 axis "n.init" {
      %z = arith.constant 0.0 : f32
      memref.store %z, %c[%mi, %ni] : memref<4x8xf32>
    }
  }
  loop.for %m = 0 to 4 step 1 axis "m" stage "compute" {
    loop.for %n = 0 to 8 step 1 axis "n" {
      loop.for %k = 0 to 3 step 1 axis "k" {
        %x = memref.load %a[%m, %k] : memref<4x3xf32>
        %y = memref.load %b[%k, %n] : memref<3x8xf32>
        %acc = memref.load %c[%m, %n] : memref<4x8xf32>
        %p = arith.mulf %x, %y : f32
        %s = arith.addf %acc, %p : f32
        memref.store %s, %c[%m, %n] : memref<4x8xf32>
      }
    }
  }
  loop.for %me = 0 to 4 step 1 axis "m.epi" stage "epilogue" {
    loop.for %ne = 0 to 8 step 1 axis "n.epi" {
      %v = memref.load %c[%me, %ne] : memref<4x8xf32>
      %zero = arith.constant 0.0 : f32
      %r = arith.maximumf %v, %zero : f32
      memref.store %r, %c[%me, %ne] : memref<4x8xf32>
    }
  }
  func.return
}

// CHECK-LABEL: func.func @matmul_tile
// CHECK-SAME:    loop.scheduled} {
// CHECK-NEXT:    loop.for %m.outer = 0 to 2 step 1 axis "m.outer" stage "compute" {
// CHECK-NEXT:      %acc = memref.alloca() : memref<2x8xf32>
// CHECK-NEXT:      loop.for %[[IM:.*]] = 0 to 2 step 1 axis "m.inner.init" {
// CHECK-NEXT:        loop.for %[[IN:.*]] = 0 to 8 step 1 axis "n.init{{[0-9]*}}" {
// CHECK:               %z = arith.constant 0.000000e+00 : f32
// CHECK-NEXT:          memref.store %z, %acc[%[[IM]], %[[IN]]] : memref<2x8xf32>
// CHECK-NEXT:        }
// CHECK-NEXT:      }
// CHECK-NEXT:      loop.for %k = 0 to 3 step 1 axis "k" {
// CHECK-NEXT:        loop.for %[[M:.*]] = 0 to 2 step 1 axis "m.inner" {
// CHECK-NEXT:          loop.for %[[N:.*]] = 0 to 8 step 1 axis "n" {
// CHECK:                 %m = arith.addi %{{.*}}, %[[M]] : index
// CHECK-NEXT:            %x = memref.load %a[%m, %k] : memref<4x3xf32>
// CHECK-NEXT:            %y = memref.load %b[%k, %[[N]]] : memref<3x8xf32>
// CHECK-NEXT:            %[[ACC:.*]] = memref.load %acc[%[[M]], %[[N]]] : memref<2x8xf32>
// CHECK-NEXT:            %p = arith.mulf %x, %y : f32
// CHECK-NEXT:            %s = arith.addf %[[ACC]], %p : f32
// CHECK-NEXT:            memref.store %s, %acc[%[[M]], %[[N]]] : memref<2x8xf32>
// CHECK-NEXT:          }
// CHECK-NEXT:        }
// CHECK-NEXT:      }
// CHECK-NEXT:      loop.for %[[WM:.*]] = 0 to 2 step 1 axis "m.inner.wb" {
// CHECK-NEXT:        loop.for %[[WN:.*]] = 0 to 8 step 1 axis "n.wb" {
// CHECK:               %[[T:.*]] = memref.load %acc[%[[WM]], %[[WN]]] : memref<2x8xf32>
// CHECK:               %[[ROW:.*]] = arith.addi %{{.*}}, %[[WM]] : index
// CHECK-NEXT:          %zero = arith.constant 0.000000e+00 : f32
// CHECK-NEXT:          %r = arith.maximumf %[[T]], %zero : f32
// CHECK-NEXT:          memref.store %r, %c[%[[ROW]], %[[WN]]] : memref<4x8xf32>
// CHECK-NEXT:        }
// CHECK-NEXT:      }
// CHECK-NEXT:    }
// CHECK-NEXT:    func.return

// -----

// position "around": the tile is placed around the loop itself, in its
// parent's body. A matrix-vector product has no spatial loop above the
// reduction once k is outermost, so the tile is all of %y (8 elements),
// initialized before the k loop and written back (with the bias epilogue)
// after it.
func.func @matvec_around(%w: memref<3x8xf32>, %x: memref<3xf32>, %bias: memref<8xf32>, %y: memref<8xf32>) attributes {loop.kernel, loop.schedule = "[{\"primitive\": \"reorder\", \"axes\": [\"k\", \"n\"]}, {\"primitive\": \"cache_write\", \"axis\": \"k\", \"position\": \"around\"}]"} {
  loop.for %ni = 0 to 8 step 1 axis "n.init" stage "init" {
    %z = arith.constant 0.0 : f32
    memref.store %z, %y[%ni] : memref<8xf32>
  }
  loop.for %n = 0 to 8 step 1 axis "n" stage "compute" {
    loop.for %k = 0 to 3 step 1 axis "k" {
      %wv = memref.load %w[%k, %n] : memref<3x8xf32>
      %xv = memref.load %x[%k] : memref<3xf32>
      %acc = memref.load %y[%n] : memref<8xf32>
      %p = arith.mulf %wv, %xv : f32
      %s = arith.addf %acc, %p : f32
      memref.store %s, %y[%n] : memref<8xf32>
    }
  }
  loop.for %ne = 0 to 8 step 1 axis "n.epi" stage "epilogue" {
    %v = memref.load %y[%ne] : memref<8xf32>
    %bv = memref.load %bias[%ne] : memref<8xf32>
    %r = arith.addf %v, %bv : f32
    memref.store %r, %y[%ne] : memref<8xf32>
  }
  func.return
}

// CHECK-LABEL: func.func @matvec_around
// CHECK-NEXT:    %acc = memref.alloca() : memref<8xf32>
// CHECK-NEXT:    loop.for %[[I:.*]] = 0 to 8 step 1 axis "n.init{{[0-9]*}}" {
// CHECK-NEXT:      %z = arith.constant 0.000000e+00 : f32
// CHECK-NEXT:      memref.store %z, %acc[%[[I]]] : memref<8xf32>
// CHECK-NEXT:    }
// CHECK-NEXT:    loop.for %k = 0 to 3 step 1 axis "k" stage "compute" {
// CHECK-NEXT:      loop.for %[[N:.*]] = 0 to 8 step 1 axis "n" {
// CHECK-NEXT:        %wv = memref.load %w[%k, %[[N]]] : memref<3x8xf32>
// CHECK-NEXT:        %xv = memref.load %x[%k] : memref<3xf32>
// CHECK-NEXT:        %[[A:.*]] = memref.load %acc[%[[N]]] : memref<8xf32>
// CHECK-NEXT:        %p = arith.mulf %wv, %xv : f32
// CHECK-NEXT:        %s = arith.addf %[[A]], %p : f32
// CHECK-NEXT:        memref.store %s, %acc[%[[N]]] : memref<8xf32>
// CHECK-NEXT:      }
// CHECK-NEXT:    }
// CHECK-NEXT:    loop.for %[[W:.*]] = 0 to 8 step 1 axis "n.wb" {
// CHECK-NEXT:      %[[T:.*]] = memref.load %acc[%[[W]]] : memref<8xf32>
// CHECK-NEXT:      %bv = memref.load %bias[%[[W]]] : memref<8xf32>
// CHECK-NEXT:      %r = arith.addf %[[T]], %bv : f32
// CHECK-NEXT:      memref.store %r, %y[%[[W]]] : memref<8xf32>
// CHECK-NEXT:    }
// CHECK-NEXT:    func.return

// -----

// Partial coverage: n (10 columns) is split by 4 and only the main part
// (n.outer) gets tiles; the remainder n.tail still updates %c directly. The
// result is correct but not finalized: the init and epilogue nests stay,
// the tile's initial value is the init stage's (inlined), and the
// write-back is a plain store marked `loop.writeback`.
func.func @partial(%a: memref<2x3xf32>, %b: memref<3x10xf32>, %c: memref<2x10xf32>) attributes {loop.kernel, loop.schedule = "[{\"primitive\": \"split\", \"axis\": \"n\", \"factor\": 4}, {\"primitive\": \"reorder\", \"axes\": [\"n.outer\", \"k\", \"n.inner\"]}, {\"primitive\": \"cache_write\", \"axis\": \"n.outer\"}]"} {
  loop.for %mi = 0 to 2 step 1 axis "m.init" stage "init" {
    loop.for %ni = 0 to 10 step 1 axis "n.init" {
      %z = arith.constant 0.0 : f32
      memref.store %z, %c[%mi, %ni] : memref<2x10xf32>
    }
  }
  loop.for %m = 0 to 2 step 1 axis "m" stage "compute" {
    loop.for %n = 0 to 10 step 1 axis "n" {
      loop.for %k = 0 to 3 step 1 axis "k" {
        %x = memref.load %a[%m, %k] : memref<2x3xf32>
        %y = memref.load %b[%k, %n] : memref<3x10xf32>
        %acc = memref.load %c[%m, %n] : memref<2x10xf32>
        %p = arith.mulf %x, %y : f32
        %s = arith.addf %acc, %p : f32
        memref.store %s, %c[%m, %n] : memref<2x10xf32>
      }
    }
  }
  loop.for %me = 0 to 2 step 1 axis "m.epi" stage "epilogue" {
    loop.for %ne = 0 to 10 step 1 axis "n.epi" {
      %v = memref.load %c[%me, %ne] : memref<2x10xf32>
      %zero = arith.constant 0.0 : f32
      %r = arith.maximumf %v, %zero : f32
      memref.store %r, %c[%me, %ne] : memref<2x10xf32>
    }
  }
  func.return
}

// CHECK-LABEL: func.func @partial
// CHECK-NEXT:    loop.for %mi = 0 to 2 step 1 axis "m.init" stage "init" {
// CHECK:         loop.for %m = 0 to 2 step 1 axis "m" stage "compute" {
// CHECK-NEXT:      loop.for %n.outer = 0 to 2 step 1 axis "n.outer" {
// CHECK-NEXT:        %acc = memref.alloca() : memref<1x4xf32>
// CHECK-NEXT:        loop.for %{{.*}} = 0 to 4 step 1 axis "n.inner.init" {
// CHECK:               arith.constant 0.000000e+00 : f32
// CHECK-NEXT:          memref.store %{{.*}}, %acc[%{{.*}}] : memref<1x4xf32>
// CHECK:             loop.for %k = 0 to 3 step 1 axis "k" {
// CHECK-NEXT:          loop.for %{{.*}} = 0 to 4 step 1 axis "n.inner" {
// CHECK:                 memref.store %s, %acc[%{{.*}}] : memref<1x4xf32>
// CHECK:             loop.for %[[W:.*]] = 0 to 4 step 1 axis "n.inner.wb" {
// CHECK:               %[[COL:.*]] = arith.addi %{{.*}}, %[[W]] : index
// CHECK-NEXT:          %[[T:.*]] = memref.load %acc[%{{.*}}, %[[W]]] : memref<1x4xf32>
// CHECK-NEXT:          memref.store %[[T]], %c[%m, %[[COL]]] {loop.writeback} : memref<2x10xf32>
// CHECK:           loop.for %[[NT:.*]] = 8 to 10 step 1 axis "n.tail" {
// CHECK-NEXT:        loop.for %{{.*}} = 0 to 3 step 1 axis "k.tail" {
// CHECK:               memref.load %c[%m, %[[NT]]] : memref<2x10xf32>
// CHECK:               memref.store %{{.*}}, %c[%m, %[[NT]]] : memref<2x10xf32>
// CHECK:         loop.for %me = 0 to 2 step 1 axis "m.epi" stage "epilogue" {
// CHECK:               arith.maximumf
// CHECK:         func.return

// -----

// The same, then a second cache_write "around" the remainder (after moving
// its reduction outermost): its tile covers the 2 remainder columns (the
// tile's origin is column 8), every update now goes through a tile, so the
// init and epilogue nests are gone and both write-backs apply the relu.
func.func @complete(%a: memref<2x3xf32>, %b: memref<3x10xf32>, %c: memref<2x10xf32>) attributes {loop.kernel, loop.schedule = "[{\"primitive\": \"split\", \"axis\": \"n\", \"factor\": 4}, {\"primitive\": \"reorder\", \"axes\": [\"n.outer\", \"k\", \"n.inner\"]}, {\"primitive\": \"cache_write\", \"axis\": \"n.outer\"}, {\"primitive\": \"reorder\", \"axes\": [\"k.tail\", \"n.tail\"]}, {\"primitive\": \"cache_write\", \"axis\": \"k.tail\", \"position\": \"around\"}]"} {
  loop.for %mi = 0 to 2 step 1 axis "m.init" stage "init" {
    loop.for %ni = 0 to 10 step 1 axis "n.init" {
      %z = arith.constant 0.0 : f32
      memref.store %z, %c[%mi, %ni] : memref<2x10xf32>
    }
  }
  loop.for %m = 0 to 2 step 1 axis "m" stage "compute" {
    loop.for %n = 0 to 10 step 1 axis "n" {
      loop.for %k = 0 to 3 step 1 axis "k" {
        %x = memref.load %a[%m, %k] : memref<2x3xf32>
        %y = memref.load %b[%k, %n] : memref<3x10xf32>
        %acc = memref.load %c[%m, %n] : memref<2x10xf32>
        %p = arith.mulf %x, %y : f32
        %s = arith.addf %acc, %p : f32
        memref.store %s, %c[%m, %n] : memref<2x10xf32>
      }
    }
  }
  loop.for %me = 0 to 2 step 1 axis "m.epi" stage "epilogue" {
    loop.for %ne = 0 to 10 step 1 axis "n.epi" {
      %v = memref.load %c[%me, %ne] : memref<2x10xf32>
      %zero = arith.constant 0.0 : f32
      %r = arith.maximumf %v, %zero : f32
      memref.store %r, %c[%me, %ne] : memref<2x10xf32>
    }
  }
  func.return
}

// CHECK-LABEL: func.func @complete
// CHECK-NEXT:    loop.for %m = 0 to 2 step 1 axis "m" stage "compute" {
// CHECK-NEXT:      loop.for %n.outer = 0 to 2 step 1 axis "n.outer" {
// CHECK-NEXT:        %acc = memref.alloca() : memref<1x4xf32>
// CHECK:             loop.for %[[W:.*]] = 0 to 4 step 1 axis "n.inner.wb" {
// CHECK:               %[[T:.*]] = memref.load %acc[%{{.*}}, %[[W]]] : memref<1x4xf32>
// CHECK:               %[[COL:.*]] = arith.addi %{{.*}}, %[[W]] : index
// CHECK-NEXT:          %zero = arith.constant 0.000000e+00 : f32
// CHECK-NEXT:          %r = arith.maximumf %[[T]], %zero : f32
// CHECK-NEXT:          memref.store %r, %c[%m, %[[COL]]] : memref<2x10xf32>
// CHECK-NEXT:        }
// CHECK-NEXT:      }
// CHECK-NEXT:      %[[ACC2:.*]] = memref.alloca() : memref<1x2xf32>
// CHECK-NEXT:      loop.for %[[I:.*]] = 8 to 10 step 1 axis "n.tail.init" {
// CHECK-NEXT:        %[[Z0:.*]] = arith.constant 0 : index
// CHECK-NEXT:        %[[M8:.*]] = arith.constant -8 : index
// CHECK-NEXT:        %[[L:.*]] = arith.addi %[[M8]], %[[I]] : index
// CHECK-NEXT:        %[[ZF:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT:        memref.store %[[ZF]], %[[ACC2]][%[[Z0]], %[[L]]] : memref<1x2xf32>
// CHECK-NEXT:      }
// CHECK-NEXT:      loop.for %{{.*}} = 0 to 3 step 1 axis "k.tail" {
// CHECK-NEXT:        loop.for %{{.*}} = 8 to 10 step 1 axis "n.tail" {
// CHECK:               memref.load %[[ACC2]]
// CHECK:               memref.store %{{.*}}, %[[ACC2]]
// CHECK:           loop.for %[[WT:.*]] = 8 to 10 step 1 axis "n.tail.wb" {
// CHECK:             %[[TT:.*]] = memref.load %[[ACC2]][%{{.*}}, %{{.*}}] : memref<1x2xf32>
// CHECK-NEXT:        %{{.*}} = arith.constant 0.000000e+00 : f32
// CHECK-NEXT:        %[[RT:.*]] = arith.maximumf %[[TT]], %{{.*}} : f32
// CHECK-NEXT:        memref.store %[[RT]], %c[%m, %[[WT]]] : memref<2x10xf32>
// CHECK-NEXT:      }
// CHECK-NEXT:    }
// CHECK-NEXT:    func.return

// -----

// A kernel without an init stage (it accumulates into what %c holds): the
// tile is initialized by loading the buffer.
func.func @no_init(%a: memref<2x3xf32>, %b: memref<3x4xf32>, %c: memref<2x4xf32>) attributes {loop.kernel, loop.schedule = "[{\"primitive\": \"reorder\", \"axes\": [\"k\", \"n\"]}, {\"primitive\": \"cache_write\", \"axis\": \"m\"}]"} {
  loop.for %m = 0 to 2 step 1 axis "m" stage "compute" {
    loop.for %n = 0 to 4 step 1 axis "n" {
      loop.for %k = 0 to 3 step 1 axis "k" {
        %x = memref.load %a[%m, %k] : memref<2x3xf32>
        %y = memref.load %b[%k, %n] : memref<3x4xf32>
        %acc = memref.load %c[%m, %n] : memref<2x4xf32>
        %p = arith.mulf %x, %y : f32
        %s = arith.addf %acc, %p : f32
        memref.store %s, %c[%m, %n] : memref<2x4xf32>
      }
    }
  }
  func.return
}

// CHECK-LABEL: func.func @no_init
// CHECK-NEXT:    loop.for %m = 0 to 2 step 1 axis "m" stage "compute" {
// CHECK-NEXT:      %acc = memref.alloca() : memref<1x4xf32>
// CHECK-NEXT:      loop.for %[[I:.*]] = 0 to 4 step 1 axis "n.init" {
// CHECK-NEXT:        %[[Z:.*]] = arith.constant 0 : index
// CHECK-NEXT:        %[[V:.*]] = memref.load %c[%m, %[[I]]] {loop.tile_fill} : memref<2x4xf32>
// CHECK-NEXT:        memref.store %[[V]], %acc[%[[Z]], %[[I]]] : memref<1x4xf32>
// CHECK-NEXT:      }
// CHECK-NEXT:      loop.for %k = 0 to 3 step 1 axis "k" {
// CHECK-NEXT:        loop.for %[[N:.*]] = 0 to 4 step 1 axis "n" {
// CHECK:               %[[A:.*]] = memref.load %acc[%{{.*}}, %[[N]]] : memref<1x4xf32>
// CHECK:               memref.store %s, %acc[%{{.*}}, %[[N]]] : memref<1x4xf32>
// CHECK:           loop.for %[[W:.*]] = 0 to 4 step 1 axis "n.wb" {
// CHECK-NEXT:        %[[Z2:.*]] = arith.constant 0 : index
// CHECK-NEXT:        %[[T:.*]] = memref.load %acc[%[[Z2]], %[[W]]] : memref<1x4xf32>
// CHECK-NEXT:        memref.store %[[T]], %c[%m, %[[W]]]{{.*}}: memref<2x4xf32>
// CHECK-NEXT:      }
// CHECK-NEXT:    }
// CHECK-NEXT:    func.return

// RUN: compiler-opt %s --split-input-file -p convert-loop-to-scf | filecheck %s

// Contiguous loads/stores, a uniform load broadcast; an accumulation
// y[i, j] = y[i, j] + a[i, j] * s[i] contracts mulf+addf to fma; 16 f32 lanes.
func.func @contiguous(%a: memref<4x16xf32>, %s: memref<4xf32>, %y: memref<4x16xf32>) {
  loop.for %i = 0 to 4 step 1 axis "i" {
    loop.for %j = 0 to 16 step 1 axis "j" vectorize {
      %av = memref.load %a[%i, %j] : memref<4x16xf32>
      %sv = memref.load %s[%i] : memref<4xf32>
      %yv = memref.load %y[%i, %j] : memref<4x16xf32>
      %p = arith.mulf %av, %sv : f32
      %r = arith.addf %yv, %p : f32
      memref.store %r, %y[%i, %j] : memref<4x16xf32>
    }
  }
  func.return
}

// CHECK-LABEL: func.func @contiguous
// CHECK:         scf.for %i = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK-NEXT:      %[[J:.*]] = arith.constant 0 : index
// CHECK-NEXT:      %[[A:.*]] = vector.load %a[%i, %[[J]]] : memref<4x16xf32>, vector<16xf32>
// CHECK-NEXT:      %sv = memref.load %s[%i] : memref<4xf32>
// CHECK-NEXT:      %[[Y:.*]] = vector.load %y[%i, %[[J]]] : memref<4x16xf32>, vector<16xf32>
// CHECK-NEXT:      %[[S:.*]] = vector.broadcast %sv : f32 to vector<16xf32>
// CHECK-NEXT:      %[[R:.*]] = vector.fma %[[A]], %[[S]], %[[Y]] : vector<16xf32>
// CHECK-NEXT:      vector.store %[[R]], %y[%i, %[[J]]] : memref<4x16xf32>, vector<16xf32>
// CHECK-NEXT:    }

// -----

// Not an accumulation (y = a * b + s, an epilogue's scale and bias): the
// product is rounded before the sum, as separate Mul and Add ops round it.
func.func @mul_add(%a: memref<16xf32>, %b: memref<16xf32>, %s: memref<1xf32>, %y: memref<16xf32>) {
  loop.for %j = 0 to 16 step 1 axis "j" vectorize {
    %c0 = arith.constant 0 : index
    %av = memref.load %a[%j] : memref<16xf32>
    %bv = memref.load %b[%j] : memref<16xf32>
    %sv = memref.load %s[%c0] : memref<1xf32>
    %p = arith.mulf %av, %bv : f32
    %r = arith.addf %p, %sv : f32
    memref.store %r, %y[%j] : memref<16xf32>
  }
  func.return
}

// CHECK-LABEL: func.func @mul_add
// CHECK-NOT:     vector.fma
// CHECK:         %[[P:.*]] = arith.mulf %{{.*}}, %{{.*}} : vector<16xf32>
// CHECK:         %{{.*}} = arith.addf %[[P]], %{{.*}} : vector<16xf32>
// CHECK-NOT:     vector.fma
// CHECK:         func.return

// -----

// 40 iterations of f64: 8 lanes, 5 chunks in an scf.for; a stride-3 load is gathered.
func.func @strided_gather(%x: memref<120xf64>, %y: memref<40xf64>) {
  loop.for %i = 0 to 40 step 1 axis "i" vectorize {
    %c3 = arith.constant 3 : index
    %i2 = arith.muli %i, %c3 : index
    %v = memref.load %x[%i2] : memref<120xf64>
    %e = math.exp %v : f64
    memref.store %e, %y[%i] : memref<40xf64>
  }
  func.return
}

// CHECK-LABEL: func.func @strided_gather
// CHECK:         %[[LB:.*]] = arith.constant 0 : index
// CHECK-NEXT:    %[[UB:.*]] = arith.constant 40 : index
// CHECK-NEXT:    %[[VL:.*]] = arith.constant 8 : index
// CHECK-NEXT:    scf.for %i = %[[LB]] to %[[UB]] step %[[VL]] {
// CHECK:           %[[I2:.*]] = arith.muli %i, %c3 : index
// CHECK-NEXT:      %[[L0:.*]] = memref.load %x[%[[I2]]] : memref<120xf64>
// CHECK-NEXT:      %[[C3:.*]] = arith.constant 3 : index
// CHECK-NEXT:      %[[I2B:.*]] = arith.addi %[[I2]], %[[C3]] : index
// CHECK-NEXT:      %[[L1:.*]] = memref.load %x[%[[I2B]]] : memref<120xf64>
// CHECK:           %[[G0:.*]] = vector.broadcast %[[L0]] : f64 to vector<8xf64>
// CHECK-NEXT:      %[[G1:.*]] = vector.insert %[[L1]], %[[G0]] [1] : f64 into vector<8xf64>
// CHECK:           %[[G7:.*]] = vector.insert %{{.*}}, %{{.*}} [7] : f64 into vector<8xf64>
// CHECK-NEXT:      %[[E:.*]] = math.exp %[[G7]] : vector<8xf64>
// CHECK-NEXT:      vector.store %[[E]], %y[%i] : memref<40xf64>, vector<8xf64>
// CHECK-NEXT:    }
// CHECK-NEXT:    func.return

// -----

// A stride-2 load (a stride-2 pool or conv reading its input row): two
// vector loads, the second starting vl - 1 elements on, so that they never
// read past the last element used, and a shuffle of the even elements.
func.func @stride2(%x: memref<31xf32>, %y: memref<16xf32>) {
  loop.for %i = 0 to 16 step 1 axis "i" vectorize {
    %c2 = arith.constant 2 : index
    %i2 = arith.muli %i, %c2 : index
    %v = memref.load %x[%i2] : memref<31xf32>
    memref.store %v, %y[%i] : memref<16xf32>
  }
  func.return
}

// CHECK-LABEL: func.func @stride2
// CHECK:         %[[I2:.*]] = arith.muli %{{.*}}, %c2 : index
// CHECK-NEXT:    %[[A:.*]] = vector.load %x[%[[I2]]] : memref<31xf32>, vector<16xf32>
// CHECK-NEXT:    %[[C15:.*]] = arith.constant 15 : index
// CHECK-NEXT:    %[[I15:.*]] = arith.addi %[[I2]], %[[C15]] : index
// CHECK-NEXT:    %[[B:.*]] = vector.load %x[%[[I15]]] : memref<31xf32>, vector<16xf32>
// CHECK-NEXT:    %[[S:.*]] = vector.shuffle %[[A]], %[[B]] [0, 2, 4, 6, 8, 10, 12, 14, 17, 19, 21, 23, 25, 27, 29, 31] : vector<16xf32>, vector<16xf32>
// CHECK-NEXT:    vector.store %[[S]], %y[%{{.*}}] : memref<16xf32>, vector<16xf32>

// -----

// A transposed (strided) store is scattered; 11 iterations: 8 lanes, 2 lanes, one scalar.
func.func @scatter_tail(%x: memref<11xf32>, %y: memref<11x2xf32>) {
  loop.for %i = 0 to 11 step 1 axis "i" vectorize {
    %v = memref.load %x[%i] : memref<11xf32>
    %c1 = arith.constant 1 : index
    memref.store %v, %y[%i, %c1] : memref<11x2xf32>
  }
  func.return
}

// CHECK-LABEL: func.func @scatter_tail
// CHECK-NEXT:    %[[B:.*]] = arith.constant 0 : index
// CHECK-NEXT:    %[[V:.*]] = vector.load %x[%[[B]]] : memref<11xf32>, vector<8xf32>
// CHECK-NEXT:    %c1 = arith.constant 1 : index
// CHECK-NEXT:    %[[E0:.*]] = vector.extract %[[V]][0] : f32 from vector<8xf32>
// CHECK-NEXT:    memref.store %[[E0]], %y[%[[B]], %c1] : memref<11x2xf32>
// CHECK-NEXT:    %[[K1:.*]] = arith.constant 1 : index
// CHECK-NEXT:    %[[I1:.*]] = arith.addi %[[B]], %[[K1]] : index
// CHECK-NEXT:    %[[E1:.*]] = vector.extract %[[V]][1] : f32 from vector<8xf32>
// CHECK-NEXT:    memref.store %[[E1]], %y[%[[I1]], %c1] : memref<11x2xf32>
// CHECK:         %[[E7:.*]] = vector.extract %[[V]][7] : f32 from vector<8xf32>
// CHECK-NEXT:    memref.store %[[E7]], %y[%{{.*}}, %c1] : memref<11x2xf32>
// CHECK-NEXT:    %[[B8:.*]] = arith.constant 8 : index
// CHECK-NEXT:    %[[V2:.*]] = vector.load %x[%[[B8]]] : memref<11xf32>, vector<2xf32>
// CHECK:         vector.extract %[[V2]][1] : f32 from vector<2xf32>
// CHECK:         %[[B10:.*]] = arith.constant 10 : index
// CHECK-NEXT:    %v = memref.load %x[%[[B10]]] : memref<11xf32>
// CHECK-NEXT:    %{{.*}} = arith.constant 1 : index
// CHECK-NEXT:    memref.store %v, %y[%[[B10]], %{{.*}}] : memref<11x2xf32>
// CHECK-NEXT:    func.return

// -----

// A float reduction (acc[u] = acc[u] + x[i], u invariant): the lanes keep
// partials in a vector<16xf32> that starts at the identity (-0.0 for a sum),
// and after the loop they and the accumulator reduce into the accumulator.
func.func @reduction(%x: memref<32xf32>, %acc: memref<1xf32>) {
  loop.for %i = 0 to 32 step 1 axis "i" vectorize {
    %c0 = arith.constant 0 : index
    %v = memref.load %x[%i] : memref<32xf32>
    %a = memref.load %acc[%c0] : memref<1xf32>
    %s = arith.addf %a, %v : f32
    memref.store %s, %acc[%c0] : memref<1xf32>
  }
  func.return
}

// CHECK-LABEL: func.func @reduction
// CHECK:         %[[P:.*]] = memref.alloca() : memref<16xf32>
// CHECK-NEXT:    %[[ID:.*]] = arith.constant -0.000000e+00 : f32
// CHECK-NEXT:    %[[SPLAT:.*]] = vector.broadcast %[[ID]] : f32 to vector<16xf32>
// CHECK-NEXT:    vector.store %[[SPLAT]], %[[P]][%{{.*}}] : memref<16xf32>, vector<16xf32>
// CHECK:         scf.for %i = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK:           %[[V:.*]] = vector.load %x[%i] : memref<32xf32>, vector<16xf32>
// CHECK:           %[[OLD:.*]] = vector.load %[[P]][%{{.*}}] : memref<16xf32>, vector<16xf32>
// CHECK-NEXT:      %[[NEW:.*]] = arith.addf %[[OLD]], %[[V]] : vector<16xf32>
// CHECK-NEXT:      vector.store %[[NEW]], %[[P]][%{{.*}}] : memref<16xf32>, vector<16xf32>
// CHECK-NEXT:    }
// CHECK:         %[[LANES:.*]] = vector.load %[[P]][%{{.*}}] : memref<16xf32>, vector<16xf32>
// CHECK-NEXT:    %[[ACC:.*]] = memref.load %acc[%[[C:.*]]] : memref<1xf32>
// CHECK-NEXT:    %[[SUM:.*]] = vector.reduction <add>, %[[LANES]], %[[ACC]] : vector<16xf32> into f32
// CHECK-NEXT:    memref.store %[[SUM]], %acc[%[[C]]] : memref<1xf32>
// CHECK-NEXT:    func.return

// -----

// A softmax's exp-sum: the exps are stored along the loop while their sum is
// reduced; the max is read (uniform). 20 iterations: after the 16-lane chunk
// and the reduction of the partials, the last 4 run as a scalar loop on the
// accumulator (no halving vector chunks after a reduction).
func.func @exp_sum(%x: memref<20xf32>, %y: memref<20xf32>, %max: memref<1xf32>, %sum: memref<1xf32>) {
  %c0 = arith.constant 0 : index
  loop.for %i = 0 to 20 step 1 axis "i" vectorize {
    %v = memref.load %x[%i] : memref<20xf32>
    %m = memref.load %max[%c0] : memref<1xf32>
    %d = arith.subf %v, %m : f32
    %e = math.exp %d : f32
    %s = memref.load %sum[%c0] : memref<1xf32>
    %t = arith.addf %s, %e : f32
    memref.store %t, %sum[%c0] : memref<1xf32>
    memref.store %e, %y[%i] : memref<20xf32>
  }
  func.return
}

// CHECK-LABEL: func.func @exp_sum
// CHECK:         %[[E:.*]] = math.exp %{{.*}} : vector<16xf32>
// CHECK:         arith.addf %{{.*}}, %[[E]] : vector<16xf32>
// CHECK:         vector.store %[[E]], %y[%{{.*}}] : memref<20xf32>, vector<16xf32>
// CHECK:         vector.reduction <add>
// CHECK:         scf.for %i = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK:           math.exp %{{.*}} : f32
// CHECK:         }
// CHECK-NOT:     vector<

// -----

// A max reduction starts its lanes at -inf and reduces with maximumf.
func.func @max(%x: memref<16xf32>, %acc: memref<1xf32>) {
  %c0 = arith.constant 0 : index
  loop.for %i = 0 to 16 step 1 axis "i" vectorize {
    %v = memref.load %x[%i] : memref<16xf32>
    %a = memref.load %acc[%c0] : memref<1xf32>
    %m = arith.maximumf %a, %v : f32
    memref.store %m, %acc[%c0] : memref<1xf32>
  }
  func.return
}

// CHECK-LABEL: func.func @max
// CHECK:         arith.constant 0xff800000 : f32
// CHECK:         arith.maximumf %{{.*}}, %{{.*}} : vector<16xf32>
// CHECK:         vector.reduction <maximumf>

// -----

// An integer reduction is refused: its partials are not implemented.
func.func @int_reduction(%x: memref<32xi32>, %acc: memref<1xi32>) {
  %c0 = arith.constant 0 : index
  loop.for %i = 0 to 32 step 1 axis "i" vectorize {
    %v = memref.load %x[%i] : memref<32xi32>
    %a = memref.load %acc[%c0] : memref<1xi32>
    %s = arith.addi %a, %v : i32
    memref.store %s, %acc[%c0] : memref<1xi32>
  }
  func.return
}

// CHECK-LABEL: func.func @int_reduction
// CHECK:         } {loop.not_vectorized = "%acc is stored at an address that does not depend on 'i' (a reduction over it)"}
// CHECK-NOT:     vector.

// -----

// Compare + select: relu-like selects become maxnumf; a general select and an i1
// store go lane by lane (xDSL's cmpf/select take scalars only).
func.func @select(%x: memref<4xf32>, %y: memref<4xf32>, %m: memref<4xi1>) {
  loop.for %i = 0 to 4 step 1 axis "i" vectorize {
    %v = memref.load %x[%i] : memref<4xf32>
    %w = memref.load %y[%i] : memref<4xf32>
    %z = arith.constant 0.0 : f32
    %pos = arith.cmpf ogt, %v, %z : f32
    %relu = arith.select %pos, %v, %z : f32
    %gt = arith.cmpf ogt, %relu, %w : f32
    %r = arith.select %gt, %w, %relu : f32
    memref.store %r, %y[%i] : memref<4xf32>
    memref.store %gt, %m[%i] : memref<4xi1>
  }
  func.return
}

// CHECK-LABEL: func.func @select
// CHECK-NEXT:    %[[B:.*]] = arith.constant 0 : index
// CHECK-NEXT:    %[[X:.*]] = vector.load %x[%[[B]]] : memref<4xf32>, vector<4xf32>
// CHECK-NEXT:    %[[Y:.*]] = vector.load %y[%[[B]]] : memref<4xf32>, vector<4xf32>
// CHECK-NEXT:    %z = arith.constant 0.000000e+00 : f32
// CHECK-NEXT:    %[[Z:.*]] = vector.broadcast %z : f32 to vector<4xf32>
// CHECK-NEXT:    %[[RELU:.*]] = arith.maxnumf %[[X]], %[[Z]] : vector<4xf32>
// CHECK-NEXT:    %[[R0:.*]] = vector.extract %[[RELU]][0] : f32 from vector<4xf32>
// CHECK-NEXT:    %[[Y0:.*]] = vector.extract %[[Y]][0] : f32 from vector<4xf32>
// CHECK-NEXT:    %gt = arith.cmpf ogt, %[[R0]], %[[Y0]] : f32
// CHECK:         %[[S0:.*]] = arith.select %gt, %[[Y0]], %[[R0]] : f32
// CHECK:         %[[V0:.*]] = vector.broadcast %[[S0]] : f32 to vector<4xf32>
// CHECK:         %[[V3:.*]] = vector.insert %{{.*}}, %{{.*}} [3] : f32 into vector<4xf32>
// CHECK-NEXT:    vector.store %[[V3]], %y[%[[B]]] : memref<4xf32>, vector<4xf32>
// CHECK-NEXT:    %[[M0:.*]] = vector.broadcast %gt : i1 to vector<4xi1>
// CHECK:         %[[M3:.*]] = vector.insert %gt_3, %{{.*}} [3] : i1 into vector<4xi1>
// CHECK-NEXT:    vector.store %[[M3]], %m[%[[B]]] : memref<4xi1>, vector<4xi1>

// -----

// Integer index math: the IV used as data becomes an index vector (iota).
func.func @iota(%y: memref<8xi64>) {
  loop.for %i = 0 to 8 step 1 axis "i" vectorize {
    %c3 = arith.constant 3 : index
    %t = arith.muli %i, %c3 : index
    %c5 = arith.constant 5 : index
    %u = arith.addi %t, %c5 : index
    %v = arith.index_cast %u : index to i64
    %w = arith.muli %v, %v : i64
    memref.store %w, %y[%i] : memref<8xi64>
  }
  func.return
}

// CHECK-LABEL: func.func @iota
// CHECK-NEXT:    %[[B:.*]] = arith.constant 0 : index
// CHECK-NEXT:    %c3 = arith.constant 3 : index
// CHECK-NEXT:    %[[T:.*]] = arith.muli %[[B]], %c3 : index
// CHECK-NEXT:    %c5 = arith.constant 5 : index
// CHECK-NEXT:    %[[U:.*]] = arith.addi %[[T]], %c5 : index
// CHECK-NEXT:    %v = arith.index_cast %[[U]] : index to i64
// CHECK-NEXT:    %[[S:.*]] = vector.broadcast %v : i64 to vector<8xi64>
// CHECK-NEXT:    %[[O:.*]] = arith.constant dense<[0, 3, 6, 9, 12, 15, 18, 21]> : vector<8xi64>
// CHECK-NEXT:    %[[V:.*]] = arith.addi %[[S]], %[[O]] : vector<8xi64>
// CHECK-NEXT:    %[[W:.*]] = arith.muli %[[V]], %[[V]] : vector<8xi64>
// CHECK-NEXT:    vector.store %[[W]], %y[%[[B]]] : memref<8xi64>, vector<8xi64>


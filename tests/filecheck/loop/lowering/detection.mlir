// RUN: compiler-opt --split-input-file %s -p plan-memory,convert-graph-to-loop | filecheck %s
// RUN: compiler-opt --split-input-file %s -p 'plan-memory,convert-graph-to-loop,default-schedule{vector-bits=256 vector-registers=16 threads=2 min-parallel-work=1},apply-schedule' | filecheck %s --check-prefix=SCHED

// graph.non_max_suppression: per batch and class, rank the boxes by score
// (i, j), then walk them in rank order (r) against the boxes chosen so far
// (t), then pad the rows after the last selected one (p). Counters live in a
// stack scalar: schedules keep the selection serial; only the padding, whose
// rows are independent, may run in parallel.

// CHECK-LABEL: func.func private @non_max_suppression_0(
// CHECK-SAME:      loop.algorithm = "non_max_suppression"
// CHECK:         %[[RANKS:.*]] = memref.alloc() : memref<5xi64>
// CHECK:         %[[ORDER:.*]] = memref.alloc() : memref<5xi64>
// CHECK:         %[[CHOSEN:.*]] = memref.alloc() : memref<4xi64>
// CHECK:         memref.alloca() : memref<3xi64>
// CHECK:         loop.for {{.*}} axis "b" {
// CHECK-NEXT:      loop.for {{.*}} axis "c" {
// CHECK-NEXT:        loop.for {{.*}} axis "i" {
// CHECK:               loop.for {{.*}} axis "j" {
// CHECK:             loop.for {{.*}} axis "r" {
// CHECK:               loop.for {{.*}} = 0 to 3 step 1 axis "t" {
// CHECK:         loop.for {{.*}} = 0 to 6 step 1 axis "p" {
// CHECK:         memref.dealloc %[[RANKS]]

// SCHED-LABEL: func.func private @non_max_suppression_0(
// SCHED:         loop.for {{.*}} axis "b.c.fused" {
// SCHED:           loop.for {{.*}} axis "r" {
// SCHED:             loop.for {{.*}} axis "t" {
// SCHED:         loop.for {{.*}} axis "p" parallel {
func.func @main(%b: tensor<1x5x4xf32>, %s: tensor<1x2x5xf32>) -> tensor<6x3xi64> {
  %m = graph.constant dense<3> : tensor<i64>
  %t = graph.constant dense<5.000000e-01> : tensor<f32>
  %z = graph.constant dense<0.000000e+00> : tensor<f32>
  %n = graph.constant dense<5> : tensor<i64>
  %y = graph.non_max_suppression %b, %s, %m, %t, %z, %n {center_point_box = 0 : i64, has_score_threshold = 0 : i64, per_class = 3 : i64} : (tensor<1x5x4xf32>, tensor<1x2x5xf32>, tensor<i64>, tensor<f32>, tensor<f32>, tensor<i64>) -> tensor<6x3xi64>
  func.return %y : tensor<6x3xi64>
}

// -----

// graph.roi_align: one nest over rois and bins; each bin runs a fixed grid of
// sampling_ratio x sampling_ratio bilinear samples (masked past the roi's
// grid) whose positions and weights serve every channel (the innermost
// loop), accumulating into the output, then divides by the sample count.

// CHECK-LABEL: func.func private @roi_align_0(
// CHECK-SAME:      loop.algorithm = "roi_align"
// CHECK:         loop.for {{.*}} = 0 to 3 step 1 axis "r" stage "compute" {
// CHECK-NEXT:      loop.for {{.*}} = 0 to 2 step 1 axis "ph" {
// CHECK-NEXT:        loop.for {{.*}} = 0 to 2 step 1 axis "pw" {
// CHECK:               loop.for {{.*}} = 0 to 4 step 1 axis "c.init" {
// CHECK:               loop.for {{.*}} = 0 to 2 step 1 axis "iy" {
// CHECK:                 loop.for {{.*}} = 0 to 2 step 1 axis "ix" {
// CHECK:                   loop.for {{.*}} = 0 to 4 step 1 axis "c" {
// CHECK:               loop.for {{.*}} = 0 to 4 step 1 axis "c.out" {
// CHECK-NEXT:            memref.load
// CHECK-NEXT:            arith.divf

// SCHED-LABEL: func.func private @roi_align_0(
// SCHED:         loop.for {{.*}} axis "r" parallel stage "compute" {
func.func @main(%x: tensor<1x4x8x8xf32>, %r: tensor<3x4xf32>, %i: tensor<3xi64>) -> tensor<3x4x2x2xf32> {
  %y = graph.roi_align %x, %r, %i {mode = "avg", output_height = 2 : i64, output_width = 2 : i64, sampling_ratio = 2 : i64, spatial_scale = 1.0 : f64, half_pixel = 1 : i64} : (tensor<1x4x8x8xf32>, tensor<3x4xf32>, tensor<3xi64>) -> tensor<3x4x2x2xf32>
  func.return %y : tensor<3x4x2x2xf32>
}

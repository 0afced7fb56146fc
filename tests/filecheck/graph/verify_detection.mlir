// RUN: compiler-opt --split-input-file --verify-diagnostics %s | filecheck %s
// Verifiers of non_max_suppression, roi_align, max_roi_pool and non_zero.

func.func @f(%b: tensor<1x6x4xf32>, %s: tensor<1x2x5xf32>, %m: tensor<i64>, %t: tensor<f32>, %n: tensor<i64>) {
  %y = graph.non_max_suppression %b, %s, %m, %t, %t, %n {center_point_box = 0 : i64, has_score_threshold = 0 : i64, per_class = 6 : i64} : (tensor<1x6x4xf32>, tensor<1x2x5xf32>, tensor<i64>, tensor<f32>, tensor<f32>, tensor<i64>) -> tensor<12x3xi64>
  func.return
}
// CHECK: Operation does not verify: scores must have shape [1, classes, 6], got [1, 2, 5]

// -----

func.func @f(%b: tensor<1x6x4xf32>, %s: tensor<1x2x6xf32>, %m: tensor<i64>, %t: tensor<f32>, %n: tensor<i64>) {
  %y = graph.non_max_suppression %b, %s, %m, %t, %t, %n {center_point_box = 0 : i64, has_score_threshold = 0 : i64, per_class = 7 : i64} : (tensor<1x6x4xf32>, tensor<1x2x6xf32>, tensor<i64>, tensor<f32>, tensor<f32>, tensor<i64>) -> tensor<14x3xi64>
  func.return
}
// CHECK: Operation does not verify: per_class=7 must be in [0, 6]

// -----

func.func @f(%b: tensor<1x6x4xf32>, %s: tensor<1x2x6xf32>, %m: tensor<1xi64>, %t: tensor<f32>, %n: tensor<i64>) {
  %y = graph.non_max_suppression %b, %s, %m, %t, %t, %n {center_point_box = 0 : i64, has_score_threshold = 0 : i64, per_class = 2 : i64} : (tensor<1x6x4xf32>, tensor<1x2x6xf32>, tensor<1xi64>, tensor<f32>, tensor<f32>, tensor<i64>) -> tensor<4x3xi64>
  func.return
}
// CHECK: Operation does not verify: max_output must be a scalar

// -----

func.func @f(%x: tensor<1x3x8x8xf32>, %r: tensor<2x5xf32>, %i: tensor<2xi64>) {
  %y = graph.roi_align %x, %r, %i {mode = "avg", output_height = 2 : i64, output_width = 2 : i64, sampling_ratio = 0 : i64, spatial_scale = 1.0 : f64, half_pixel = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<2x5xf32>, tensor<2xi64>) -> tensor<2x3x2x2xf32>
  func.return
}
// CHECK: Operation does not verify: rois must have shape [num_rois, 4], got [2, 5]

// -----

func.func @f(%x: tensor<1x3x8x8xf32>, %r: tensor<2x4xf32>, %i: tensor<2xi64>) {
  %y = graph.roi_align %x, %r, %i {mode = "sum", output_height = 2 : i64, output_width = 2 : i64, sampling_ratio = 0 : i64, spatial_scale = 1.0 : f64, half_pixel = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<2x4xf32>, tensor<2xi64>) -> tensor<2x3x2x2xf32>
  func.return
}
// CHECK: Operation does not verify: mode must be one of avg, max

// -----

func.func @f(%x: tensor<1x3x8x8xf32>, %r: tensor<2x4xf32>) {
  %y = graph.max_roi_pool %x, %r {pooled_height = 2 : i64, pooled_width = 2 : i64, spatial_scale = 1.0 : f64} : (tensor<1x3x8x8xf32>, tensor<2x4xf32>) -> tensor<2x3x2x2xf32>
  func.return
}
// CHECK: Operation does not verify: rois must have shape [num_rois, 5], got [2, 4]

// -----

func.func @f(%x: tensor<f32>) {
  %y = graph.non_zero %x : (tensor<f32>) -> tensor<0x1xi64>
  func.return
}
// CHECK: Operation does not verify: input must have rank 1 or more

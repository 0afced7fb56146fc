// RUN: compiler-opt --split-input-file %s -p plan-memory | filecheck %s
// RUN: compiler-opt --split-input-file %s -p 'plan-memory{in_place=false}' | filecheck %s --check-prefix=NOINPLACE

// Reuse: %a dies at %b, so %c takes %a's bytes; %b overlaps both. The model
// output lives in the caller's buffer (-1); constants get no offset.
// Every tensor is 16x16xf32 = 1024 bytes.
// CHECK-LABEL: func.func @main
// CHECK-SAME:    attributes {graph.arena_bytes = 2048 : i64, graph.naive_bytes = 3072 : i64}
// CHECK:         %w = graph.constant dense<1.000000e+00> : tensor<16x16xf32>
// CHECK-NEXT:    %a = graph.matmul %x, %w {graph.offsets = array<i64: 0>}
// CHECK-NEXT:    %b = graph.transpose %a {graph.offsets = array<i64: 1024>, perm = array<i64: 1, 0>}
// CHECK-NEXT:    %c = graph.transpose %b {graph.offsets = array<i64: 0>, perm = array<i64: 1, 0>}
// CHECK-NEXT:    %d = graph.matmul %c, %w {graph.offsets = array<i64: -1>}
func.func @main(%x: tensor<16x16xf32>) -> tensor<16x16xf32> {
  %w = graph.constant dense<1.0> : tensor<16x16xf32>
  %a = graph.matmul %x, %w : (tensor<16x16xf32>, tensor<16x16xf32>) -> tensor<16x16xf32>
  %b = graph.transpose %a {perm = array<i64: 1, 0>} : (tensor<16x16xf32>) -> tensor<16x16xf32>
  %c = graph.transpose %b {perm = array<i64: 1, 0>} : (tensor<16x16xf32>) -> tensor<16x16xf32>
  %d = graph.matmul %c, %w : (tensor<16x16xf32>, tensor<16x16xf32>) -> tensor<16x16xf32>
  func.return %d : tensor<16x16xf32>
}

// -----

// Sizes round up to 64 bytes: 3xf32 (12 bytes) takes a 64-byte slot, and
// the second small buffer starts on the next cache line.
// CHECK-LABEL: func.func @main
// CHECK-SAME:    attributes {graph.arena_bytes = 128 : i64, graph.naive_bytes = 128 : i64}
// CHECK:         %a = graph.transpose %x {graph.offsets = array<i64: {{0|64}}>
// CHECK-NEXT:    %b = graph.transpose %x {graph.offsets = array<i64: {{0|64}}>
// CHECK-NEXT:    %c = graph.concat %a, %b {graph.offsets = array<i64: -1>
func.func @main(%x: tensor<3x1xf32>) -> tensor<2x3xf32> {
  %a = graph.transpose %x {perm = array<i64: 1, 0>} : (tensor<3x1xf32>) -> tensor<1x3xf32>
  %b = graph.transpose %x {perm = array<i64: 1, 0>} : (tensor<3x1xf32>) -> tensor<1x3xf32>
  %c = graph.concat %a, %b {axis = 0 : i64} : (tensor<1x3xf32>, tensor<1x3xf32>) -> tensor<2x3xf32>
  func.return %c : tensor<2x3xf32>
}

// -----

// In place: %r = relu(%a) where %a dies at %r writes over %a; the add of
// two dying operands writes over its first one. Without in_place every
// result gets its own live slot.
// CHECK-LABEL: func.func @main
// CHECK-SAME:    attributes {graph.arena_bytes = 1024 : i64, graph.naive_bytes = 3072 : i64}
// CHECK:         %a = graph.transpose %x {graph.offsets = array<i64: 0>
// CHECK-NEXT:    %r = graph.relu %a {graph.offsets = array<i64: 0>}
// CHECK-NEXT:    %s = graph.sigmoid %r {graph.offsets = array<i64: 0>}
// CHECK-NEXT:    %t = graph.transpose %s {graph.offsets = array<i64: -1>
// NOINPLACE-LABEL: func.func @main
// NOINPLACE-SAME:    attributes {graph.arena_bytes = 2048 : i64, graph.naive_bytes = 3072 : i64}
func.func @main(%x: tensor<16x16xf32>) -> tensor<16x16xf32> {
  %a = graph.transpose %x {perm = array<i64: 1, 0>} : (tensor<16x16xf32>) -> tensor<16x16xf32>
  %r = graph.relu %a : (tensor<16x16xf32>) -> tensor<16x16xf32>
  %s = graph.sigmoid %r : (tensor<16x16xf32>) -> tensor<16x16xf32>
  %t = graph.transpose %s {perm = array<i64: 1, 0>} : (tensor<16x16xf32>) -> tensor<16x16xf32>
  func.return %t : tensor<16x16xf32>
}

// -----

// No in place while the operand is still live: %a is read again by %s, so
// %r needs its own buffer; %s (both operands die there) reuses %a's.
// CHECK-LABEL: func.func @main
// CHECK-SAME:    attributes {graph.arena_bytes = 2048 : i64, graph.naive_bytes = 3072 : i64}
// CHECK:         %a = graph.transpose %x {graph.offsets = array<i64: [[A:[0-9]+]]>
// CHECK-NEXT:    %r = graph.relu %a {graph.offsets = array<i64: [[R:[0-9]+]]>}
// CHECK-NEXT:    %s = graph.add %a, %r {graph.offsets = array<i64: [[A]]>}
func.func @main(%x: tensor<16x16xf32>) -> tensor<16x16xf32> {
  %a = graph.transpose %x {perm = array<i64: 1, 0>} : (tensor<16x16xf32>) -> tensor<16x16xf32>
  %r = graph.relu %a : (tensor<16x16xf32>) -> tensor<16x16xf32>
  %s = graph.add %a, %r : (tensor<16x16xf32>, tensor<16x16xf32>) -> tensor<16x16xf32>
  %t = graph.transpose %s {perm = array<i64: 1, 0>} : (tensor<16x16xf32>) -> tensor<16x16xf32>
  func.return %t : tensor<16x16xf32>
}

// -----

// No in place across a broadcast (the operand is smaller than the result),
// across a change of element size, or over a model input.
// CHECK-LABEL: func.func @main
// CHECK-SAME:    attributes {graph.arena_bytes = 1536 : i64, graph.naive_bytes = 2624 : i64}
// CHECK:         %a = graph.transpose %x {graph.offsets = array<i64: 1024>
// CHECK-NEXT:    %b = graph.add %a, %y {graph.offsets = array<i64: 0>}
// CHECK-NEXT:    %c = graph.cast %b {graph.offsets = array<i64: 1024>}
// CHECK-NEXT:    %d = graph.relu %y {graph.offsets = array<i64: 0>}
func.func @main(%x: tensor<16x1xf32>, %y: tensor<16x16xf32>) -> (tensor<16x16xf16>, tensor<16x16xf32>) {
  %a = graph.transpose %x {perm = array<i64: 1, 0>} : (tensor<16x1xf32>) -> tensor<1x16xf32>
  %b = graph.add %a, %y : (tensor<1x16xf32>, tensor<16x16xf32>) -> tensor<16x16xf32>
  %c = graph.cast %b : (tensor<16x16xf32>) -> tensor<16x16xf16>
  %d = graph.relu %y : (tensor<16x16xf32>) -> tensor<16x16xf32>
  %e = graph.transpose %c {perm = array<i64: 1, 0>} : (tensor<16x16xf16>) -> tensor<16x16xf16>
  %f = graph.transpose %d {perm = array<i64: 1, 0>} : (tensor<16x16xf32>) -> tensor<16x16xf32>
  func.return %e, %f : tensor<16x16xf16>, tensor<16x16xf32>
}

// -----

// Views: a reshape shares its source's offset, a contiguous slice (rows 4..7
// of a 16x16 tensor) sits at +256 bytes, and both keep the source alive; a
// strided column slice is a copy with its own buffer. Views do not count in
// the naive sum. A reshape of a model input or into a model output is a
// copy, not a view: those buffers belong to the caller.
// Offsets: %in [0, 1024) dies at %a [1024, 2048); %e reuses %in's bytes
// (%v is still read later, so it cannot write in place over %v); %col and
// %n come after.
// CHECK-LABEL: func.func @main
// CHECK-SAME:    attributes {graph.arena_bytes = 2560 : i64, graph.naive_bytes = 3584 : i64}
// CHECK:         %in = graph.reshape %x {graph.offsets = array<i64: 0>}
// CHECK-NEXT:    %a = graph.transpose %in {graph.offsets = array<i64: 1024>
// CHECK-NEXT:    %v = graph.reshape %a {graph.offsets = array<i64: 1024>}
// CHECK-NEXT:    %s = graph.slice %a {graph.offsets = array<i64: 1280>, offsets = array<i64: 4, 0>
// CHECK-NEXT:    %col = graph.slice %a {graph.offsets = array<i64: 2048>, offsets = array<i64: 0, 4>
// CHECK-NEXT:    %e = graph.exp %v {graph.offsets = array<i64: 0>}
// CHECK-NEXT:    %n = graph.neg %s {graph.offsets = array<i64: 2304>}
// CHECK-NEXT:    %out = graph.reshape %n {graph.offsets = array<i64: -1>}
func.func @main(%x: tensor<256xf32>) -> (tensor<256xf32>, tensor<64xf32>, tensor<16x4xf32>) {
  %in = graph.reshape %x : (tensor<256xf32>) -> tensor<16x16xf32>
  %a = graph.transpose %in {perm = array<i64: 1, 0>} : (tensor<16x16xf32>) -> tensor<16x16xf32>
  %v = graph.reshape %a : (tensor<16x16xf32>) -> tensor<256xf32>
  %s = graph.slice %a {offsets = array<i64: 4, 0>, strides = array<i64: 1, 1>} : (tensor<16x16xf32>) -> tensor<4x16xf32>
  %col = graph.slice %a {offsets = array<i64: 0, 4>, strides = array<i64: 1, 1>} : (tensor<16x16xf32>) -> tensor<16x4xf32>
  %e = graph.exp %v : (tensor<256xf32>) -> tensor<256xf32>
  %n = graph.neg %s : (tensor<4x16xf32>) -> tensor<4x16xf32>
  %out = graph.reshape %n : (tensor<4x16xf32>) -> tensor<64xf32>
  %sum = graph.add %e, %v : (tensor<256xf32>, tensor<256xf32>) -> tensor<256xf32>
  %colneg = graph.neg %col : (tensor<16x4xf32>) -> tensor<16x4xf32>
  func.return %sum, %out, %colneg : tensor<256xf32>, tensor<64xf32>, tensor<16x4xf32>
}

// -----

// In-place concat: each operand's producer writes at the concat's offset
// plus its prefix (%p: 2x16xf32 = 128 bytes first, then %q), including a
// nested in-place concat (%inner): one 384-byte buffer holds everything.
// CHECK-LABEL: func.func @main
// CHECK-SAME:    attributes {graph.arena_bytes = 384 : i64, graph.naive_bytes = 1024 : i64}
// CHECK:         %p = graph.exp %x {graph.offsets = array<i64: 0>}
// CHECK-NEXT:    %q = graph.neg %x {graph.offsets = array<i64: 128>}
// CHECK-NEXT:    %inner = graph.concat %p, %q {graph.in_place, graph.offsets = array<i64: 0>, axis = 1 : i64}
// CHECK-NEXT:    %r = graph.sigmoid %x {graph.offsets = array<i64: 256>}
// CHECK-NEXT:    %cat = graph.concat %inner, %r {graph.in_place, graph.offsets = array<i64: 0>, axis = 1 : i64}
// CHECK-NEXT:    %t = graph.transpose %cat {graph.offsets = array<i64: -1>
func.func @main(%x: tensor<1x2x16xf32>) -> tensor<16x6x1xf32> {
  %p = graph.exp %x : (tensor<1x2x16xf32>) -> tensor<1x2x16xf32>
  %q = graph.neg %x : (tensor<1x2x16xf32>) -> tensor<1x2x16xf32>
  %inner = graph.concat %p, %q {graph.in_place, axis = 1 : i64} : (tensor<1x2x16xf32>, tensor<1x2x16xf32>) -> tensor<1x4x16xf32>
  %r = graph.sigmoid %x : (tensor<1x2x16xf32>) -> tensor<1x2x16xf32>
  %cat = graph.concat %inner, %r {graph.in_place, axis = 1 : i64} : (tensor<1x4x16xf32>, tensor<1x2x16xf32>) -> tensor<1x6x16xf32>
  %t = graph.transpose %cat {perm = array<i64: 2, 1, 0>} : (tensor<1x6x16xf32>) -> tensor<16x6x1xf32>
  func.return %t : tensor<16x6x1xf32>
}

// -----

// An in-place concat that breaks the contract (its result is a model
// output, whose buffer the caller owns) is demoted to a copying concat.
// CHECK-LABEL: func.func @main
// CHECK:         %cat = graph.concat %p, %q {graph.offsets = array<i64: -1>, axis = 1 : i64}
func.func @main(%x: tensor<1x2x16xf32>) -> tensor<1x4x16xf32> {
  %p = graph.exp %x : (tensor<1x2x16xf32>) -> tensor<1x2x16xf32>
  %q = graph.neg %x : (tensor<1x2x16xf32>) -> tensor<1x2x16xf32>
  %cat = graph.concat %p, %q {graph.in_place, axis = 1 : i64} : (tensor<1x2x16xf32>, tensor<1x2x16xf32>) -> tensor<1x4x16xf32>
  func.return %cat : tensor<1x4x16xf32>
}

// -----

// Groups: an elementwise graph.fused writes over its dying operand; a
// conv group (complex-out-fusable) never does.
// CHECK-LABEL: func.func @main
// CHECK:         %c = graph.fused(%x, %w) {graph.offsets = array<i64: 0>, kind = "complex-out-fusable"}
// CHECK:         %e = graph.fused(%c) {graph.offsets = array<i64: 0>, kind = "injective"}
// CHECK:         %f = graph.fused(%e, %w) {graph.offsets = array<i64: 256>, kind = "complex-out-fusable"}
func.func @main(%x: tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32> {
  %w = graph.constant dense<0.5> : tensor<4x4x1x1xf32>
  %c = graph.fused(%x, %w) {kind = "complex-out-fusable"} : (tensor<1x4x4x4xf32>, tensor<4x4x1x1xf32>) -> tensor<1x4x4x4xf32> {
  ^bb0(%xa: tensor<1x4x4x4xf32>, %wa: tensor<4x4x1x1xf32>):
    %0 = graph.conv %xa, %wa {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x4x4xf32>, tensor<4x4x1x1xf32>) -> tensor<1x4x4x4xf32>
    %1 = graph.relu %0 : (tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
    graph.yield %1 : tensor<1x4x4x4xf32>
  }
  %e = graph.fused(%c) {kind = "injective"} : (tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32> {
  ^bb0(%ca: tensor<1x4x4x4xf32>):
    %two = graph.constant dense<2.0> : tensor<1x4x1x1xf32>
    %0 = graph.mul %ca, %two : (tensor<1x4x4x4xf32>, tensor<1x4x1x1xf32>) -> tensor<1x4x4x4xf32>
    %1 = graph.exp %0 : (tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
    graph.yield %1 : tensor<1x4x4x4xf32>
  }
  %f = graph.fused(%e, %w) {kind = "complex-out-fusable"} : (tensor<1x4x4x4xf32>, tensor<4x4x1x1xf32>) -> tensor<1x4x4x4xf32> {
  ^bb0(%ea: tensor<1x4x4x4xf32>, %wa: tensor<4x4x1x1xf32>):
    %0 = graph.conv %ea, %wa {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x4x4xf32>, tensor<4x4x1x1xf32>) -> tensor<1x4x4x4xf32>
    %1 = graph.relu %0 : (tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
    graph.yield %1 : tensor<1x4x4x4xf32>
  }
  %g = graph.transpose %f {perm = array<i64: 0, 1, 3, 2>} : (tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  func.return %g : tensor<1x4x4x4xf32>
}

// apply-records stores the best error-free record of a kernel's workload (for
// this host's CPU) as its loop.schedule; default-schedule then leaves that
// kernel alone and schedules the one the records do not cover. The records
// are written for this host first: a record's target must match the CPU.
// RUN: rm -f %t.jsonl
// RUN: %python -c "import sys; from compiler.tuner.records import Record, RecordLog, target_info; log = RecordLog(sys.argv[1]); t = target_info(1); log.append(Record('wk-add', '{}', t, [{'primitive': 'split', 'axis': 'i', 'factor': 4}], {}, [2e-6], None, 0.0)); log.append(Record('wk-add', '{}', t, [{'primitive': 'split', 'axis': 'i', 'factor': 8}], {}, [1e-6], None, 0.0)); log.append(Record('wk-add', '{}', t, [{'primitive': 'split', 'axis': 'i', 'factor': 2}], {}, [], 'timeout after 10 s', 0.0)); log.close()" %t.jsonl
// RUN: compiler-opt %s -p 'apply-records{records="%t.jsonl" threads=1},default-schedule{threads=1 vector-bits=256}' | filecheck %s
// RUN: compiler-opt %s -p 'apply-records{records="%t.jsonl" threads=1},default-schedule{threads=1 vector-bits=256},apply-schedule' | filecheck %s --check-prefix=LOOPS
// RUN: not compiler-opt %s -p 'apply-records' 2>&1 | filecheck %s --check-prefix=ERR

// The faster of the two measured schedules (factor 8) wins; the failed one never does.
// CHECK-LABEL: func.func @tuned
// CHECK-SAME: loop.schedule = "[{\22primitive\22: \22split\22, \22axis\22: \22i\22, \22factor\22: 8}]"
// LOOPS-LABEL: func.func @tuned
// LOOPS: axis "i.outer"
// LOOPS: axis "i.inner"
func.func @tuned(%A: memref<64xf32>, %B: memref<64xf32>) attributes {loop.kernel, loop.workload_key = "wk-add"} {
  loop.for %i = 0 to 64 step 1 axis "i" {
    %a = memref.load %A[%i] : memref<64xf32>
    %s = arith.addf %a, %a : f32
    memref.store %s, %B[%i] : memref<64xf32>
  }
  func.return
}

// No record for this workload: the default schedule (a vector split by 8 lanes).
// CHECK-LABEL: func.func @untuned
// CHECK-SAME: loop.schedule = "[{\22primitive\22: \22split\22, \22axis\22: \22i\22, \22factor\22: 8}, {\22primitive\22: \22vectorize\22
func.func @untuned(%A: memref<64xf32>, %B: memref<64xf32>) attributes {loop.kernel, loop.workload_key = "wk-other"} {
  loop.for %i = 0 to 64 step 1 axis "i" {
    %a = memref.load %A[%i] : memref<64xf32>
    %s = arith.mulf %a, %a : f32
    memref.store %s, %B[%i] : memref<64xf32>
  }
  func.return
}

// ERR: apply-records needs records=<file.jsonl>

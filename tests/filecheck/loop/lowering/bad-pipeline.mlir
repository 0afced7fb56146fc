// RUN: not compiler-opt %s -p 'extract-params{out=/tmp/x.bin}' 2>&1 | filecheck %s

// A malformed -p spec is one line, not a traceback.
// CHECK: compiler-opt: error: bad pass pipeline 'extract-params{out=/tmp/x.bin}': Unknown token at column 20; quote option values with "..."
// CHECK-NOT: Traceback
builtin.module {}

"""Session-wide settings of the unit tests."""

import os

# Parallel-code tests run the team they ask for, whatever else the machine runs
# (compiler/dynamic_threads.py; tests/unit/test_dynamic_threads.py turns it on).
os.environ["COMPILER_DYNAMIC_THREADS"] = "0"

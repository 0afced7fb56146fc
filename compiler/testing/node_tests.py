"""ONNX's node tests through `compiler.onnx_backend`, narrowed to a selection for pytest."""

from __future__ import annotations

import re
import unittest

import onnx.backend.test

from compiler.onnx_backend import CompilerBackend


def node_test_cases(module_name: str, pattern: str) -> dict[str, type[unittest.TestCase]]:
    """The backend test classes that hold a test whose name matches `pattern`.

    Keeps only the selected tests: the rest would show as thousands of skips.
    A test module publishes them with `globals().update(...)`.
    """
    runner = onnx.backend.test.BackendTest(CompilerBackend, module_name)
    wanted = re.compile(pattern)
    cases = {}
    for category, case in runner.test_cases.items():
        for name in [n for n in vars(case) if n.startswith("test_")]:
            if not wanted.match(name):
                delattr(case, name)
        if any(n.startswith("test_") for n in vars(case)):
            cases[category] = case
    return cases

"""Writes subset.txt, the CI subset of the conformance ratchet, from a full run's report.

    compiler conformance --jobs 2 --report report.json --write-passing tests/conformance/passing.txt
    python tests/conformance/make_subset.py report.json > tests/conformance/subset.txt

The subset takes the fastest passing case (not a function-expanded one when
the op has another) of each op in COMMON, the ops exported models use most,
then of the ops with the most passing cases, until it holds SIZE cases; then
it makes sure that cases which exercise specialized inputs and unsigned types
are in. Each line is `module case`: the onnx node test
module that defines the case, so that the test imports only those modules.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict

from compiler.testing.conformance import PASSED, case_modules

SIZE = 50
COMMON = (
    "Conv", "MatMul", "Gemm", "Relu", "Sigmoid", "Tanh", "Add", "Mul", "Div", "Sub", "Pow", "Sqrt",
    "Exp", "Erf", "Softmax", "Reshape", "Transpose", "Concat", "Slice", "Gather", "Cast", "Unsqueeze",
    "Squeeze", "ReduceMean", "ReduceSum", "MaxPool", "AveragePool", "GlobalAveragePool",
    "BatchNormalization", "LayerNormalization", "Pad", "Expand", "Tile", "Where", "Range",
    "ConstantOfShape", "Split", "Clip", "Equal", "Greater", "Flatten", "Shape", "ArgMax", "Max", "Mod",
)
EXTRA = ("specialized", "uint")


def choose(cases: list[dict]) -> list[str]:
    by_op: dict[str, list[dict]] = defaultdict(list)
    for case in cases:
        if case["status"] == PASSED:
            by_op[case["op"]].append(case)
    ops = [op for op in COMMON if op in by_op]
    ops += sorted((op for op in by_op if op not in COMMON), key=lambda op: (-len(by_op[op]), op))
    chosen = [
        min(by_op[op], key=lambda c: (c["name"].endswith("_expanded"), c["seconds"]))["name"]
        for op in ops[:SIZE]
    ]
    passing = [c for c in cases if c["status"] == PASSED]
    if not any(c["specialized"] for c in passing if c["name"] in chosen):
        chosen += [min((c for c in passing if c["specialized"]), key=lambda c: c["seconds"])["name"]]
    if not any("uint" in name for name in chosen):
        chosen += [min((c for c in passing if "uint" in c["name"]), key=lambda c: c["seconds"])["name"]]
    return chosen


def main(path: str) -> None:
    with open(path) as f:
        report = json.load(f)
    modules = case_modules()
    print("# The CI subset of tests/conformance/passing.txt: `module case` a line.")
    print("# Made by tests/conformance/make_subset.py from a full run's report.")
    for name in sorted(choose(report["cases"]), key=lambda n: (modules[n], n)):
        print(f"{modules[name]} {name}")


if __name__ == "__main__":
    main(sys.argv[1])

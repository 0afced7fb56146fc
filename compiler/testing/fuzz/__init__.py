"""Differential graph fuzzing: random valid ONNX graphs, compiled and compared with onnxruntime.

    generator.py     seeded random graphs (`generate(seed, index)`)
    differential.py  compile at O0/O3, run at 1 and 3 threads, compare; worker processes
    minimize.py      delete nodes while a failure persists

`compiler fuzz` (compiler/tools/fuzz_cli.py) runs a campaign.
"""

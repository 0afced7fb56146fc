"""The tuner's one pass: `apply-records` (registered with the others, see compiler/registry.py)."""

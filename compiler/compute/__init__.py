"""Compute definitions: how each graph op (or fused group) becomes loops."""

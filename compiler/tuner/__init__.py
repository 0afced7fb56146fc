"""Auto-tuner (search spaces, features, cost model, measurement): a later issue."""

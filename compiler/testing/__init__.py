"""Test support: the model zoo (seeded light models, BERT encoders) and reference runners."""

from compiler.testing.models import (
    LIGHT_MODELS,
    MODELS_DIR,
    bert_model_path,
    light_model_path,
    random_inputs,
    save_seeded_light_model,
    seeded_light_model,
)
from compiler.testing.oracle import (
    assert_close,
    max_rel_error,
    ort_session,
    run_onnxruntime,
    run_reference,
)

__all__ = [
    "LIGHT_MODELS",
    "MODELS_DIR",
    "assert_close",
    "bert_model_path",
    "light_model_path",
    "max_rel_error",
    "ort_session",
    "random_inputs",
    "run_onnxruntime",
    "run_reference",
    "save_seeded_light_model",
    "seeded_light_model",
]

# Two entry points: `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
JOBS ?= 2

.PHONY: demo test lit unit lint bench conformance cuda-compile onnx-export tensorrt-check clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m compiler.demo

test: lit unit

lit: $(STAMP)
	PATH=$(abspath $(VENV))/bin:$$PATH $(VENV)/bin/lit -sv -j $(JOBS) tests/filecheck

unit: $(STAMP)
	$(PY) -m pytest -n $(JOBS) tests/unit

lint: $(STAMP)
	$(VENV)/bin/ruff check compiler tests benchmarks

# All of ONNX's node tests (tens of minutes); fails when a case listed in
# tests/conformance/passing.txt stops passing. CI runs a subset (tests/unit/test_conformance.py).
conformance: $(STAMP)
	$(PY) -m compiler.tools.cli conformance --jobs $(JOBS) --report conformance-report.json \
		--check tests/conformance/passing.txt

# CUDA C of the nine light models and the BERT encoder through NVRTC to
# cubin for sm_80 and sm_90, with no GPU (CI compiles two of them).
cuda-compile: $(STAMP)
	COMPILER_CUDA_ALL_MODELS=1 $(PY) -m pytest -n $(JOBS) tests/unit/test_cuda_codegen.py -k models_compile

# The optimized graph of the nine light models and the BERT encoder exported
# back to ONNX and checked against onnxruntime (CI exports two of them), and
# every passing ONNX node case through the export (a few minutes).
onnx-export: $(STAMP)
	COMPILER_ONNX_EXPORT_ALL_MODELS=1 COMPILER_ONNX_EXPORT_CONFORMANCE=1 $(PY) -m pytest -n $(JOBS) \
		tests/unit/test_tensorrt.py -k "export_matches or conformance_sweep"

# On a machine with an NVIDIA GPU: install the tensorrt extra (several GB) and
# build and run engines of SqueezeNet and the BERT encoder, fp32 and fp16,
# against onnxruntime (these tests skip everywhere else).
tensorrt-check: $(STAMP)
	$(PY) -m pip install -q -e '.[test,tensorrt]'
	$(PY) -m pytest -n 1 -rs tests/unit/test_tensorrt.py

bench: $(STAMP)
	$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) build *.egg-info

# The recurrent ops' slow checks: every option family compiled at O0 and O3, all
# of ONNX's LSTM/GRU/RNN node tests, the exported CRNN models (several minutes).
.PHONY: test-rnn
test-rnn: $(STAMP)
	COMPILER_SLOW_TESTS=1 $(PY) -m pytest -n $(JOBS) tests/unit/test_rnn.py

# The differential graph fuzzer's full campaign (compiler/testing/fuzz): 2000 seeded
# random graphs compiled at O0/O3, run at 1 and 3 threads, compared with onnxruntime;
# minimized reproducers of any finding go to fuzz-findings/. CI runs a few graphs
# (tests/unit/test_fuzz.py). FUZZ_SEED / FUZZ_GRAPHS change the campaign.
FUZZ_SEED ?= 0
FUZZ_GRAPHS ?= 2000
.PHONY: fuzz
fuzz: $(STAMP)
	$(PY) -m compiler.tools.cli fuzz --graphs $(FUZZ_GRAPHS) --seed $(FUZZ_SEED) --jobs $(JOBS) \
		--minimize --out fuzz-findings
# Mutated-model fuzzing (truncation, byte flips, protobuf field edits): every mutant
# must fail with one line or compile; no traceback, crash, hang or stray file.
# CI runs 40 mutants (tests/unit/test_mutated_models.py); this is the full campaign.
.PHONY: fuzz-models
fuzz-models: $(STAMP)
	$(PY) -m compiler.tools.cli fuzz-models squeezenet detector_head gpt_tiny_block sentence_encoder \
		--mutants 1000 --seed 0 --jobs $(JOBS) --out fuzz-models-failures

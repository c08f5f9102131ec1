# Two commands for a fresh clone: `make run` and `make test` (see README).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test install models bench clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(STAMP): $(VENV)/bin/python setup.cfg pyproject.toml
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(PY) -m photoface $(ARGS)

test: $(STAMP)
	$(PY) -m pytest -q $(PYTEST_ARGS)

# Re-create resources/models/{pnet,rnet,onet}.tflite from the mtcnn package's weights.
models: $(STAMP)
	$(PY) -m training.export_detector

bench: $(STAMP)
	$(PY) benchmarks/detect.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache

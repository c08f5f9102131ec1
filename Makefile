# Two commands for a fresh clone: `make run` and `make test` (see README).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
DIST_STAMP := $(VENV)/.installed-dist

.PHONY: run test install models bench dist clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

# The app alone (no TensorFlow), with HEIC support for photos from phones.
$(RUN_STAMP): $(VENV)/bin/python setup.cfg pyproject.toml
	$(PY) -m pip install -q -e '.[heif]'
	touch $(RUN_STAMP)

# The app plus the training and test extras (TensorFlow CPU, mtcnn, dlib).
$(TEST_STAMP): $(VENV)/bin/python setup.cfg pyproject.toml
	$(PY) -m pip install -q -e '.[test]'
	touch $(TEST_STAMP) $(RUN_STAMP)

# The app plus PyInstaller (no TensorFlow needed; the spec leaves it out if present).
$(DIST_STAMP): $(VENV)/bin/python setup.cfg pyproject.toml
	$(PY) -m pip install -q -e '.[dist]'
	touch $(DIST_STAMP) $(RUN_STAMP)

install: $(RUN_STAMP)

run: $(RUN_STAMP)
	$(PY) -m photoface $(ARGS)

test: $(TEST_STAMP)
	$(PY) -m pytest -q $(PYTEST_ARGS)

# Re-create resources/models/{pnet,rnet,onet}.tflite from the mtcnn package's weights.
models: $(TEST_STAMP)
	$(PY) -m training.export_detector

bench: $(TEST_STAMP)
	$(PY) benchmarks/detect.py

# The desktop app without Python: dist/photoface/ (one folder; see README "Desktop bundle").
dist: $(DIST_STAMP)
	$(PY) -m PyInstaller --noconfirm --clean photoface.spec
	dist/photoface/photoface --self-test
	@du -sh dist/photoface

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache

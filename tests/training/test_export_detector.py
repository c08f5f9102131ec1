"""The exported detector models compute what the mtcnn package's Keras networks compute."""

from __future__ import annotations

import os

import numpy as np
import pytest

from photoface.config import models_dir
from photoface.runtime import LiteModel

pytest.importorskip("tensorflow", reason="TensorFlow (training extra) is needed to export")
pytest.importorskip("mtcnn", reason="the mtcnn package (training extra) is needed")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from training import export_detector  # noqa: E402

SHAPES = {"pnet": (2, 61, 47, 3), "rnet": (5, 24, 24, 3), "onet": (5, 48, 48, 3)}


def keras_outputs(name: str, x: np.ndarray):
    model = export_detector.build_network(name)
    return [np.asarray(t) for t in model(x)]


@pytest.mark.parametrize("name", ["pnet", "rnet", "onet"])
def test_bundled_models_match_keras(name):
    x = np.random.default_rng(0).uniform(-1, 1, SHAPES[name]).astype(np.float32)
    lite = LiteModel(models_dir() / f"{name}.tflite", num_threads=1)(x)
    for ref, got in zip(keras_outputs(name, x), lite):
        assert got.shape == ref.shape
        assert np.abs(got - ref).max() < 1e-4


def test_export_writes_models_and_notice(tmp_path):
    digests = export_detector.export(tmp_path)
    assert set(digests) == {"pnet.tflite", "rnet.tflite", "onet.tflite"}
    notice = (tmp_path / "NOTICE.mtcnn").read_text()
    assert "MIT" in notice and "Zhang" in notice
    x = np.random.default_rng(1).uniform(-1, 1, SHAPES["onet"]).astype(np.float32)
    fresh = LiteModel(tmp_path / "onet.tflite", num_threads=1)(x)
    bundled = LiteModel(models_dir() / "onet.tflite", num_threads=1)(x)
    for a, b in zip(fresh, bundled):
        assert np.abs(a - b).max() < 1e-5

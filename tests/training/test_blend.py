"""Blending a fine-tuned network with its start: every weight on the line between the two."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
pytest.importorskip("tensorflow", reason="TensorFlow (training extra) is needed")
pytest.importorskip("face_recognition_models", reason="needs face-recognition-models (pip install -e '.[teacher]')")


def test_blend_puts_every_weight_between_start_and_fine_tune(tmp_path):
    import keras

    from training import backbones  # noqa: F401
    from training.blend import blend
    from training.import_dlib import import_dlib

    import_dlib(tmp_path / "dlib")
    start = keras.models.load_model(tmp_path / "dlib" / "model.keras", compile=False)
    # A stand-in fine-tune: the last linear layer moved.
    fc = start.get_layer("fc")
    moved = [w + 0.01 for w in fc.get_weights()]
    fc.set_weights(moved)
    (tmp_path / "ft").mkdir()
    start.save(tmp_path / "ft" / "model.keras")
    (tmp_path / "ft" / "config.json").write_text(json.dumps({"name": "ft", "init_from": str(tmp_path / "dlib")}))

    out = blend(tmp_path / "ft", 0.25, tmp_path / "b25")
    blended = keras.models.load_model(out / "model.keras", compile=False)
    original = keras.models.load_model(tmp_path / "dlib" / "model.keras", compile=False)
    expect = 0.25 * moved[0] + 0.75 * original.get_layer("fc").get_weights()[0]
    assert np.allclose(blended.get_layer("fc").get_weights()[0], expect, atol=1e-7)
    assert all(np.array_equal(a, b) for a, b in zip(blended.get_layer("s0u0_conv1").get_weights(),
                                                    original.get_layer("s0u0_conv1").get_weights()))
    assert json.loads((out / "config.json").read_text())["blend"]["share"] == 0.25
    with pytest.raises(SystemExit):
        blend(tmp_path / "ft", 1.5, tmp_path / "bad")

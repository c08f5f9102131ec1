"""benchmarks/test_time_jitter.py: the jittered crops are the app's crop shifted and scaled."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import test_time_jitter  # noqa: E402

from photoface import align  # noqa: E402
from photoface.align import align_face  # noqa: E402


@pytest.fixture
def jitter_templates(monkeypatch):
    monkeypatch.setattr(align, "TEMPLATES", dict(align.TEMPLATES))
    test_time_jitter.register_templates("dlib-chip")


def _photo_and_landmarks():
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 256, (400, 400, 3), dtype=np.uint8)
    # The template itself placed in the photo at 1.4x, so alignment is a pure scale + shift.
    marks = align.template(150, "dlib-chip") * 1.4 + (90, 80)
    return photo, marks


def test_shifted_crop_is_the_crop_moved_by_three_pixels(jitter_templates):
    photo, marks = _photo_and_landmarks()
    base = align_face(photo, marks, 150, "dlib-chip")
    plus = align_face(photo, marks, 150, "dlib-chip~t+3")
    minus = align_face(photo, marks, 150, "dlib-chip~t-3")
    np.testing.assert_array_equal(plus[3:, 3:], base[:-3, :-3])
    np.testing.assert_array_equal(minus[:-3, :-3], base[3:, 3:])
    assert not np.array_equal(plus, base)


def test_scaled_crops_zoom_about_the_centre(jitter_templates):
    photo, marks = _photo_and_landmarks()
    for name, s in (("s095", 0.95), ("s105", 1.05)):
        points, frame = align.TEMPLATES[f"dlib-chip~{name}"]
        base_points, _ = align.TEMPLATES["dlib-chip"]
        np.testing.assert_allclose(points - 75.0, (base_points - 75.0) * s)
    # The centre pixel samples the same photo point in every crop; the others do not.
    base, *zoomed = [align_face(photo, marks, 150, f"dlib-chip{j}") for j in ("", "~s095", "~s105")]
    for crop in zoomed:
        np.testing.assert_array_equal(crop[75, 75], base[75, 75])
        assert np.mean(crop != base) > 0.5


def test_averaged_embeddings_are_unit_length(tmp_path):
    (tmp_path / "lfw-paths.json").write_text('["a/1.jpg", "a/2.jpg"]')
    np.save(tmp_path / "lfw-base.npy", np.array([[3.0, 4.0], [1.0, 0.0]]))
    np.save(tmp_path / "lfw-s095.npy", np.array([[0.0, 5.0], [0.0, 1.0]]))
    got = test_time_jitter.averaged(tmp_path, "lfw", ["base", "s095"])
    np.testing.assert_allclose(got["a/1.jpg"], np.array([3.0, 9.0]) / np.hypot(3, 9))
    np.testing.assert_allclose(got["a/2.jpg"], np.array([1.0, 1.0]) / np.sqrt(2))

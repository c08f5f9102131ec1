"""The crop cache and the teacher cache, on a tiny data folder made here."""

from __future__ import annotations

import numpy as np
import pytest

from training.prepare import cache_paths, prepare
from training.teacher import DLIB_BOX, dlib_available, to_dlib_box

needs_dlib = pytest.mark.skipif(
    not dlib_available(),
    reason="dlib is not installed (pip install dlib-bin face-recognition-models, or the teacher extra)",
)


def test_crop_cache_with_fallback(tiny_cfp, tmp_path):
    cache = tmp_path / "cache"
    summary = prepare("cfp", tiny_cfp, cache, size=48, workers=1, teacher=False)
    assert summary["images"] == 5 and summary["detected"] == 4 and summary["fallback"] == 1
    paths = cache_paths(cache, "cfp", 48)
    crops = np.load(paths["crops"])
    det = np.load(paths["detections"])
    assert crops.shape == (5, 48, 48, 3) and crops.dtype == np.uint8
    blank = list(det["paths"]).index("Blank/frontal_00.jpg")
    assert not det["found"][blank]
    # The fallback is the median of the found faces' relative landmarks, scaled to the photo.
    rel = det["landmarks"][det["found"]] / det["sizes"][det["found"]][:, None, :]
    assert np.allclose(det["landmarks"][blank] / 200, np.median(rel, axis=0), atol=1e-4)
    # A second run reuses the cache instead of detecting again.
    again = prepare("cfp", tiny_cfp, cache, size=48, workers=1, teacher=False)
    assert again["detected"] == 4


def test_dlib_box_mapping():
    left, top, right, bottom = to_dlib_box((100, 200, 80, 100))
    dx, dy, sw, sh = DLIB_BOX
    assert (left, top) == (round(100 + dx * 80), round(200 + dy * 100))
    assert right - left == pytest.approx(sw * 80, abs=1) and bottom - top == pytest.approx(sh * 100, abs=1)


@needs_dlib
def test_teacher_cache_holds_unit_embeddings_that_know_identity(tiny_cfp, tmp_path):
    cache = tmp_path / "cache"
    prepare("cfp", tiny_cfp, cache, size=48, workers=1, teacher=True)
    emb = np.load(cache_paths(cache, "cfp", 48)["teacher"])
    paths = list(np.load(cache_paths(cache, "cfp", 48)["detections"])["paths"])
    assert emb.shape == (5, 128)
    assert np.allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    e = {p: emb[i] for i, p in enumerate(paths)}
    # The same photo at two sizes: nearly the same embedding; a grey photo is far from it.
    same = np.sum((e["Eileen/frontal_00.jpg"] - e["Eileen/frontal_01.jpg"]) ** 2)
    blank = np.sum((e["Eileen/frontal_00.jpg"] - e["Blank/frontal_00.jpg"]) ** 2)
    assert same < 0.05 and blank > 3 * same


@needs_dlib
def test_teacher_skips_identities_it_is_told_to(tiny_cfp, tmp_path):
    cache = tmp_path / "cache"
    prepare("cfp", tiny_cfp, cache, size=48, workers=1, teacher=True, skip=frozenset({"cfp:Mirror"}))
    emb = np.load(cache_paths(cache, "cfp", 48)["teacher"])
    det = np.load(cache_paths(cache, "cfp", 48)["detections"])
    mirror = np.array([p.startswith("Mirror/") for p in det["paths"]])
    assert np.isnan(emb[mirror]).all() and np.isfinite(emb[~mirror]).all()

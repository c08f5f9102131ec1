"""Consistent teaching's views: degradations sized to the face, and the resumable view cache."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from photoface.align import align_face
from training.dataset import Augment
from training.prepare import cache_paths, prepare
from training.teacher import dlib_available
from training.views import degrade_photo, load_views, make_views, shard_path

needs_dlib = pytest.mark.skipif(
    not dlib_available(),
    reason="dlib is not installed (pip install dlib-bin face-recognition-models, or the teacher extra)",
)
ONLY = dict(flip=0.0, jitter=0.0, photometric=0.0, colour_cast=0.0, blur=0.0, low_res=0.0, jpeg=0.0, occlude=0.0)


@pytest.fixture(scope="module")
def face(astronaut, detector):
    """The astronaut's photo and landmarks, at full size and at half size."""
    marks = detector.detect(astronaut)[0].landmarks
    half = cv2.resize(astronaut, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    return {1.0: (astronaut, marks), 0.5: (half, marks * 0.5)}


def sharpness(img: np.ndarray) -> float:
    grey = cv2.cvtColor(img.astype(np.float32), cv2.COLOR_RGB2GRAY)
    return float(cv2.Laplacian(grey, cv2.CV_32F).var())



def test_no_degradation_leaves_the_photo_as_it_was(face):
    photo, marks = face[1.0]
    assert np.array_equal(degrade_photo(photo, marks, 96, Augment(**ONLY), np.random.default_rng(0)), photo)


def test_an_occluder_covers_the_same_part_of_the_face_at_any_photo_size(face):
    covered = []
    for scale in (1.0, 0.5):
        photo, marks = face[scale]
        out = degrade_photo(photo, marks, 96, Augment(**{**ONLY, "occlude": 1.0}), np.random.default_rng(3))
        changed = np.abs(align_face(out, marks, 96).astype(int) - align_face(photo, marks, 96)).max(axis=2) > 30
        covered.append(changed.mean())
        # Drawn in crop units: 15-35% of the crop's height by 20-50% of its width.
        assert 0.02 < changed.mean() < 0.2, changed.mean()
        assert (out != photo).any(axis=2).mean() < 0.1  # a patch on the face, not the photo
    assert abs(covered[0] - covered[1]) < 0.03


@pytest.mark.parametrize("kind", ["blur", "low_res"])
def test_blur_and_low_resolution_are_sized_to_the_face(face, kind):
    # The clean crops of the full-size and the half-size photo differ in sharpness; degraded by
    # the same draw in crop units, both come down to the same softness and resemble each other
    # more than they resemble their clean crops.
    clean, degraded = {}, {}
    for scale in (1.0, 0.5):
        photo, marks = face[scale]
        out = degrade_photo(photo, marks, 96, Augment(**{**ONLY, kind: 1.0}), np.random.default_rng(1))
        clean[scale], degraded[scale] = (align_face(p, marks, 96).astype(float) for p in (photo, out))
        assert sharpness(degraded[scale]) < 0.5 * sharpness(clean[scale])
    apart = np.abs(clean[1.0] - clean[0.5]).mean()
    assert np.abs(degraded[1.0] - degraded[0.5]).mean() < 0.75 * apart
    assert min(np.abs(degraded[s] - clean[s]).mean() for s in clean) > 0.75 * apart


@needs_dlib
def test_views_are_cached_resumably_with_the_teachers_embedding_of_each(tiny_cfp, tmp_path):
    cache = tmp_path / "cache"
    prepare("cfp", tiny_cfp, cache, size=48, workers=1, teacher=True)
    det = np.load(cache_paths(cache, "cfp", 48)["detections"])
    wanted = [i for i, p in enumerate(det["paths"]) if not p.startswith("Blank/")]
    first = make_views("cfp", tiny_cfp, cache, 48, 2, wanted, workers=1)
    assert first["shards_made"] == 2 and shard_path(cache, "cfp", 48, 2, 0).exists()
    assert not list(shard_path(cache, "cfp", 48, 1, 0).parent.glob("*.tmp*"))
    again = make_views("cfp", tiny_cfp, cache, 48, 2, wanted, workers=1)
    assert again["shards_made"] == 0 and again["shards_kept"] == 2  # resumed, nothing redone

    crops, teacher, has = load_views(cache, "cfp", 48, 2, len(det["paths"]))
    assert crops.shape == (5, 2, 48, 48, 3) and teacher.shape == (5, 2, 128)
    assert has[wanted].all() and not has[np.setdiff1d(np.arange(5), wanted)].any()
    assert np.allclose(np.linalg.norm(teacher[wanted], axis=2), 1.0, atol=1e-5)
    clean_crops = np.load(cache_paths(cache, "cfp", 48)["crops"])
    clean = np.load(cache_paths(cache, "cfp", 48)["teacher"])
    for i in wanted:
        # Each view is the same face, degraded: its crop follows the clean crop, its teacher
        # embedding stays near the clean one, and the two views differ.
        assert np.corrcoef(crops[i, 0].ravel(), clean_crops[i].ravel())[0, 1] > 0.5
        assert (teacher[i] @ clean[i]).min() > 0.8
        assert not np.array_equal(crops[i, 0], crops[i, 1])


@needs_dlib
def test_training_reads_the_views_or_says_how_to_make_them(tiny_cfp, tmp_path):
    pytest.importorskip("tensorflow", reason="TensorFlow (training extra) is needed")
    from training.config import TrainConfig
    from training.train import load_training_set

    cache = tmp_path / "cache"
    prepare("cfp", tiny_cfp, cache, size=48, workers=1, teacher=True)
    cfg = TrainConfig(
        data_root=str(tiny_cfp), cache_dir=str(cache), sources=("cfp",), exclude="none",
        holdout_cfp_people=0, input_size=48, teacher_views=1,
    )
    with pytest.raises(SystemExit, match="training.views --views 1 --size 48"):
        load_training_set(cfg)
    make_views("cfp", tiny_cfp, cache, 48, 1, range(5), workers=1)
    data = load_training_set(cfg)
    assert data.views.shape == (5, 1, 48, 48, 3) and data.has_view.all()
    # Targets centred on the clean faces' mean, as the clean targets are, and unit length.
    raw = load_views(cache, "cfp", 48, 1, 5)[1][:, 0]
    expected = raw - np.load(cache_paths(cache, "cfp", 48)["teacher"]).mean(axis=0)
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    assert np.allclose(data.view_teacher[:, 0], expected, atol=1e-5)


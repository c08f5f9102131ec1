"""Fine-tuning the imported dlib network: a few steps on a few dozen real faces."""

from __future__ import annotations

import json
import os
from dataclasses import replace

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
pytest.importorskip("tensorflow", reason="TensorFlow (training extra) is needed")
pytest.importorskip("face_recognition_models", reason="needs face-recognition-models (pip install -e '.[teacher]')")

from tests.conftest import data_dir  # noqa: E402


@pytest.fixture(scope="module")
def lfw_faces():
    """3 photos each of 8 LFW DevTrain people, cut as the app cuts them for dlib's network."""
    from photoface.align import align_face
    from photoface.decode import decode_file
    from photoface.detection import FaceDetector, central_face

    root = data_dir("lfw", "images")
    detector = FaceDetector()
    crops, labels, names = [], [], []
    for folder in sorted(root.iterdir()):
        photos = sorted(folder.glob("*.jpg"))[:3]
        if len(photos) < 3:
            continue
        for path in photos:
            rgb = decode_file(path).pixels
            face = central_face(detector.detect(rgb), rgb.shape[1], rgb.shape[0])
            crops.append(align_face(rgb, face.landmarks, 150, "dlib-chip"))
            labels.append(len(names))
        names.append(folder.name)
        if len(names) == 8:
            break
    return np.stack(crops), np.array(labels, np.int32), names


def test_finetune_lowers_the_loss_resumes_exports_and_the_app_reads_it(tmp_path, lfw_faces):
    import keras

    from photoface.config import models_dir
    from photoface.embedder import Embedder
    from training.backbones.dlib_resnet import split
    from training.export import export
    from training.finetune import PRESETS, FinetuneConfig, train
    from training.import_dlib import import_dlib
    from training.losses import triplet_semihard_loss

    import_dlib(tmp_path / "dlib")
    # A margin no network meets on these faces, so the triplet loss has room to fall.
    cfg = replace(PRESETS["smoke"], init_from=str(tmp_path / "dlib"), out_dir=str(tmp_path / "ft"),
                  alpha=1.0, stay_weight=0.0, epochs=3, steps_per_epoch=5)
    crops, labels, _ = lfw_faces

    def loss(run: str) -> float:
        model = keras.models.load_model(tmp_path / run / "model.keras", compile=False)
        return float(triplet_semihard_loss(model(crops.astype(np.float32)), labels, cfg.alpha))

    before = loss("dlib")
    start = keras.models.load_model(tmp_path / "dlib" / "model.keras", compile=False)
    trunk, head = split(start, cfg.train_from)
    x = crops[:4].astype(np.float32)
    assert np.abs(np.asarray(head(trunk(x))) - np.asarray(start(x))).max() < 1e-5
    train(replace(cfg, epochs=2), faces=lfw_faces)
    assert json.loads((tmp_path / "ft" / "state.json").read_text())["epoch"] == 2
    train(cfg, resume=True, faces=lfw_faces)  # epoch 3 only, from the saved head and optimizer
    history = json.loads((tmp_path / "ft" / "state.json").read_text())["history"]
    assert [h["epoch"] for h in history] == [1, 2, 3]
    assert loss("ft") < before
    # Only the units from train_from on changed.
    tuned = keras.models.load_model(tmp_path / "ft" / "model.keras", compile=False)
    trunk_a, _ = split(start, cfg.train_from)
    trunk_b, _ = split(tuned, cfg.train_from)
    assert all(np.array_equal(a, b) for a, b in zip(trunk_a.get_weights(), trunk_b.get_weights()))
    assert not np.array_equal(start.get_layer("fc").get_weights()[0], tuned.get_layer("fc").get_weights()[0])

    card = export(tmp_path / "ft", tmp_path / "model")
    assert card["input"]["template"] == "dlib-chip" and card["training"]["lineage"]["licence"].startswith("public domain")
    for name in ("pnet.tflite", "rnet.tflite", "onet.tflite", "detector.json"):
        (tmp_path / "model" / name).symlink_to(models_dir() / name)
    embedder = Embedder(tmp_path / "model")
    emb = embedder.embed_crops(crops[:4])
    assert emb.shape == (4, 128) and np.allclose(np.linalg.norm(emb, axis=1), 1, atol=1e-5)
    assert embedder.card.template == "dlib-chip" and embedder.input_size == 150
    # int8 weights: a quarter of the file, the same embedding within quantisation's error.
    small = export(tmp_path / "ft", tmp_path / "int8", weights="int8")
    assert small["weights"].startswith("int8") and "-int8-" in small["version"]
    assert (tmp_path / "int8" / "embedder.tflite").stat().st_size < 0.3 * (tmp_path / "model" / "embedder.tflite").stat().st_size
    for name in ("pnet.tflite", "rnet.tflite", "onet.tflite", "detector.json"):
        (tmp_path / "int8" / name).symlink_to(models_dir() / name)
    assert np.abs(Embedder(tmp_path / "int8").embed_crops(crops[:4]) - emb).max() < 0.05


def test_fairface_negatives_push_different_faces_of_a_group_apart(tmp_path, lfw_faces):
    """With only the within-group term, faces standing in for one group's strangers end further apart."""
    import keras

    from training.finetune import PRESETS, train
    from training.import_dlib import import_dlib
    from training.losses import pairwise_sq_distances

    import_dlib(tmp_path / "dlib")
    crops, labels, names = lfw_faces
    # One face of each of the 8 people, as two "groups" of 4 different people.
    firsts = np.array([np.flatnonzero(labels == k)[0] for k in range(len(names))])
    fair = (crops[firsts], np.array([0, 1] * 4, np.int32))
    cfg = replace(PRESETS["smoke"], init_from=str(tmp_path / "dlib"), out_dir=str(tmp_path / "fair"),
                  stay_weight=0.0, alpha=0.0, fairface_per_race=4, fairface_batch=4, fair_margin=4.0,
                  fair_weight=1.0, epochs=1, steps_per_epoch=6)

    def within(run: str) -> float:
        model = keras.models.load_model(tmp_path / run / "model.keras", compile=False)
        d = np.asarray(pairwise_sq_distances(model(fair[0].astype(np.float32))))
        same = (fair[1][:, None] == fair[1][None, :]) & ~np.eye(len(fair[1]), dtype=bool)
        return float(d[same].mean())

    train(cfg, faces=lfw_faces, fair_faces=fair)
    history = json.loads((tmp_path / "fair" / "state.json").read_text())["history"]
    assert history[0]["spread"] > 0
    assert within("fair") > within("dlib")


def test_children_join_fairface_negatives_babies_first_never_from_the_calibration_sample():
    from training.fairface import RACES, Face
    from training.finetune import children

    faces = [Face(f"train/{race[:3]}-{age}-{i}.jpg", race, "Female", age)
             for race in RACES for age, n in (("0-2", 3), ("3-9", 10), ("30-39", 5)) for i in range(n)]
    calibration = {f"train/{RACES[0][:3]}-0-2-0.jpg"}
    kids = children(faces, calibration, 5, seed=0)
    for race in RACES:
        mine = [f for f in kids if f.race == race]
        babies = 2 if race == RACES[0] else 3  # one of the first group's babies calibrates the caps
        assert len(mine) == 5 and sum(f.age == "0-2" for f in mine) == babies
        assert all(f.age in ("0-2", "3-9") for f in mine)
    assert not calibration & {f.file for f in kids}

"""A few training steps on a few dozen real images: the loss falls, export and reload work."""

from __future__ import annotations

import json
import os

import cv2
import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
pytest.importorskip("tensorflow", reason="TensorFlow (training extra) is needed")

from training.config import PRESETS, TrainConfig  # noqa: E402
from training.train import TrainingSet, train  # noqa: E402


@pytest.fixture(scope="module")
def tiny_set():
    """8 'identities': real images shipped with scikit-image, 5 random crops each."""
    from skimage import data as skd

    images = [
        skd.astronaut(), skd.coffee(), skd.chelsea(), skd.rocket(), skd.cat(),
        np.dstack([skd.camera()] * 3), skd.immunohistochemistry(), np.dstack([skd.moon()] * 3),
    ]
    rng = np.random.default_rng(0)
    crops, labels = [], []
    for label, img in enumerate(images):
        h, w = img.shape[:2]
        for _ in range(5):
            s = int(min(h, w) * rng.uniform(0.6, 0.9))
            y, x = rng.integers(0, h - s), rng.integers(0, w - s)
            crop = np.ascontiguousarray(img[y : y + s, x : x + s, :3])
            crops.append(cv2.resize(crop, (32, 32), interpolation=cv2.INTER_AREA))
            labels.append(label)
    n = len(labels)
    teacher = rng.normal(size=(n, 128)).astype(np.float32)
    teacher /= np.linalg.norm(teacher, axis=1, keepdims=True)
    return TrainingSet(np.stack(crops), np.array(labels, np.int32), teacher, np.ones(n, bool), [str(i) for i in range(8)], [""] * n)


def clean_loss(model, data: TrainingSet) -> float:
    from training.losses import triplet_semihard_loss

    emb = model(data.crops.astype(np.float32), training=False)
    return float(triplet_semihard_loss(emb, data.labels, 0.2))


def test_training_lowers_the_loss_and_exports(tmp_path, tiny_set):
    import keras

    from photoface.embedder import Embedder
    from training.backbones import build_backbone
    from training.export import export

    cfg = PRESETS["smoke"].replace(out_dir=str(tmp_path / "run"))
    keras.utils.set_random_seed(cfg.seed)
    untrained = build_backbone("resnet", input_size=32, widths=cfg.widths, blocks=cfg.blocks)
    before = clean_loss(untrained, tiny_set)
    out = train(cfg, data=tiny_set, verbose=0)
    model = keras.models.load_model(out / "model.keras", compile=False)
    after = clean_loss(model, tiny_set)
    assert after < 0.7 * before, (before, after)
    assert TrainConfig.load(out / "config.json") == cfg
    history = json.loads((out / "state.json").read_text())["history"]
    assert [r["epoch"] for r in history] == [1, 2, 3, 4]

    card = export(out, tmp_path / "models", samples=tiny_set.crops[:8])
    assert card["input"]["size"] == 32 and card["embedding"]["size"] == 128
    # The .tflite computes what the Keras model computes (within 1e-4).
    assert card["tflite_vs_keras_max_abs_difference"]["value"] < 1e-4
    assert card["tflite_vs_keras_max_abs_difference"] == json.loads(
        (tmp_path / "models" / "model_card.json").read_text()
    )["tflite_vs_keras_max_abs_difference"]
    embedder = Embedder(tmp_path / "models")
    emb = embedder.embed_crops(tiny_set.crops[:5])
    assert emb.shape == (5, 128)
    assert np.allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)


def test_resume_continues_where_it_stopped(tmp_path, tiny_set):
    # With look-alike batches too (half the batches: people nearest in the teacher's space).
    cfg = PRESETS["smoke"].replace(out_dir=str(tmp_path / "run"), epochs=2, distill_weight=1.0, lookalike_batches=0.5)
    train(cfg, data=tiny_set, verbose=0)
    longer = cfg.replace(epochs=3)
    out = train(longer, resume=True, data=tiny_set, verbose=0)
    history = json.loads((out / "state.json").read_text())["history"]
    assert [r["epoch"] for r in history] == [1, 2, 3]
    assert all(np.isfinite(r["loss"]) for r in history)
    assert history[-1]["distill"] > 0  # the teacher term was on


def test_a_run_killed_and_resumed_ends_where_an_unbroken_one_does(tmp_path, tiny_set, monkeypatch):
    # Same batches (seeded per epoch), weights and Adam moments: a run killed after epoch 1 and
    # resumed must train the same network (a resume that lost the Adam moments would not).
    import keras

    import training.train as training_train

    cfg = PRESETS["smoke"].replace(epochs=2, distill_weight=1.0)
    whole = train(cfg.replace(out_dir=str(tmp_path / "whole")), data=tiny_set, verbose=0)

    class Killed(Exception):
        pass

    class KilledAfterFirstEpoch(training_train.Progress):
        def on_epoch_end(self, epoch, logs=None):
            super().on_epoch_end(epoch, logs)
            raise Killed  # the checkpoint is written; the session ends here

    broken = cfg.replace(out_dir=str(tmp_path / "broken"))
    with monkeypatch.context() as m:
        m.setattr(training_train, "Progress", KilledAfterFirstEpoch)
        with pytest.raises(Killed):
            train(broken, data=tiny_set, verbose=0)
    resumed = train(broken, resume=True, data=tiny_set, verbose=0)
    a = keras.models.load_model(whole / "model.keras", compile=False).get_weights()
    b = keras.models.load_model(resumed / "model.keras", compile=False).get_weights()
    worst = max(float(np.max(np.abs(x - y))) for x, y in zip(a, b))
    assert worst < 1e-4, worst


def test_a_run_cannot_start_from_a_network_that_saw_its_held_out_people(tmp_path):
    from training.train import init_weights

    parent = tmp_path / "parent"
    parent.mkdir()
    PRESETS["distill"].save(parent / "config.json")  # kept out View 1's DevTest people only
    fold_run = PRESETS["distill"].replace(exclude="view2-fold-3")
    with pytest.raises(ValueError, match="has seen people"):
        init_weights(None, parent, fold_run)


def test_offline_generator_trains(tmp_path, tiny_set):
    cfg = PRESETS["smoke"].replace(out_dir=str(tmp_path / "run"), miner="offline", epochs=1)
    out = train(cfg, data=tiny_set, verbose=0)
    history = json.loads((out / "state.json").read_text())["history"]
    assert np.isfinite(history[0]["loss"])


def test_a_run_can_start_from_an_earlier_runs_network(tmp_path, tiny_set):
    import keras

    first = train(PRESETS["smoke"].replace(out_dir=str(tmp_path / "a"), epochs=3), data=tiny_set, verbose=0)
    trained = keras.models.load_model(first / "model.keras", compile=False)
    # Zero epochs: the new run's network is exactly the one it started from.
    cfg = PRESETS["smoke"].replace(out_dir=str(tmp_path / "b"), epochs=0, init_from=str(first), seed=1)
    second = train(cfg, data=tiny_set, verbose=0)
    started = keras.models.load_model(second / "model.keras", compile=False)
    x = tiny_set.crops[:4].astype(np.float32)
    assert np.allclose(trained(x), started(x), atol=1e-6)
    fresh = train(cfg.replace(out_dir=str(tmp_path / "c"), init_from=""), data=tiny_set, verbose=0)
    untrained = keras.models.load_model(fresh / "model.keras", compile=False)
    assert clean_loss(started, tiny_set) < 0.99 * clean_loss(untrained, tiny_set)
    # A network of another shape is refused with a clear message.
    wider = cfg.replace(out_dir=str(tmp_path / "d"), widths=(16, 32))
    with pytest.raises(ValueError, match="network differs"):
        train(wider, data=tiny_set, verbose=0)


def test_a_mixed_precision_run_learns_and_saves_a_float32_network(tmp_path, tiny_set):
    import keras

    from training.backbones import build_backbone

    cfg = PRESETS["smoke"].replace(out_dir=str(tmp_path / "run"), precision="mixed_bfloat16")
    keras.utils.set_random_seed(cfg.seed)
    before = clean_loss(build_backbone("resnet", input_size=32, widths=cfg.widths, blocks=cfg.blocks), tiny_set)
    out = train(cfg, data=tiny_set, verbose=0)
    assert keras.mixed_precision.global_policy().name == "float32"  # the run did not leak its policy
    model = keras.models.load_model(out / "model.keras", compile=False)
    assert {layer.compute_dtype for layer in model.layers if layer.weights} == {"float32"}
    assert clean_loss(model, tiny_set) < 0.8 * before


def test_several_runs_export_as_one_model_averaging_their_networks(tmp_path, tiny_set):
    import keras

    from photoface.embedder import Embedder
    from photoface.runtime import LiteModel
    from training.export import export

    runs = [train(PRESETS["smoke"].replace(out_dir=str(tmp_path / f"r{seed}"), epochs=1, seed=seed),
                  data=tiny_set, verbose=0) for seed in (0, 1)]
    card = export(runs, tmp_path / "models", samples=tiny_set.crops[:8], flip_average=False)
    assert card["version"].startswith("smoke-x2-")
    assert [m["seed"] for m in card["training"]["recipe"]["members"]] == [0, 1]
    x = tiny_set.crops[:6].astype(np.float32)
    each = [np.asarray(keras.models.load_model(r / "model.keras", compile=False)(x)) for r in runs]
    mean = (each[0] + each[1]) / np.linalg.norm(each[0] + each[1], axis=1, keepdims=True)
    (lite,) = LiteModel(tmp_path / "models" / "embedder.tflite", num_threads=1).run_batched(x)
    assert np.abs(lite - mean).max() < 1e-4
    assert np.abs(lite - each[0]).max() > 1e-2  # not just the first network
    assert card["tflite_vs_keras_max_abs_difference"]["value"] < 1e-4
    emb = Embedder(tmp_path / "models").embed_crops(tiny_set.crops[:6])
    assert np.allclose(emb, lite, atol=1e-4)


def with_views(data: TrainingSet) -> TrainingSet:
    """``data`` with two 'views' per face: its negative, with targets of their own."""
    from dataclasses import replace

    n = len(data.labels)
    targets = np.random.default_rng(5).normal(size=(n, 2, 128)).astype(np.float32)
    targets /= np.linalg.norm(targets, axis=2, keepdims=True)
    views = np.stack([255 - data.crops] * 2, axis=1)
    return replace(data, views=views, view_teacher=targets, has_view=np.ones((n, 2), bool))


def test_a_view_comes_with_the_teachers_embedding_of_that_view(tiny_set):
    from training.train import make_batches

    data = with_views(tiny_set)
    cfg = PRESETS["smoke"].replace(teacher_views=2, view_share=1.0, distill_weight=1.0)
    x, y = make_batches(cfg, data)[0]
    rows = data.view_teacher.reshape(-1, 128)
    match = np.abs(y["teacher"][:, None, :] - rows[None]).max(axis=2) < 1e-6
    assert match.sum(axis=1).tolist() == [1] * len(x)  # every target is one view's own
    face = match.argmax(axis=1) // 2
    assert (data.labels[face] == y["labels"]).all() and (y["has_teacher"] == 1).all()
    # ...and the crop is that view (the negative), mirrored or jittered at most.
    assert np.abs(x.mean(axis=(1, 2, 3)) - data.views[face, 0].mean(axis=(1, 2, 3))).max() < 20
    # Without views, the clean crops and the clean targets as before.
    x0, y0 = make_batches(cfg.replace(view_share=0.0), data)[0]
    match0 = np.abs(y0["teacher"][:, None, :] - tiny_set.teacher[None]).max(axis=2) < 1e-6
    assert match0.any(axis=1).all()
    shares = [np.mean([np.abs(t - rows).max(axis=1).min() < 1e-6 for t in make_batches(
        cfg.replace(view_share=0.5), data)[s][1]["teacher"]]) for s in range(4)]
    assert 0.3 < np.mean(shares) < 0.7


def test_training_with_views_runs(tmp_path, tiny_set):
    cfg = PRESETS["smoke"].replace(
        out_dir=str(tmp_path / "run"), epochs=1, teacher_views=2, distill_weight=1.0, augment="clean"
    )
    out = train(cfg, data=with_views(tiny_set), verbose=0)
    history = json.loads((out / "state.json").read_text())["history"]
    assert np.isfinite(history[0]["loss"]) and history[0]["distill"] > 0

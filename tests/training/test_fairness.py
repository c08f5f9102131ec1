"""Fairness across demographic groups: FairFace's labels, the naming cap, whitening."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def test_fairface_labels_read_with_the_age_bands_a_spreadsheet_rewrote(tmp_path):
    from training import fairface

    (tmp_path / "fairface_label_val.csv").write_text(
        "file,age,gender,race,service_test\nval/1.jpg,03-Sep,Male,East Asian,FALSE\n"
        "val/2.jpg,Oct-19,Female,Black,TRUE\nval/3.jpg,30-39,Female,White,TRUE\n")
    faces = fairface.read_labels(tmp_path, "val")
    assert [f.age for f in faces] == ["3-9", "10-19", "30-39"]
    assert [f.adult for f in faces] == [False, False, True]
    with pytest.raises(FileNotFoundError, match="FairFace is not at"):
        fairface.read_labels(tmp_path, "train")


def test_a_balanced_sample_takes_as_many_of_each_group():
    from training import fairface

    faces = [fairface.Face(f"train/{i}.jpg", race, "Male", "30-39")
             for i, race in enumerate([r for r in fairface.RACES for _ in range(5)] + ["White"] * 20)]
    sample = fairface.balanced(faces, 4)
    assert sorted({sum(f.race == r for f in sample) for r in fairface.RACES}) == [4]


def test_the_fairness_cap_is_the_largest_step_keeping_every_group_under_the_rate():
    from training.operating_points import fair_threshold

    rng = np.random.default_rng(0)
    wide = rng.uniform(0.10, 0.40, 10_000)  # one group's strangers far apart
    tight = rng.uniform(0.05, 0.35, 10_000)  # another's close together
    t = fair_threshold({"wide": wide, "tight": tight}, 0.2, 0.015)
    assert (tight < t).mean() <= 0.015 < (tight < t + 0.002).mean()  # the next 1% step would not do
    assert fair_threshold({"wide": wide}, 0.2, 0.5) == 0.2  # never above the pair threshold


def test_whitening_evens_out_a_squeezed_group_at_the_same_true_accept_rate():
    """Group B's people are squeezed into few directions: its strangers sit closer than A's, so a
    fixed threshold matches them far more often. Whitening on a balanced sample of both evens the
    spread: at the threshold keeping the true accepts, B's false match rate falls."""
    from training.whiten import apply, fit

    rng = np.random.default_rng(1)
    d = 32
    mean = np.r_[2.5, np.zeros(d - 1)]  # every face in a narrow cone, as real embeddings are

    def unit(x):
        return x / np.linalg.norm(x, axis=-1, keepdims=True)

    def people(n, scale):  # two photos of each of n people
        z = rng.normal(size=(n, d)) * scale
        return unit(mean + z), unit(mean + z + 0.25 * rng.normal(size=(n, d)))

    a1, a2 = people(300, np.ones(d))
    b1, b2 = people(300, np.r_[np.ones(4), np.full(d - 4, 0.3)])  # B varies in 4 directions mostly

    def rates(e1a, e2a, e1b, e2b):
        same = np.r_[((e1a - e2a) ** 2).sum(1), ((e1b - e2b) ** 2).sum(1)]
        t = np.quantile(same, 0.95)

        def fmr(x):
            dd = 2 - 2 * x @ x.T
            return float((dd[np.triu_indices(len(x), 1)] < t).mean())

        return fmr(e1a), fmr(e1b)

    before = rates(a1, a2, b1, b2)
    w = fit(np.r_[a1, b1], strength=0.5, eps=0.05)
    after = rates(apply(a1, *w), apply(a2, *w), apply(b1, *w), apply(b2, *w))
    assert before[1] > 5 * max(before[0], 1e-4)  # the squeezed group is matched far more often
    assert after[1] < before[1] / 3


def test_the_whitening_folded_into_the_network_is_the_whitening():
    pytest.importorskip("tensorflow", reason="TensorFlow (training extra) is needed")
    import keras

    from training.whiten import apply, fit, whitened_model

    rng = np.random.default_rng(2)
    inputs = keras.Input((8,))
    base = keras.Model(inputs, keras.layers.UnitNormalization()(keras.layers.Dense(16)(inputs)))
    x = rng.normal(size=(50, 8)).astype(np.float32)
    emb = np.asarray(base(x))
    w, mu = fit(emb, 0.5)
    folded = np.asarray(whitened_model(base, w, mu)(x))
    assert np.abs(folded - apply(emb, w, mu)).max() < 1e-5


def test_the_fairness_cap_search_ends_whatever_the_pair_thresholds_digits():
    from training.operating_points import fair_threshold

    d = {"all close": np.zeros(100)}  # no threshold keeps these apart: the search stops at 1%
    for pair in (0.175, 1.2609, 0.3333, 1.0):
        assert fair_threshold(d, pair, 0.015) == round(0.01 * pair, 4)


def test_grouping_is_capped_by_the_fairness_cap_too(monkeypatch):
    import training.operating_points as op

    rng = np.random.default_rng(3)
    x = rng.normal(size=(36 * 6, 16)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    ids = np.repeat(np.arange(36), 6)
    monkeypatch.setattr(op, "album_scores", lambda e, i, r, ts, blend: [(0.99, 0.9) for _ in ts])
    cap = {"value": 0.5, "group_value": 0.6, "group_race_fmr": {"East Asian": 0.03}}
    points = op.operating_points(x, ids, pair_threshold=1.0, name_draws=2, name_cap=cap)
    g = points["group_threshold"]
    assert g["value"] == 0.6 and g["fairness_cap"]["uncapped_value"] > 0.6
    assert points["name_threshold"]["value"] <= 0.5
    profiles = (x[:36], list(ids[:36]))
    points = op.operating_points(x, ids, pair_threshold=1.0, name_draws=2, name_cap=cap, profiles=profiles)
    assert points["turned_group_threshold"]["value"] <= points["group_threshold"]["value"]

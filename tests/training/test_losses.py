"""Triplet mining and losses on hand-made embeddings whose answers are known."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
pytest.importorskip("keras", reason="Keras (training extra) is needed")
from keras import ops  # noqa: E402

from training.losses import (  # noqa: E402
    distill_regression_loss,
    distill_relational_loss,
    pairwise_sq_distances,
    semihard_negatives,
    triplet_loss,
    triplet_semihard_loss,
)

# Points on a line: squared distances are easy to check by hand.
#   index: 0     1     2     3     4
#   x:     0.0   0.3   0.5   0.6   2.0
#   label: A     A     B     B     C
EMB = np.array([[0.0, 0], [0.3, 0], [0.5, 0], [0.6, 0], [2.0, 0]], np.float32)
LABELS = np.array([0, 0, 1, 1, 2])


def np_(x):
    return ops.convert_to_numpy(x)


def test_pairwise_distances():
    d = np_(pairwise_sq_distances(EMB))
    assert d[0, 1] == pytest.approx(0.09) and d[2, 4] == pytest.approx(2.25)
    assert np.allclose(d, d.T) and np.allclose(np.diag(d), 0)


def test_semihard_mining_picks_exactly_the_right_negatives():
    d = np_(pairwise_sq_distances(EMB))
    neg, pos, found = (np_(t) for t in semihard_negatives(d, LABELS, alpha=0.2))
    # (0, 1): d_ap = .09; negatives 2 (.25), 3 (.36), 4 (4.0); semi-hard window (.09, .29) -> 2
    assert neg[0, 1] == 2 and found[0, 1]
    # (1, 0): d_ap = .09; negatives 2 (.04), 3 (.09), 4 (2.89): none in (.09, .29) -> hardest, 2
    assert neg[1, 0] == 2 and not found[1, 0]
    # (2, 3): d_ap = .01; negatives 0 (.25), 1 (.04), 4 (2.25): window (.01, .21) -> 1
    assert neg[2, 3] == 1 and found[2, 3]
    # (3, 2): d_ap = .01; negatives 0 (.36), 1 (.09), 4 (1.96): window (.01, .21) -> 1
    assert neg[3, 2] == 1 and found[3, 2]
    assert pos.sum() == 4 and not pos[4].any()  # C has no positive


def test_semihard_prefers_the_hardest_semihard_negative():
    emb = np.array([[0.0, 0], [0.2, 0], [0.35, 0], [0.4, 0]], np.float32)
    d = np_(pairwise_sq_distances(emb))  # d_ap(0,1) = .04; d(0,2) = .1225, d(0,3) = .16
    neg, _, found = (np_(t) for t in semihard_negatives(d, np.array([0, 0, 1, 2]), alpha=0.2))
    assert neg[0, 1] == 2 and found[0, 1]


def test_triplet_semihard_loss_value():
    # (0,1): .09 - .25 + .2 = .04; (1,0): .09 - .04 + .2 = .25; (2,3): .01 - .04 + .2 = .17;
    # (3,2): .01 - .09 + .2 = .12  -> mean .145
    assert float(triplet_semihard_loss(EMB, LABELS, 0.2)) == pytest.approx(0.145, abs=1e-6)


def test_triplet_loss_is_zero_when_margin_is_met_and_positive_otherwise():
    a = np.array([[0.0, 0]], np.float32)
    assert float(triplet_loss(a, a + [0.1, 0], a + [1.0, 0], 0.2)) == 0.0
    assert float(triplet_loss(a, a + [0.3, 0], a + [0.4, 0], 0.2)) == pytest.approx(0.09 - 0.16 + 0.2)


def test_distillation_losses():
    rng = np.random.default_rng(0)
    t = rng.normal(size=(8, 16)).astype(np.float32)
    t /= np.linalg.norm(t, axis=1, keepdims=True)
    assert float(distill_regression_loss(t, t)) == pytest.approx(0.0, abs=1e-7)
    assert float(distill_relational_loss(t, t)) == pytest.approx(0.0, abs=1e-6)
    s = np.roll(t, 1, axis=0)
    assert float(distill_regression_loss(s, t)) > 0.5
    # The relational loss ignores a global rotation of the space (distances unchanged).
    q, _ = np.linalg.qr(rng.normal(size=(16, 16)))
    assert float(distill_relational_loss(t @ q.astype(np.float32), t)) == pytest.approx(0.0, abs=1e-5)
    noisy = (t + rng.normal(size=t.shape)).astype(np.float32)
    assert float(distill_relational_loss(noisy, t)) > 0.01


def test_distillation_ignores_faces_without_a_teacher_embedding():
    # Faces without a teacher row (zero targets) must not move either term: before, the
    # relational term took them in and pulled those people together.
    rng = np.random.default_rng(1)
    t = rng.normal(size=(8, 16)).astype(np.float32)
    t /= np.linalg.norm(t, axis=1, keepdims=True)
    s = (t + 0.3 * rng.normal(size=t.shape)).astype(np.float32)
    mask = np.array([1, 1, 1, 1, 1, 1, 0, 0], np.float32)
    t0 = t.copy()
    t0[6:] = 0.0  # how training fills missing targets
    s2 = s.copy()
    s2[6:] = rng.normal(size=(2, 16))
    for loss in (distill_regression_loss, distill_relational_loss):
        kept = float(loss(s[:6], t[:6]))
        assert float(loss(s, t0, mask)) == pytest.approx(kept, rel=1e-5)
        assert float(loss(s2, t0, mask)) == pytest.approx(kept, rel=1e-5)
        assert float(loss(s, t, np.ones(8, np.float32))) == pytest.approx(float(loss(s, t)), rel=1e-5)
    assert float(distill_relational_loss(s, t0)) != pytest.approx(float(distill_relational_loss(s[:6], t[:6])), rel=1e-2)


def test_centered_teacher_targets_spread_a_narrow_cone():
    from training.train import teacher_targets

    rng = np.random.default_rng(0)
    cone = np.array([1.0] + [0.0] * 15) + 0.05 * rng.normal(size=(50, 16))
    cone /= np.linalg.norm(cone, axis=1, keepdims=True)
    has = np.ones(50, bool)
    has[:5] = False
    out = teacher_targets(cone.astype(np.float32), has, "centered")
    assert np.allclose(out[:5], 0)  # no target where the teacher had none
    assert np.allclose(np.linalg.norm(out[5:], axis=1), 1, atol=1e-5)
    before = np_(pairwise_sq_distances(cone[5:].astype(np.float32))).mean()
    after = np_(pairwise_sq_distances(out[5:])).mean()
    assert before < 0.15 and after > 1.5  # different faces move from ~0.08 apart to ~2
    assert teacher_targets(cone.astype(np.float32), has, "raw") is not None
    with pytest.raises(ValueError):
        teacher_targets(cone.astype(np.float32), has, "whatever")


def test_spread_loss_counts_only_close_pairs_within_a_group():
    from training.losses import spread_loss

    # Rows 0 and 1: group 0, squared distance 0.5; rows 2 and 3: group 1, distance 4; rows of
    # different groups are never pairs, however close.
    emb = np.array([[1.0, 0.0], [0.75, np.sqrt(1 - 0.75 ** 2)], [0.0, 1.0], [0.0, -1.0]], np.float32)
    groups = np.array([0, 0, 1, 1])
    # Margin 1: only the group-0 pair is inside it (by 0.5); 4 ordered within-group pairs.
    assert float(spread_loss(emb, groups, 1.0)) == pytest.approx(2 * 0.5 / 4, abs=1e-5)
    assert float(spread_loss(emb, groups, 0.25)) == pytest.approx(0.0, abs=1e-6)
    assert float(spread_loss(emb, np.array([0, 1, 0, 1]), 1.0)) == pytest.approx(0.0, abs=1e-6)

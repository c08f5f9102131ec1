"""The clustering measures of benchmarks/metrics.py on hand-made labelings."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

from metrics import bcubed_prf, f_score, pairwise_prf, summary  # noqa: E402

TRUTH = ["a", "a", "a", "b", "b", "c"]


def test_perfect_grouping_scores_one_whatever_the_label_values():
    pred = [7, 7, 7, 3, 3, 9]
    assert pairwise_prf(TRUTH, pred) == (1.0, 1.0, 1.0)
    assert bcubed_prf(TRUTH, pred) == (1.0, 1.0, 1.0)


def test_all_singletons_are_precise_but_recall_nothing_pairwise():
    pred = list(range(6))
    assert pairwise_prf(TRUTH, pred) == (1.0, 0.0, 0.0)
    p, r, f = bcubed_prf(TRUTH, pred)
    assert p == 1.0
    # Recall per face: a's 1/3 each, b's 1/2 each, c 1/1 -> (1 + 1 + 1) / 6.
    assert r == pytest.approx(3 / 6)
    assert f == pytest.approx(f_score(1.0, 0.5))


def test_one_big_group_recalls_everything():
    pred = [0] * 6
    # 4 same-person pairs (3 of a, 1 of b) among 15 pairs.
    assert pairwise_prf(TRUTH, pred) == pytest.approx((4 / 15, 1.0, f_score(4 / 15, 1.0)))
    p, r, _ = bcubed_prf(TRUTH, pred)
    assert r == 1.0
    assert p == pytest.approx((3 * 3 / 6 + 2 * 2 / 6 + 1 / 6) / 6)


def test_a_mixed_labeling_by_hand():
    # Groups: {a, a}, {a, b, b}, {c}.
    pred = [1, 1, 2, 2, 2, 3]
    # Pairwise: same-group pairs 1 + 3 + 0 = 4, of which same person: (a,a) and (b,b) = 2.
    # Same-person pairs: 3 (a) + 1 (b) = 4, of which grouped together: 2.
    assert pairwise_prf(TRUTH, pred) == pytest.approx((0.5, 0.5, 0.5))
    p, r, _ = bcubed_prf(TRUTH, pred)
    # Precision per face: a,a: 1, 1; a in g2: 1/3; b, b: 2/3, 2/3; c: 1.
    assert p == pytest.approx((1 + 1 + 1 / 3 + 2 / 3 + 2 / 3 + 1) / 6)
    # Recall per face: a,a: 2/3, 2/3; a in g2: 1/3; b, b: 1, 1; c: 1.
    assert r == pytest.approx((2 / 3 + 2 / 3 + 1 / 3 + 1 + 1 + 1) / 6)


def test_measures_are_symmetric_under_swapping_precision_and_recall():
    pred = [1, 1, 2, 2, 2, 3]
    p, r, f = pairwise_prf(TRUTH, pred)
    assert pairwise_prf(pred, TRUTH) == pytest.approx((r, p, f))
    p, r, f = bcubed_prf(TRUTH, pred)
    assert bcubed_prf(pred, TRUTH) == pytest.approx((r, p, f))


def test_edge_cases():
    assert bcubed_prf([], []) == (1.0, 1.0, 1.0)
    assert pairwise_prf(["a"], [0]) == (1.0, 1.0, 1.0)
    with pytest.raises(ValueError):
        pairwise_prf(["a", "b"], [0])
    assert f_score(0.0, 0.0) == 0.0
    assert summary([1, 1, 2, 2, 2, 3, 4]) == {"groups": 4, "singletons": 2, "largest": 3}


def test_adjusted_rand_is_one_for_the_same_partition_and_near_zero_for_chance():
    from metrics import adjusted_rand

    assert adjusted_rand(TRUTH, [5, 5, 5, 1, 1, 0]) == 1.0
    rng = __import__("random").Random(0)
    a = [rng.randrange(20) for _ in range(4000)]
    b = [rng.randrange(20) for _ in range(4000)]
    assert abs(adjusted_rand(a, b)) < 0.02
    assert adjusted_rand(TRUTH, [0, 0, 1, 1, 2, 2]) < 1.0

"""Clustering quality against true identities: pairwise and BCubed precision / recall / F.

Pure functions over two equally long sequences of hashable labels: ``truth[i]`` is face i's true
person, ``pred[i]`` the group (or person) the library put it in. Labels are compared only for
equality, so any hashable values will do (ints, strings, tuples). Used by the benchmarks (through
``benchmarks/metrics.py``) and by ``training/operating_points.py``; tested by
``tests/test_benchmark_metrics.py``.
"""

from __future__ import annotations

from collections import Counter
from typing import Hashable, Sequence


def _check(truth: Sequence[Hashable], pred: Sequence[Hashable]) -> None:
    if len(truth) != len(pred):
        raise ValueError(f"truth has {len(truth)} labels, pred has {len(pred)}")


def f_score(precision: float, recall: float) -> float:
    """The harmonic mean of precision and recall (0 when both are 0)."""
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def pairwise_prf(truth: Sequence[Hashable], pred: Sequence[Hashable]) -> tuple[float, float, float]:
    """Over all pairs of faces. Precision: of the pairs put in the same group, the share that are
    the same person; recall: of the same-person pairs, the share put in the same group. A side with
    no pairs at all (every group or every person a singleton) scores 1.0."""
    _check(truth, pred)
    both = sum(_pairs(n) for n in Counter(zip(truth, pred)).values())
    same_pred = sum(_pairs(n) for n in Counter(pred).values())
    same_truth = sum(_pairs(n) for n in Counter(truth).values())
    precision = both / same_pred if same_pred else 1.0
    recall = both / same_truth if same_truth else 1.0
    return precision, recall, f_score(precision, recall)


def bcubed_prf(truth: Sequence[Hashable], pred: Sequence[Hashable]) -> tuple[float, float, float]:
    """BCubed (Bagga & Baldwin 1998), averaged over faces. A face's precision: the share of its
    group (itself included) that is its person; its recall: the share of its person's faces that
    are in its group. (1.0, 1.0, 1.0) for no faces."""
    _check(truth, pred)
    if not len(truth):
        return 1.0, 1.0, 1.0
    cell = Counter(zip(truth, pred))
    size_pred, size_truth = Counter(pred), Counter(truth)
    precision = sum(cell[t, p] / size_pred[p] for t, p in zip(truth, pred)) / len(truth)
    recall = sum(cell[t, p] / size_truth[t] for t, p in zip(truth, pred)) / len(truth)
    return precision, recall, f_score(precision, recall)


def grouping_bcubed(albums, threshold: float, blend: tuple[int, float] | None = None,
                    turned_threshold: float | None = None) -> tuple[float, float, float]:
    """Mean BCubed (P, R, F) over ``albums``, each grouped on its own as the app groups
    (``photoface.cluster.group_faces`` at ``threshold``, blended first when ``blend`` =
    (neighbours, radius) is given). An album is ``(embeddings, true labels)`` or
    ``(embeddings, true labels, turned)``, its turned faces joining groups within
    ``turned_threshold``."""
    import numpy as np

    from photoface.cluster import group_faces

    scores = []
    for x, truth, *turned in albums:
        labels = group_faces(np.asarray(x, np.float32), threshold, blend=blend,
                             turned=turned[0] if turned else None, turned_threshold=turned_threshold)
        scores.append(bcubed_prf(list(truth), labels.tolist()))
    return tuple(float(v) for v in np.mean(scores, axis=0))


def adjusted_rand(a: Sequence[Hashable], b: Sequence[Hashable]) -> float:
    """Adjusted Rand index of two labelings (Hubert & Arabie 1985): 1.0 for the same partition
    whatever the label values, about 0 for chance agreement."""
    a, b = list(map(_hashable, a)), list(map(_hashable, b))
    _check(a, b)
    index = sum(_pairs(n) for n in Counter(zip(a, b)).values())
    ea = sum(_pairs(n) for n in Counter(a).values())
    eb = sum(_pairs(n) for n in Counter(b).values())
    total = _pairs(len(a))
    expected = ea * eb / total if total else 0.0
    maximum = (ea + eb) / 2
    if maximum == expected:
        return 1.0
    return (index - expected) / (maximum - expected)


def _hashable(label):
    return label.item() if hasattr(label, "item") else label


def summary(pred: Sequence[Hashable]) -> dict:
    """Number of groups, singletons (groups of one face) and the largest group's size."""
    sizes = Counter(pred)
    return {
        "groups": len(sizes),
        "singletons": sum(1 for n in sizes.values() if n == 1),
        "largest": max(sizes.values(), default=0),
    }

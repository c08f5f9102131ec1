"""Verification and identification metrics on face-embedding distances (NumPy only).

Conventions, shared by every function here:

* ``dist`` holds one distance per pair: the squared L2 distance of two L2-normalised embeddings
  (0..4), and "same person" is predicted when ``dist < threshold``.
* ``same`` holds the truth, one bool per pair.
* A NaN distance marks a pair that could not be measured (an image without an embedding). It
  counts as a wrong answer at every threshold: an unmeasured same-person pair is never accepted
  and an unmeasured different-person pair is always accepted. Such pairs do not change which
  threshold is best (they are wrong whatever it is), but they lower accuracy, TAR and AUC and
  raise FAR. Infinite distances are refused.

Thresholds are searched exactly, not on a grid: the only decisions a threshold can make on n
pairs are "accept the k smallest distances" (k = 0..n, cuts falling between two different
distances); each is represented by the midpoint between the last accepted and the first rejected
distance (the smallest distance for "accept none", the next float above the largest for "accept
all"). Sorting once and cumulative sums make every search O(n log n).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

__all__ = [
    "accuracy",
    "best_threshold",
    "kfold_accuracy",
    "knn_table",
    "roc_auc",
    "roc_curve",
    "val_at_far",
    "view1_accuracy",
]


# --- thresholds and accuracy -----------------------------------------------------------------


def best_threshold(dist, same) -> float:
    """The threshold that maximises accuracy on these pairs.

    Among equally good thresholds the smallest (strictest) is returned.
    """
    dist, same = _pairs(dist, same)
    thresholds, same_accepted, diff_accepted = _operating_points(dist, same)
    n_diff = np.count_nonzero(~same)
    correct = same_accepted + (n_diff - diff_accepted)
    return float(thresholds[np.argmax(correct)])  # argmax: the first, i.e. smallest, of ties


def accuracy(dist, same, threshold: float) -> float:
    """The fraction of pairs answered correctly by ``dist < threshold`` (NaN pairs are wrong)."""
    return float(np.mean(answered_right(dist, same, threshold)))


def answered_right(dist, same, threshold: float) -> np.ndarray:
    """Per pair: answered correctly by ``dist < threshold`` (NaN pairs are wrong)."""
    dist, same = _pairs(dist, same)
    return ((dist < threshold) == same) & ~np.isnan(dist)


def mcnemar_exact(right_a, right_b) -> dict:
    """Two models on the same pairs: how many each alone got right, and the exact two-sided
    McNemar p-value (binomial test on those discordant pairs) for "they are equally accurate"."""
    from math import comb

    a, b = np.asarray(right_a, bool), np.asarray(right_b, bool)
    only_a, only_b = int(np.sum(a & ~b)), int(np.sum(~a & b))
    n, k = only_a + only_b, min(only_a, only_b)
    p = min(1.0, 2 * sum(comb(n, i) for i in range(k + 1)) / 2**n) if n else 1.0
    return {"only_first_right": only_a, "only_second_right": only_b, "p_value": p}


def view1_accuracy(train_dist, train_same, test_dist, test_same) -> tuple[float, float]:
    """LFW View 1: the threshold is chosen on the DevTrain pairs and applied to the DevTest pairs.

    Returns ``(test accuracy, threshold)``.
    """
    threshold = best_threshold(train_dist, train_same)
    return accuracy(test_dist, test_same, threshold), threshold


def kfold_accuracy(dist, same, folds, only_folds: Iterable[int] | None = None) -> dict:
    """LFW View 2: for each fold, the threshold is chosen on the other folds and the accuracy is
    measured on that fold.

    ``folds`` gives each pair's fold number. ``only_folds`` restricts which folds are evaluated;
    all other folds still serve for choosing thresholds. Returns a dict with ``folds``,
    ``accuracies`` and ``thresholds`` (lists, one entry per evaluated fold), ``mean`` and ``std``
    (the population standard deviation of the fold accuracies, as insightface and most papers
    report it).
    """
    dist, same = _pairs(dist, same)
    folds = np.asarray(folds)
    if folds.shape != dist.shape:
        raise ValueError(f"folds has shape {folds.shape}, distances have {dist.shape}")
    all_folds = [int(f) for f in np.unique(folds)]
    if len(all_folds) < 2:
        raise ValueError("k-fold accuracy needs at least two folds")
    chosen = all_folds if only_folds is None else sorted({int(f) for f in only_folds})
    unknown = set(chosen) - set(all_folds)
    if unknown or not chosen:
        raise ValueError(f"folds to evaluate {sorted(unknown) or chosen} not among {all_folds}")
    accuracies, thresholds = [], []
    for fold in chosen:
        test = folds == fold
        threshold = best_threshold(dist[~test], same[~test])
        thresholds.append(threshold)
        accuracies.append(accuracy(dist[test], same[test], threshold))
    return {
        "folds": chosen,
        "accuracies": accuracies,
        "thresholds": thresholds,
        "mean": float(np.mean(accuracies)),
        "std": float(np.std(accuracies)),
    }


# --- ROC -------------------------------------------------------------------------------------


def roc_curve(dist, same) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ROC curve: ``(far, tar, thresholds)``, ordered by increasing threshold.

    FAR (false accept rate) is the fraction of different-person pairs accepted, TAR (true accept
    rate, FaceNet's VAL) the fraction of same-person pairs accepted, at each threshold. Without
    unmeasured pairs the curve runs from (0, 0) to (1, 1).
    """
    dist, same = _pairs(dist, same)
    n_same, n_diff = np.count_nonzero(same), np.count_nonzero(~same)
    if n_same == 0 or n_diff == 0:
        raise ValueError("a ROC curve needs both same-person and different-person pairs")
    thresholds, same_accepted, diff_accepted = _operating_points(dist, same)
    return diff_accepted / n_diff, same_accepted / n_same, thresholds


def roc_auc(dist, same) -> float:
    """The area under the ROC curve (trapezoid rule).

    This equals the Mann-Whitney statistic: the probability that a random same-person pair is
    closer than a random different-person pair, ties counting one half (unmeasured pairs rank
    last for same-person pairs and first for different-person pairs).
    """
    # The curve always starts at TAR 0 and ends at FAR 1, so even when unmeasured pairs keep it
    # from the corners (0, 0) and (1, 1), the missing pieces have no area.
    far, tar, _ = roc_curve(dist, same)
    return float(np.sum(np.diff(far) * (tar[1:] + tar[:-1]) / 2))


def val_at_far(dist, same, far: float = 1e-3) -> tuple[float, float, float]:
    """FaceNet's VAL: the true accept rate at the largest threshold whose FAR is <= ``far``.

    Returns ``(val, threshold, achieved_far)``. The threshold is read off the ROC of these very
    pairs (like the AUC), so it describes the curve rather than a held-out operating point.

    Beware of small samples: the FAR can only take the values k / (number of different-person
    pairs). LFW View 2 has 3,000 different-person pairs, so FAR <= 1e-3 allows at most 3 false
    accepts; View 1's DevTest has 500, so it allows none. VAL then depends on the one to three
    closest different-person pairs and varies a lot between models and runs.

    If even accepting nothing exceeds ``far`` (only possible with unmeasured different-person
    pairs, which are always accepted), VAL is 0 and the achieved FAR is above ``far``.
    """
    if not 0 <= far <= 1:
        raise ValueError(f"far must be in [0, 1], got {far}")
    far_curve, tar_curve, thresholds = roc_curve(dist, same)
    # FAR never decreases with the threshold: the last point within the target is the largest.
    index = max(int(np.searchsorted(far_curve, far, side="right")) - 1, 0)
    return float(tar_curve[index]), float(thresholds[index]), float(far_curve[index])


# --- identification --------------------------------------------------------------------------


def knn_table(
    train_emb, train_labels, test_emb, test_labels, ks: Sequence[int] = (1, 3, 5, 7)
) -> dict[int, float]:
    """k-NN identification accuracy for each k: each test embedding gets the majority label of its
    k nearest training embeddings (squared L2 distance).

    A tied vote goes to the tied label whose member is nearest. Returns ``{k: accuracy}``.
    """
    train = _embeddings(train_emb, "train_emb")
    test = _embeddings(test_emb, "test_emb")
    train_labels, test_labels = np.asarray(train_labels), np.asarray(test_labels)
    if train.shape[1] != test.shape[1]:
        raise ValueError(f"embedding sizes differ: {train.shape[1]} and {test.shape[1]}")
    if train_labels.shape != (len(train),) or test_labels.shape != (len(test),):
        raise ValueError("there must be one label per embedding")
    ks = [int(k) for k in ks]
    if not ks or min(ks) < 1 or max(ks) > len(train):
        raise ValueError(f"each k must be in 1..{len(train)} (the training set size), got {ks}")
    neighbour_labels = train_labels[_nearest_neighbours(train, test, max(ks))]
    return {
        k: float(np.mean(_majority_vote(neighbour_labels[:, :k]) == test_labels)) for k in ks
    }


# --- helpers ---------------------------------------------------------------------------------


def _pairs(dist, same) -> tuple[np.ndarray, np.ndarray]:
    dist = np.asarray(dist, dtype=np.float64)
    same = np.asarray(same, dtype=bool)
    if dist.ndim != 1 or dist.shape != same.shape:
        raise ValueError(f"need 1-D distances and labels of one size: {dist.shape}, {same.shape}")
    if dist.size == 0:
        raise ValueError("no pairs")
    if np.isinf(dist).any():
        raise ValueError("distances must be finite (use NaN for pairs that were not measured)")
    return dist, same


def _operating_points(dist: np.ndarray, same: np.ndarray):
    """Every distinct decision a threshold can make on these pairs.

    Returns ``(thresholds, same_accepted, diff_accepted)``, ordered by increasing threshold: the
    numbers of same- and different-person pairs accepted (``dist < threshold``) at each threshold.
    Unmeasured (NaN) different-person pairs are counted as accepted everywhere, unmeasured
    same-person pairs nowhere.
    """
    measured = ~np.isnan(dist)
    if not measured.any():
        raise ValueError("no pair has a measured distance")
    order = np.argsort(dist[measured], kind="stable")
    d, s = dist[measured][order], same[measured][order]
    n = d.size
    same_first = np.concatenate(([0], np.cumsum(s)))  # same-person pairs among the k smallest
    diff_first = np.arange(n + 1) - same_first
    # A threshold can only separate the k smallest from the rest between two different distances.
    possible = np.ones(n + 1, dtype=bool)
    possible[1:n] = d[:-1] < d[1:]
    k = np.flatnonzero(possible)
    unmeasured_diff = np.count_nonzero(~measured & ~same)
    return _cut_thresholds(d, k), same_first[k], diff_first[k] + unmeasured_diff


def _cut_thresholds(d: np.ndarray, k: np.ndarray) -> np.ndarray:
    """The threshold accepting exactly the ``k`` smallest of the sorted distances ``d``."""
    n = d.size
    below = d[np.maximum(k - 1, 0)]
    above = d[np.minimum(k, n - 1)]
    middle = below + (above - below) / 2
    # Between two adjacent floats the midpoint rounds onto the lower one, which `<` would reject.
    middle = np.where(middle > below, middle, above)  # k = 0 gives d[0]: accepts nothing
    return np.where(k == n, np.nextafter(d[-1], np.inf), middle)


def _embeddings(emb, name: str) -> np.ndarray:
    emb = np.asarray(emb, dtype=np.float64)
    if emb.ndim != 2 or len(emb) == 0:
        raise ValueError(f"{name} must be a non-empty (n, d) array, got shape {emb.shape}")
    return emb


def _nearest_neighbours(train: np.ndarray, test: np.ndarray, k: int, chunk: int = 1024):
    """Indices of the ``k`` nearest training rows of each test row, nearest first."""
    train_sq = np.einsum("ij,ij->i", train, train)
    result = np.empty((len(test), k), dtype=np.intp)
    for start in range(0, len(test), chunk):  # bounds memory: chunk x n_train distances
        block = test[start : start + chunk]
        d = train_sq[None, :] - 2 * block @ train.T + np.einsum("ij,ij->i", block, block)[:, None]
        if k < len(train):
            nearest = np.argpartition(d, k - 1, axis=1)[:, :k]
        else:
            nearest = np.broadcast_to(np.arange(len(train)), d.shape)
        nearest_d = np.take_along_axis(d, nearest, axis=1)
        order = np.lexsort((nearest, nearest_d), axis=-1)  # by distance, then training order
        result[start : start + chunk] = np.take_along_axis(nearest, order, axis=1)
    return result


def _majority_vote(neighbour_labels: np.ndarray) -> np.ndarray:
    """The most frequent label of each row (neighbours nearest first); ties go to the tied label
    that occurs first, i.e. whose member is nearest."""
    votes = (neighbour_labels[:, :, None] == neighbour_labels[:, None, :]).sum(axis=2)
    winner = np.argmax(votes, axis=1)  # argmax: the first, i.e. nearest, of tied positions
    return neighbour_labels[np.arange(len(neighbour_labels)), winner]

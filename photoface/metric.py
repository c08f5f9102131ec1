"""Personalisation: a metric learned on the faces the user has confirmed (FaceNet's background:
LMNN / Mahalanobis metrics; here scikit-learn's Neighbourhood Components Analysis).

NCA learns a linear map under which a face's nearest confirmed faces are of its own person. It
is used to *rank* the confirmed faces that vote for a new face; whether a face is anyone known at
all is still decided by the model card's threshold on plain distances, which NCA does not
calibrate. Too few confirmed faces teach nothing: recognition then uses plain distances.

The map must also earn its place. With a few photos per person NCA overfits: on three named
photos of each of 179 LFW people its first step scaled the few directions that separate those
people (largest singular value 81), and a confirmed face held out of the fit found its own person
first 73% of the time instead of 93%; recognition of their other photos fell from 76.7% right /
0.98% wrong to 72.0% / 1.95% (``benchmarks/album.py``). So NCA's iterations are early-stopped on
confirmed faces held out of the fit (one per person, a few rotations), and when no iteration beats
plain distances there, there is no learned metric.
"""

from __future__ import annotations

import base64
import hashlib
import json
import warnings

import numpy as np

MIN_PEOPLE = 3  # people with at least two confirmed faces
MAX_FIT_FACES = 4000  # NCA is O(n^2) per iteration: fit on a sample beyond this
MAX_PER_PERSON = 30


def signature(face_ids, people) -> str:
    h = hashlib.blake2b(digest_size=12)
    h.update(np.asarray(face_ids, np.int64).tobytes())
    h.update(np.asarray(people, np.int64).tobytes())
    return h.hexdigest()


def learn(x: np.ndarray, y: np.ndarray, max_iter: int = 40, seed: int = 0, folds: int = 3) -> np.ndarray | None:
    """A (d, d) map learned by NCA on confirmed faces ``x`` of people ``y``; None if too few
    faces, or if no number of iterations (up to ``max_iter``) recognises held-out confirmed
    faces better than plain distances do."""
    y = np.asarray(y)
    people, counts = np.unique(y, return_counts=True)
    if (counts >= 2).sum() < MIN_PEOPLE:
        return None
    rng = np.random.default_rng(seed)
    keep = []
    for p in people[counts >= 2]:  # a person seen once shows no within-person variation
        idx = np.flatnonzero(y == p)
        keep.extend(rng.permutation(idx)[:MAX_PER_PERSON])
    keep = np.array(keep)
    if len(keep) > MAX_FIT_FACES:
        keep = rng.choice(keep, MAX_FIT_FACES, replace=False)
    x, y = np.asarray(x, np.float64)[keep], y[keep]
    gains = np.zeros(max_iter + 1)  # held-out faces found right, per number of iterations
    for held in _held_out_rotations(y, folds, rng):
        gains += _right_per_iteration(x[~held], y[~held], x[held], y[held], max_iter, seed)
    best = int(np.argmax(gains))  # the first maximum: the fewest iterations
    if best == 0:
        return None  # the learned map did not beat plain distances on the user's own faces
    return _fit(x, y, best, seed).components_.astype(np.float32)


def _fit(x, y, max_iter, seed, callback=None):
    from sklearn.neighbors import NeighborhoodComponentsAnalysis

    nca = NeighborhoodComponentsAnalysis(init="identity", max_iter=max_iter, random_state=seed, tol=1e-4, callback=callback)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence warnings: early stopping is the point
        return nca.fit(x, y)


def _held_out_rotations(y: np.ndarray, folds: int, rng) -> list[np.ndarray]:
    """Up to ``folds`` masks, each holding out one face of every person with 3+ faces (so that
    two stay in the fit), a different face each time."""
    masks = []
    order = {p: rng.permutation(np.flatnonzero(y == p)) for p in np.unique(y)}
    for f in range(folds):
        held = np.zeros(len(y), bool)
        for idx in order.values():
            if len(idx) >= 3 and f < len(idx):
                held[idx[f]] = True
        if held.any():
            masks.append(held)
    return masks


def _right_per_iteration(x_fit, y_fit, x_held, y_held, max_iter, seed) -> np.ndarray:
    """How many held-out faces have their own person nearest, after 0..max_iter iterations (an
    iteration count past convergence keeps the last map)."""
    right = [_nearest_right(np.eye(x_fit.shape[1]), x_fit, y_fit, x_held, y_held)]

    def record(transformation, n_iter):
        right.append(_nearest_right(transformation.reshape(-1, x_fit.shape[1]), x_fit, y_fit, x_held, y_held))

    _fit(x_fit, y_fit, max_iter, seed, callback=record)
    out = np.full(max_iter + 1, right[-1], float)
    out[: len(right)] = right[: max_iter + 1]
    return out


def _nearest_right(m, x_fit, y_fit, x_held, y_held) -> int:
    a, b = x_fit @ m.T, x_held @ m.T
    d = (a * a).sum(1)[None] - 2.0 * (b @ a.T)  # + |b|^2, the same along a row
    return int((y_fit[d.argmin(1)] == y_held).sum())


def to_text(matrix: np.ndarray, sig: str) -> str:
    m = np.ascontiguousarray(matrix, np.float32)
    return json.dumps({"signature": sig, "shape": m.shape, "data": base64.b64encode(m.tobytes()).decode()})


def from_text(text: str | None) -> tuple[np.ndarray, str] | None:
    if not text:
        return None
    try:
        raw = json.loads(text)
        m = np.frombuffer(base64.b64decode(raw["data"]), np.float32).reshape(raw["shape"])
        return m, raw["signature"]
    except (ValueError, KeyError, TypeError):
        return None  # a damaged cache is relearned, never fatal

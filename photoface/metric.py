"""Personalisation: a metric learned on the faces the user has confirmed (FaceNet's background:
LMNN / Mahalanobis metrics; here scikit-learn's Neighbourhood Components Analysis).

NCA learns a linear map under which a face's nearest confirmed faces are of its own person. It
is used to *rank* the confirmed faces that vote for a new face; whether a face is anyone known at
all is still decided by the model card's threshold on plain distances, which NCA does not
calibrate. Too few confirmed faces teach nothing: recognition then uses plain distances.
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


def learn(x: np.ndarray, y: np.ndarray, max_iter: int = 40, seed: int = 0) -> np.ndarray | None:
    """A (d, d) map learned by NCA on confirmed faces ``x`` of people ``y``; None if too few."""
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
    from sklearn.neighbors import NeighborhoodComponentsAnalysis

    nca = NeighborhoodComponentsAnalysis(init="identity", max_iter=max_iter, random_state=seed, tol=1e-4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence warnings: a few iterations already help
        nca.fit(np.asarray(x, np.float64)[keep], y[keep])
    return nca.components_.astype(np.float32)


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

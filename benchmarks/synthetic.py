"""Synthetic face embeddings with a realistic identity structure, and clustering quality measures.

Shared by ``benchmarks/cluster.py`` and ``tests/test_cluster.py`` (which put ``benchmarks/`` on
``sys.path``). Not part of the app; the quality measures are in ``metrics.py``.

The model (128-d, unit length, squared L2 distance), on the scale of a network whose same-person
threshold is about 1.0 (the from-scratch distilled recipe's; the bundled dlib network's is much
smaller, so pass ``--threshold`` accordingly):

* identity centres are random on the unit sphere (different people: squared distance ~2 +- 0.2);
  a fraction of people are *lookalikes* of another person (relatives: centres at cosine ~0.45, so
  their faces are ~1.3-1.5 apart, the hardest case for grouping);
* people sizes are heavy-tailed (Zipf): a few people with hundreds or thousands of faces, many with
  1-3, singletons included; every person has at least one face;
* face = normalise(centre + noise), with a per-face noise level (log-normal: good and bad photos),
  so that same-person squared distances are mostly 0.4-0.9 with a tail above 1.0 (hard faces that
  a threshold of ~1.0 leaves out), and different-person distances mostly 1.6-2.2.
"""

from __future__ import annotations

import numpy as np


def synthetic_faces(
    n_faces: int,
    n_people: int,
    dim: int = 128,
    spread: float = 0.75,
    seed: int = 0,
    *,
    zipf: float = 1.0,
    lookalikes: float = 0.1,
) -> tuple[np.ndarray, np.ndarray]:
    """-> (embeddings float32 (n_faces, dim), unit length; true person int64 (n_faces,)).

    ``spread`` is the median norm of a face's noise relative to its unit centre; the per-face level
    varies log-normally around it (sigma 0.3)."""
    rng = np.random.default_rng(seed)
    n_people = max(1, min(n_people, n_faces))
    weights = 1.0 / np.arange(1, n_people + 1) ** zipf
    sizes = 1 + rng.multinomial(n_faces - n_people, weights / weights.sum()) if n_faces else np.zeros(1, int)
    centres = _normalise(rng.standard_normal((n_people, dim)))
    # Lookalikes: centre = 0.45 * another centre + 0.89 * a random orthogonal-ish direction.
    alike = np.flatnonzero(rng.random(n_people) < lookalikes)
    if len(alike) and n_people > 1:
        other = rng.integers(0, n_people, len(alike))
        other = np.where(other == alike, (other + 1) % n_people, other)
        centres[alike] = _normalise(0.45 * centres[other] + 0.89 * _normalise(rng.standard_normal((len(alike), dim))))
    labels = rng.permutation(np.repeat(np.arange(n_people), sizes))[:n_faces]
    level = spread * np.exp(0.3 * rng.standard_normal(n_faces)) / np.sqrt(dim)
    noise = rng.standard_normal((n_faces, dim)) * level[:, None]
    faces = _normalise(centres[labels] + noise).astype(np.float32)
    return faces, labels.astype(np.int64)


def _normalise(a: np.ndarray) -> np.ndarray:
    return a / np.linalg.norm(a, axis=-1, keepdims=True)

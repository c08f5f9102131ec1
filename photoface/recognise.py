"""Recognition by k-NN: who, among the people the user has confirmed, is this face?

A face is compared with the confirmed faces of named people. It gets a name in two cases:

* one person is clearly nearest: their nearest confirmed face is within the same-person
  threshold and every other person's nearest face is at least ``margin`` farther; or
* the neighbours that lie within the threshold vote (k-NN), a person wins a clear majority of
  them, and is still ahead of the runner-up by half the margin.

Anything less is "unknown" and the face is left to the grouping of unnamed faces: a wrong name
costs the user far more than a missing one. The first case lets a person named from a single
photo be recognised in a big library, where the vote alone fails (many strangers within the
threshold each get one vote); the margin keeps lookalikes apart. A turned face (a profile) must
be closer (``turned_thresholds``): its embedding is less sure. The library names at the model
card's ``name_threshold``, which may be stricter than its pair threshold
(``training/operating_points.py``). Strangers are the larger risk: people never named whose faces
come close to a named one; a stricter naming threshold trades names given to them for right
names (``benchmarks/album.py`` and ``benchmarks/album_cfp.py`` count both).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CHUNK = 4096  # queries per block of the distance matrix (bounded memory)
# Faces this far from frontal (photoface.align.frontality) count as turned: recognised and grouped
# by their own thresholds. The held-out CFP people's profile photos score <= 0.17 (95%; median 0),
# their frontal ones >= 0.71 (99%). On LFW's test people 8.4% of faces score below 0.5 but 1.2%
# below 0.2; a line at 0.5 cost album-sized grouping 1.4 points of F there (recall 0.947 -> 0.917)
# for the same gain on CFP profiles as 0.2 (F 0.655 -> 0.71), which costs LFW 0.5.
TURNED_BELOW = 0.2


@dataclass(frozen=True)
class Match:
    person: int
    confidence: float  # 0.5 .. 1: share of the votes x closeness of the nearest face
    distance: float  # to the nearest confirmed face of that person


def pairwise_sq_l2(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Squared L2 distances between unit rows: 2 - 2 a.b (clipped at 0 against rounding)."""
    return np.maximum(2.0 - 2.0 * (a @ b.T), 0.0)


def recognise(
    queries: np.ndarray,
    refs: np.ndarray,
    ref_people: np.ndarray,
    threshold: float | np.ndarray,
    k: int = 5,
    majority: float = 0.6,
    rejected: list[set[int]] | None = None,
    metric: np.ndarray | None = None,
    margin: float | None = 0.2,
    vote_radius: float | None = None,
) -> list[Match | None]:
    """One ``Match`` (or None: unknown) per query row.

    The confirmed faces within ``threshold`` of a query (one for all, or one per query: a turned
    face's is stricter, see ``turned_thresholds``) are its candidates; the ``k`` nearest of
    them vote (nearest by the learned ``metric``, a (d', d) matrix, when given: see
    ``photoface.metric``). ``rejected[i]`` holds the people query ``i`` must never be matched
    with ("not this person"). ``margin``: how much nearer than anyone else the chosen person must
    be, as a share of the vote radius (squared L2 distances scale with the model: a share keeps
    the rule the same for every model card; None: the vote alone decides). ``vote_radius`` (default: the threshold):
    the k nearest faces within it are the voters, those beyond ``threshold`` voting for nobody; the
    library passes the model card's threshold, so that its strictness setting is monotone.
    """
    queries = np.asarray(queries, np.float32)
    refs = np.asarray(refs, np.float32)
    ref_people = np.asarray(ref_people)
    out: list[Match | None] = [None] * len(queries)
    thresholds = np.broadcast_to(np.asarray(threshold, np.float64), (len(queries),))
    if len(refs) == 0 or len(queries) == 0:
        return out
    refs_m = refs @ metric.T if metric is not None else None
    people, person_of = np.unique(ref_people, return_inverse=True)
    by_person = np.argsort(person_of, kind="stable")
    starts = np.searchsorted(person_of[by_person], np.arange(len(people)))
    for start in range(0, len(queries), CHUNK):
        q = queries[start : start + CHUNK]
        d = pairwise_sq_l2(q, refs)
        dm = _sq_dist(q @ metric.T, refs_m) if metric is not None else d
        nearest = np.minimum.reduceat(d[:, by_person], starts, axis=1)  # each person's nearest face
        for row in range(len(d)):
            i = start + row
            threshold = float(thresholds[i])
            radius = max(threshold, vote_radius or threshold)
            lead_needed = None if margin is None else margin * (vote_radius or threshold)
            cand = np.flatnonzero(d[row] < threshold)
            if not len(cand):
                continue
            skip = rejected[i] if rejected else ()
            near = nearest[row].copy()
            if skip:
                near[np.isin(people, list(skip))] = np.inf
            order = np.argsort(near, kind="stable")[:2]
            d1 = float(near[order[0]])
            d2 = float(near[order[1]]) if len(order) > 1 else np.inf
            lead = d2 - d1
            if lead_needed is not None and d1 < threshold and lead >= lead_needed:
                out[i] = Match(int(people[order[0]]), _confidence(1.0, d1, threshold), d1)
                continue
            # Voters: the k nearest faces within the vote radius (the model's own threshold, fixed);
            # only those within the user's threshold vote for their person. A stricter threshold
            # then only takes votes away: with voters cut at the threshold itself, one close
            # stranger became a 100% majority and stricter settings named more faces.
            voters = cand if radius == threshold else np.flatnonzero(d[row] < radius)
            votes: dict[int, list[float]] = {}
            used = 0
            for j in voters[np.argsort(dm[row, voters], kind="stable")]:
                person = int(ref_people[j])
                if person in skip:
                    continue
                if d[row, j] < threshold:
                    votes.setdefault(person, []).append(float(d[row, j]))
                used += 1
                if used == k:
                    break
            if not votes:
                continue
            person, dists = max(votes.items(), key=lambda kv: (len(kv[1]), -min(kv[1])))
            share = len(dists) / used
            if share < majority or (lead_needed is not None and lead < lead_needed / 2):
                continue
            best = min(dists)
            out[i] = Match(person, _confidence(share, best, threshold), best)
    return out


def turned_faces(frontality) -> np.ndarray:
    """Which faces count as turned: frontality below ``TURNED_BELOW`` (unknown: not turned)."""
    return np.array([v is not None and v < TURNED_BELOW for v in frontality], bool)


def turned_thresholds(threshold: float, frontality, turned_scale: float) -> np.ndarray:
    """Per-face thresholds: ``threshold`` x ``turned_scale`` for a turned face. A turned face's
    embedding is less sure: the model card's ``turned_threshold`` accepts different-person
    frontal-profile pairs no more often than the pair threshold accepts frontal ones."""
    return np.where(turned_faces(frontality), threshold * turned_scale, threshold)


def _confidence(share: float, distance: float, threshold: float) -> float:
    """0.5 .. 1: the share of the votes x how close the nearest face of the person is."""
    return share * (1.0 - 0.5 * distance / threshold)


def _sq_dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Squared L2 between rows of any length (learned spaces are not unit length)."""
    return np.maximum((a * a).sum(1)[:, None] + (b * b).sum(1)[None] - 2.0 * (a @ b.T), 0.0)

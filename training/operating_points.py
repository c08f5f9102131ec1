"""The model card's operating points: how strict to be when grouping and naming faces.

The model card's ``same_person_threshold`` is the best-accuracy threshold for one balanced pair
("are these two the same person?"). A library is not a balanced pair: every face meets every
other person's faces, so the false accepts of a pair threshold add up into merged groups and
wrong names. Grouping and naming therefore run at stricter thresholds, read off the held-out
CFP people (never trained on, and in no other source: 33 of the 50; not LFW, so that LFW stays a
clean benchmark and the thresholds are not tuned to it).

Grouping (card ``group_threshold``, ``group_blend``, ``group_blend_rounds``, ``group_blend_radius``): the largest
threshold (steps of 1% of the pair threshold) at which 20 albums of 30 of the held-out CFP people (frontal photos; as in
``benchmarks/album_cfp.py``) are grouped with BCubed precision >= ``GROUP_PRECISION`` (0.95): of
the faces in a face's group, 95% are its person on average. A mixed group costs the user one
correction per wrong face, a person split in two costs one merge. Before grouping, each face's
embedding can be blended with its 4 nearest faces within a radius, twice
(``photoface.cluster.blend_neighbours``); blended distances are smaller, so blended grouping gets
its own threshold by the same rule, and blending is switched on when it then groups with more
recall. The radius is the smallest of ``BLEND_RADII`` x the pair threshold whose recall is within
``BLEND_RECALL_SLACK`` of the best radius's: these albums hold no strangers, and blending farther
than they need pulls look-alike strangers together in a real library. The rule is on album
precision, not on a false accept rate over pairs, because mixed groups are what the user pays
for; ``far_value`` records the threshold at a 3% false accept rate over all frontal photo pairs
for comparison.

Turned faces (card ``turned_threshold``): recognition names a face whose landmarks say it is
turned (``photoface.recognise.TURNED_BELOW``) only within a stricter threshold, the one at which
different-person frontal-profile pairs of the held-out CFP people are accepted as often as
different-person frontal-frontal pairs are at the pair threshold. A profile's embedding is less
sure: at the pair threshold, different-person frontal-profile pairs are accepted more often than
frontal ones (the card records the rate as ``far_at_pair_threshold``).

Grouping turned faces (card ``turned_group_threshold``): the frontal faces are grouped first and a
turned face joins the group nearest it on average within this threshold (``photoface.cluster.
group_faces``), the one at which different-person frontal-profile pairs of the held-out CFP people
are accepted at 3% (turned faces are too few in the held-out albums to read a precision point off
them).

Naming (card ``name_threshold``): recognition names a frontal face within this threshold, a turned
one within it x ``turned_threshold / same_person_threshold``. The pair threshold is a balanced
pair's best point; in a library a face meets every named person's photos, so its false accepts
add up into wrong names. The naming threshold is the largest one (steps of 1% of the pair threshold, at most the pair
threshold) at which a simulation names at most ``NAME_WRONG`` (1%) of the named people's frontal
photos wrong: in each of 100 draws, 30 of the 33 held-out CFP people are named with 3 frontal
photos each and every other frontal photo is recognised as the app does (``photoface.recognise``,
voters within the pair threshold), as in ``benchmarks/album_cfp.py``.

Strangers named are recorded beside it: with half of the 33 named and the rest strangers
(``among_strangers``), ``suggestions_wrong`` is the share of all names given that are wrong, a
stranger named counting as wrong. Naming itself does not bound it: a naming threshold that did
would also leave many of the named people's photos unnamed; the sure threshold below uses it
instead.

Sure suggestions (card ``sure_threshold``): the largest threshold (steps of 1% of the pair threshold, at most the naming
threshold) at which at most ``SURE_WRONG`` (10%) of the names given are wrong in that
half-strangers simulation. A suggestion this close is "sure": "Confirm sure suggestions" takes
only those, and the others are left to check one by one (a confirmed face becomes a reference
and draws its look-alikes to the name).

A threshold much stricter than these leaves people unrecognised: ``tests/test_album_mini.py``
checks that the named people of ``album-mini`` (a real album) are recognised at the card's.

    python -m training.operating_points --model resources/models [--write]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

GROUP_FAR = 0.03
HELD_OUT = "33 held-out CFP people (never trained on, in no other source)"
CHOSEN_ON = f"all frontal photo pairs of the {HELD_OUT}"
TURNED_CHOSEN_ON = (f"frontal-profile pairs of the {HELD_OUT}: the false accept rate of "
                    "frontal-frontal pairs at the pair threshold")
TURNED_GROUP_CHOSEN_ON = f"frontal-profile pairs of the {HELD_OUT}: the grouping's false accept rate"
BLEND_NEIGHBOURS = 4
# Blending radii tried, as fractions of the pair threshold; the smallest whose album recall is
# within BLEND_RECALL_SLACK of the best is used. Blending farther than the held-out albums need
# only risks pulling look-alike strangers together, which albums without strangers cannot show
# (benchmarks/album.py and benchmarks/group_photos.py can).
BLEND_RADII = (1.0, 0.95, 0.9, 0.85, 0.8, 0.75, 0.7, 0.65)
BLEND_RECALL_SLACK = 0.005
BLEND_RADIUS_CHOSEN_ON = ("20 albums of 30 held-out CFP people (frontal photos): the smallest radius whose recall at "
                          f"BCubed precision >= 0.95 is within {BLEND_RECALL_SLACK} of the best radius's")
BLEND_ROUNDS = 2  # blended twice: on held-out albums, more recall at equal precision than once
BLEND_ROUNDS_CHOSEN_ON = ("20 albums of 30 held-out CFP people (frontal photos): recall at BCubed precision >= 0.95, "
                          "4 neighbours blended twice against 3 once (0.942 against 0.911; README)")
# Grouping's album precision: of the faces in a face's group, at least 95% are its person on
# average (BCubed). A group mixing two people costs the user a correction per wrong face; a person
# split in two costs one merge.
GROUP_PRECISION = 0.95
ALBUMS, ALBUM_PEOPLE = 20, 30
STEP_SHARE = 0.01  # thresholds are searched in steps of this share of the pair threshold
# Naming names no group's strangers more often than the imported network named white adults':
# at the naming threshold two different adults of any one FairFace race group are taken for one
# person at most FAIR_FMR of the time, at the grouping threshold at most FAIR_GROUP_FMR. Both are
# the rates of white adults (FairFace train, this sample) under dlib's network as imported, at its
# own naming (0.1016) and grouping (0.1121) thresholds: every group gets the care that group got,
# rather than the average (`--fairface-rates` prints a model's rates at its card's thresholds).
# Caps near the average (0.3%, the imported network's pooled naming rate, and 1%) let the fair
# network name 2.7% of the strangers' faces in benchmarks/album.py (the imported: 0.3%).
FAIR_FMR = 0.00043
FAIR_GROUP_FMR = 0.00082
FAIR_PER_RACE = 700
FAIR_GROUP_CHOSEN_ON = ("; at most the threshold at which different adults of every FairFace race group are "
                        f"taken for one person at most {FAIR_GROUP_FMR:.3%} of the time (fairness_cap)")
FAIR_CHOSEN_ON = ("; at most the threshold at which different adults of every FairFace race group are taken "
                  f"for one person at most {FAIR_FMR:.3%} of the time (fairness_cap)")
NAME_WRONG = 0.01  # the naming threshold's wrong-name rate: a wrong name costs more than a missing one
SURE_WRONG = 0.10  # sure suggestions: at most this share of names given wrong, strangers counted
NAMED_PEOPLE, NAMED_PHOTOS, NAME_DRAWS = 30, 3, 100  # 20 draws: the 1% crossing moved by 0.04
NAME_CHOSEN_ON = (f"{NAME_DRAWS} draws of {NAMED_PEOPLE} of the {HELD_OUT} named with "
                  f"{NAMED_PHOTOS} frontal photos each: the largest threshold naming at most {NAME_WRONG:.0%} "
                  "of their other frontal photos wrong")
SURE_CHOSEN_ON = (f"{NAME_DRAWS} draws of half of the {HELD_OUT} named with {NAMED_PHOTOS} frontal photos "
                  f"each, the rest strangers: the largest threshold (at most the naming threshold) at which at "
                  f"most {SURE_WRONG:.0%} of the names given are wrong, strangers' photos named counted")
BLEND_CHOSEN_ON = (f"{ALBUMS} albums of {ALBUM_PEOPLE} held-out CFP people (frontal photos): the largest "
                   f"threshold (steps of 1% of the pair threshold) grouping them with BCubed precision >= {GROUP_PRECISION}")


def threshold_at_far(embeddings: np.ndarray, identities, far: float) -> tuple[float, float, int, int]:
    """(threshold, true accept rate at it, same pairs, different pairs) over all pairs of rows:
    the largest squared-L2 threshold whose false accept rate is at most ``far``."""
    d, same = _pairs(embeddings, identities)
    return _at_far(d, same, far)


def cross_threshold_at_far(frontal: np.ndarray, frontal_ids, profile: np.ndarray, profile_ids,
                           far: float) -> tuple[float, float, int, int]:
    """``threshold_at_far`` over the frontal-profile pairs."""
    return _at_far(*_cross_pairs(frontal, frontal_ids, profile, profile_ids), far)


def _pairs(embeddings, identities) -> tuple[np.ndarray, np.ndarray]:
    """Squared distances of all pairs of rows, and whether each is one person."""
    e, ids = np.asarray(embeddings, np.float64), np.asarray(identities)
    upper = np.triu_indices(len(e), 1)
    return np.maximum(2 - 2 * (e @ e.T), 0)[upper], (ids[:, None] == ids[None, :])[upper]


def _cross_pairs(frontal: np.ndarray, frontal_ids, profile: np.ndarray, profile_ids) -> tuple[np.ndarray, np.ndarray]:
    """Squared distances of every frontal-profile pair, and whether each is one person."""
    d = np.maximum(2 - 2 * (np.asarray(frontal, np.float64) @ np.asarray(profile, np.float64).T), 0)
    return d.ravel(), (np.asarray(frontal_ids)[:, None] == np.asarray(profile_ids)[None, :]).ravel()


def _at_far(d: np.ndarray, same: np.ndarray, far: float) -> tuple[float, float, int, int]:
    impostor = np.sort(d[~same])
    if not len(impostor) or not same.any():
        raise ValueError("need both same-person and different-person pairs")
    allowed = int(np.floor(far * len(impostor)))  # false accepts allowed: distances below the cut
    threshold = float(impostor[allowed]) if allowed < len(impostor) else float(impostor[-1]) + 1e-6
    return threshold, float(np.mean(d[same] < threshold)), int(same.sum()), int(len(impostor))


def turned_threshold(frontal: np.ndarray, frontal_ids, profile: np.ndarray, profile_ids, pair_threshold: float) -> dict:
    """The threshold at which different-person frontal-profile pairs are accepted as often as
    different-person frontal-frontal pairs are at ``pair_threshold``."""
    ff, ff_same = _pairs(frontal, frontal_ids)
    far = float(np.mean(ff[~ff_same] < pair_threshold))
    fp, fp_same = _cross_pairs(frontal, frontal_ids, profile, profile_ids)
    value, tar, n_same, n_diff = _at_far(fp, fp_same, far)
    return {"value": value, "far": far, "tar": tar, "far_at_pair_threshold": float(np.mean(fp[~fp_same] < pair_threshold)),
            "same_pairs": n_same, "different_pairs": n_diff, "chosen_on": TURNED_CHOSEN_ON}


def turned_group_threshold(frontal: np.ndarray, frontal_ids, profile: np.ndarray, profile_ids) -> dict:
    """Grouping's rule for turned faces: frontal-profile pairs at the grouping's FAR (3%)."""
    value, tar, n_same, n_diff = cross_threshold_at_far(frontal, frontal_ids, profile, profile_ids, GROUP_FAR)
    return {"value": value, "far": GROUP_FAR, "tar": tar, "same_pairs": n_same, "different_pairs": n_diff,
            "chosen_on": TURNED_GROUP_CHOSEN_ON}


def naming_rates(embeddings: np.ndarray, identities, threshold: float, pair_threshold: float,
                 draws: int = NAME_DRAWS, named: int = NAMED_PEOPLE, enrol: int = NAMED_PHOTOS, seed: int = 0) -> dict:
    """Recognition as the app does it (``photoface.recognise``), over ``draws`` draws of ``named``
    people named with ``enrol`` photos each: the shares of their other photos named right and
    wrong, of the other people's photos that got a name, and of all names given that are wrong
    (``suggestions_wrong``: another named person's, or a stranger's photo named)."""
    from photoface.recognise import recognise

    x = np.asarray(embeddings, np.float32)
    names, ids = np.unique(np.asarray(identities), return_inverse=True)  # recognise wants int ids
    ids, people = ids.ravel(), np.arange(len(names))
    right = wrong = total = strangers = strangers_named = 0
    for draw in range(draws):
        rng = np.random.default_rng((seed, draw))
        chosen = set(rng.permutation(people)[:named].tolist())
        ref = np.zeros(len(x), bool)
        for person in chosen:
            rows = np.flatnonzero(ids == person)
            ref[rng.permutation(rows)[:enrol]] = True
        matches = recognise(x[~ref], x[ref], ids[ref], threshold, vote_radius=pair_threshold)
        for match, person in zip(matches, ids[~ref].tolist()):
            if person in chosen:
                total += 1
                right += match is not None and match.person == person
                wrong += match is not None and match.person != person
            else:
                strangers += 1
                strangers_named += match is not None
    given = right + wrong + strangers_named
    return {"right": right / max(total, 1), "wrong": wrong / max(total, 1),
            "strangers_named": strangers_named / max(strangers, 1),
            "suggestions_wrong": (wrong + strangers_named) / max(given, 1)}


def _largest_passing(top: float, rates, passes, floor: float, scale: float, at_top: dict | None = None) -> tuple[float, dict]:
    """(threshold, its ``rates``): ``top``, or the first step below it down to ``floor`` whose
    rates ``passes`` (the last step tried when none does). Steps are 1% of ``scale`` (the pair
    threshold: distances scale with the model). ``at_top``: rates(top), if known."""
    step = STEP_SHARE * scale
    t, r = top, rates(top) if at_top is None else at_top
    for value in np.arange(np.floor(top / step - 1e-6) * step, floor, -step):
        if passes(r):
            break
        t = round(float(value), 4)
        r = rates(t)
    return float(t), r


def _half(identities) -> int:
    """How many people are named in the half-strangers simulation."""
    return max(1, len(np.unique(np.asarray(identities))) // 2)


def name_threshold(embeddings: np.ndarray, identities, pair_threshold: float, draws: int = NAME_DRAWS,
                   cap: dict | None = None) -> dict:
    """The largest threshold (1% steps down from the pair threshold) at which ``naming_rates``
    names at most ``NAME_WRONG`` of the named people's photos wrong. Recorded beside it, there and
    at the pair threshold: the rates with half of the people named, the rest strangers."""
    half = _half(identities)
    at_pair = naming_rates(embeddings, identities, pair_threshold, pair_threshold, draws)
    top = pair_threshold if cap is None else min(pair_threshold, cap["value"])
    t, rates = _largest_passing(top, lambda t: naming_rates(embeddings, identities, t, pair_threshold, draws),
                                lambda r: r["wrong"] <= NAME_WRONG, floor=0.2 * pair_threshold, scale=pair_threshold,
                                at_top=at_pair if top == pair_threshold else None)

    def among_strangers(threshold: float) -> dict:
        return {"named_people": half, **naming_rates(embeddings, identities, threshold, pair_threshold, draws, named=half)}

    return {"value": t, "wrong_target": NAME_WRONG, **rates, "among_strangers": among_strangers(t),
            "at_pair_threshold": {**at_pair, "among_strangers": among_strangers(pair_threshold)},
            **({"fairness_cap": cap} if cap is not None else {}),
            "chosen_on": NAME_CHOSEN_ON + (FAIR_CHOSEN_ON if cap is not None else "")}


def sure_threshold(embeddings: np.ndarray, identities, naming: float, pair_threshold: float,
                   draws: int = NAME_DRAWS, at_naming: dict | None = None) -> dict:
    """The largest threshold (1% steps down from the naming threshold ``naming``) at which, with
    half of the people named and the rest strangers, at most ``SURE_WRONG`` of the names given are
    wrong. ``at_naming``: those rates at ``naming``, if known (``name_threshold``'s
    ``among_strangers``)."""
    half = _half(identities)
    at_top = None if at_naming is None else {k: v for k, v in at_naming.items() if k != "named_people"}
    t, r = _largest_passing(naming, lambda t: naming_rates(embeddings, identities, t, pair_threshold, draws, named=half),
                            lambda r: r["suggestions_wrong"] <= SURE_WRONG, floor=0.05 * pair_threshold,
                            scale=pair_threshold, at_top=at_top)
    return {"value": t, "wrong_target": SURE_WRONG, "named_people": half, **r, "chosen_on": SURE_CHOSEN_ON}


def operating_points(embeddings: np.ndarray, identities, pair_threshold: float | None = None,
                     profiles: tuple[np.ndarray, list] | None = None, name_draws: int = NAME_DRAWS,
                     name_cap: dict | None = None) -> dict:
    """Without ``pair_threshold``: the grouping threshold at FAR 3% (no albums are grouped). With
    it: the naming threshold (``name_draws`` simulated libraries), and the grouping threshold by
    album precision, raw or blended (``album_thresholds``: ``group_blend`` says which), the FAR 3%
    one kept as ``far_value``; with the ``profiles`` (embeddings, identities) too the turned faces'
    thresholds."""
    t, tar, n_same, n_diff = threshold_at_far(embeddings, identities, GROUP_FAR)
    out = {"group_threshold": {"value": t, "far": GROUP_FAR, "tar": tar, "same_pairs": n_same,
                               "different_pairs": n_diff, "chosen_on": CHOSEN_ON}}
    if pair_threshold is None:
        return out
    out["name_threshold"] = name_threshold(embeddings, identities, pair_threshold, name_draws, cap=name_cap)
    naming = out["name_threshold"]
    out["sure_threshold"] = sure_threshold(embeddings, identities, naming["value"], pair_threshold, name_draws,
                                           at_naming=naming["among_strangers"])
    if profiles is not None and len(profiles[0]):
        out["turned_threshold"] = turned_threshold(embeddings, identities, *profiles, pair_threshold)
        out["turned_group_threshold"] = turned_group_threshold(embeddings, identities, *profiles)
    blend = album_thresholds(embeddings, identities, t, pair_threshold)
    out["group_blend"] = {"value": BLEND_NEIGHBOURS if blend["adopted"] else 0, **blend}
    out["group_blend_rounds"] = {"value": BLEND_ROUNDS, "chosen_on": BLEND_ROUNDS_CHOSEN_ON}
    out["group_blend_radius"] = {"value": blend["radius"], "fraction_of_pair_threshold": blend["radius"] / pair_threshold,
                                 "chosen_on": BLEND_RADIUS_CHOSEN_ON}
    out["group_threshold"].update(far_value=t, chosen_on=BLEND_CHOSEN_ON, precision_target=GROUP_PRECISION)
    if blend["adopted"]:
        out["group_threshold"].update(value=blend["threshold"], raw_value=blend["raw_threshold"], blended=True)
    else:
        out["group_threshold"].update(value=blend["raw_threshold"], blended=False)
    if name_cap is not None and name_cap.get("group_value") is not None:
        g = out["group_threshold"]
        g["fairness_cap"] = {"value": name_cap["group_value"], "max_fmr": FAIR_GROUP_FMR,
                             "race_fmr": name_cap["group_race_fmr"], "uncapped_value": g["value"]}
        g["value"] = min(g["value"], name_cap["group_value"])
        g["chosen_on"] = g["chosen_on"] + FAIR_GROUP_CHOSEN_ON
        turned = out.get("turned_group_threshold")
        if turned is not None and turned["value"] > g["value"]:  # a turned face is never grouped more loosely
            turned.update(uncapped_value=turned["value"], value=g["value"])
    return out


def albums(identities, draws: int = ALBUMS, size: int = ALBUM_PEOPLE, seed: int = 0) -> list[np.ndarray]:
    """``draws`` random sets of ``size`` people: the row indices of their photos."""
    ids = np.asarray(identities)
    people = sorted(set(ids.tolist()))
    rng = np.random.default_rng(seed)
    return [np.flatnonzero(np.isin(ids, rng.choice(people, min(size, len(people)), replace=False)))
            for _ in range(draws)]


def album_bcubed(embeddings, identities, rows: list[np.ndarray], threshold: float, blend: float | None) -> tuple[float, float]:
    """Mean BCubed (precision, recall) of grouping each album on its own, optionally blended
    (``blend`` = the blending radius)."""
    from .eval.clustering import grouping_bcubed

    x, ids = np.asarray(embeddings, np.float32), np.asarray(identities)
    albums_ = ((x[r], ids[r].tolist()) for r in rows)
    return grouping_bcubed(albums_, threshold, (BLEND_NEIGHBOURS, blend, BLEND_ROUNDS) if blend is not None else None)[:2]


def album_scores(embeddings, identities, rows: list[np.ndarray], thresholds, blend: float | None) -> list[tuple[float, float]]:
    """``album_bcubed`` at each of ``thresholds``, each album blended once (the same figures)."""
    from photoface.cluster import blend_neighbours, cluster_faces

    from .eval.clustering import bcubed_prf

    x, ids = np.asarray(embeddings, np.float32), np.asarray(identities)
    albums_ = [(x[r] if blend is None else blend_neighbours(x[r], blend, BLEND_NEIGHBOURS, rounds=BLEND_ROUNDS),
                ids[r].tolist()) for r in rows]
    out = []
    for t in thresholds:
        scores = [bcubed_prf(truth, cluster_faces(xa, t).tolist()) for xa, truth in albums_]
        p, r, _ = (float(v) for v in np.mean(scores, axis=0))
        out.append((p, r))
    return out


def album_threshold(embeddings, identities, rows: list[np.ndarray], top: float, blend: float | None) -> tuple | None:
    """(threshold, precision, recall): the largest threshold (steps of 1% of ``top``, the pair
    threshold, from 5% of it up to it) at which
    grouping the albums (blended within radius ``blend``, if given) keeps BCubed precision >=
    ``GROUP_PRECISION``; None if none does."""
    steps = [round(float(t), 4) for t in np.arange(0.05 * top, top * (1 + 1e-9), STEP_SHARE * top)]
    best = None
    for t, (p, r) in zip(steps, album_scores(embeddings, identities, rows, steps, blend)):
        if p >= GROUP_PRECISION:
            best = (t, p, r)
    return best


def album_thresholds(embeddings, identities, far_threshold: float, pair_threshold: float) -> dict:
    """Grouping's thresholds by album precision (``album_threshold``), raw and blended. Blending is
    tried within each of ``BLEND_RADII`` x the pair threshold; the smallest radius whose recall
    is within ``BLEND_RECALL_SLACK`` of the best is kept. Blending is adopted when it then groups
    with more recall than raw grouping. Where no raw threshold reaches the precision, raw
    grouping's stays at ``far_threshold``."""
    rows = albums(identities)
    raw = album_threshold(embeddings, identities, rows, pair_threshold, None)
    if raw is None:
        raw = (float(far_threshold), *album_bcubed(embeddings, identities, rows, far_threshold, None))
    radii = [round(float(pair_threshold) * f, 4) for f in BLEND_RADII]
    tried = [(r, album_threshold(embeddings, identities, rows, pair_threshold, r)) for r in radii]
    out = {"neighbours": BLEND_NEIGHBOURS, "rounds": BLEND_ROUNDS, "radius": float(pair_threshold),
           "precision_target": GROUP_PRECISION, "chosen_on": BLEND_CHOSEN_ON,
           "raw_threshold": raw[0], "raw_precision_recall": [raw[1], raw[2]],
           "radii_tried": [{"radius": r, "threshold": b[0], "precision": b[1], "recall": b[2]} if b else
                           {"radius": r, "threshold": None} for r, b in tried],
           "radius_recall_slack": BLEND_RECALL_SLACK}
    found = [(r, b) for r, b in tried if b is not None]
    if not found:
        return {**out, "adopted": False, "threshold": None}
    best = max(b[2] for _, b in found)
    radius, blended = min(((r, b) for r, b in found if b[2] >= best - BLEND_RECALL_SLACK), key=lambda rb: rb[0])
    return {**out, "radius": radius, "adopted": blended[2] > raw[2], "threshold": blended[0],
            "blended_precision_recall": [blended[1], blended[2]]}


def is_held_out(data_root: Path, pose: str | None = None):
    """A test of CFP images: a photo (of ``pose``, if given) of a held-out person (one of the 50
    who is in no other source)?"""
    from .evaluate import HOLDOUT_CFP
    from .splits import clean_holdout_cfp_people

    held = clean_holdout_cfp_people(data_root, HOLDOUT_CFP)
    return lambda im: im.identity in held and (pose is None or im.pose == pose)


def held_out(emb_by_path: dict, data_root: Path, pose: str = "frontal") -> tuple[np.ndarray, list[str]]:
    """The embeddings (from ``emb_by_path``) and identities of the held-out CFP photos of ``pose``."""
    from .data import list_source

    wanted = is_held_out(data_root, pose)
    rows = [(emb_by_path[im.path], im.identity) for im in list_source("cfp", data_root)
            if wanted(im) and im.path in emb_by_path]
    if not rows:
        return np.empty((0, 0)), []
    return np.stack([r[0] for r in rows]), [r[1] for r in rows]


def held_out_points(emb_by_path: dict, data_root: Path, pair_threshold: float, name_cap: dict | None = None) -> dict:
    """All operating points, from the held-out CFP people's frontal and profile photos (the
    naming threshold at most ``name_cap``'s value: ``fairness_cap``)."""
    return operating_points(*held_out(emb_by_path, data_root), pair_threshold=pair_threshold,
                            profiles=held_out(emb_by_path, data_root, "profile"), name_cap=name_cap)


def fair_threshold(different_pairs: dict, pair_threshold: float, max_fmr: float) -> float:
    """The largest threshold (the pair threshold, or a 1% step of it below) at which the
    different-person distances of every group fall under it at most ``max_fmr`` of the time."""
    step = STEP_SHARE * pair_threshold
    t, k = pair_threshold, round(1 / STEP_SHARE)
    while k > 1 and max(float((d < t).mean()) for d in different_pairs.values()) > max_fmr:
        k -= 1
        t = round(k * step, 4)
    return float(t)


def calibration_distances(embedder, per_race: int = FAIR_PER_RACE, root: Path | None = None) -> tuple[dict, int] | None:
    """Each FairFace race group's different-person distances over ``per_race`` adults of FairFace
    train (the fixed sample the caps are read on, never trained on), embedded as the app embeds,
    and the number of faces; None when FairFace is not there (``training/fairface.py``)."""
    from . import fairface

    root = root or fairface.default_root()
    try:
        faces = [f for f in fairface.balanced(fairface.read_labels(root, "train"), per_race, seed=0) if f.adult]
    except FileNotFoundError:
        return None
    crops, found = fairface.crops(root, faces, embedder.input_size, embedder.card.template)
    faces = [f for f, ok in zip(faces, found) if ok]
    emb = np.concatenate([embedder.embed_crops(crops[found][i:i + 256]) for i in range(0, int(found.sum()), 256)])
    return fairface.within_groups(emb, fairface.race_groups(faces)), len(faces)


def fairness_cap(embedder, pair_threshold: float, max_fmr: float = FAIR_FMR, per_race: int = FAIR_PER_RACE,
                 root: Path | None = None) -> dict | None:
    """The largest threshold (1% steps of the pair threshold, at most it) at which two different
    adults of any one FairFace race group are taken for one person at most ``max_fmr`` of the
    time (``calibration_distances``). None when FairFace is not there."""
    got = calibration_distances(embedder, per_race, root)
    if got is None:
        return None
    d, faces = got
    t = fair_threshold(d, pair_threshold, max_fmr)
    group = fair_threshold(d, pair_threshold, FAIR_GROUP_FMR)
    rates = {race: float((v < t).mean()) for race, v in d.items()}
    at_pair = {race: float((v < pair_threshold).mean()) for race, v in d.items()}
    return {"value": t, "max_fmr": max_fmr, "faces": faces, "race_fmr": rates, "race_fmr_at_pair_threshold": at_pair,
            "group_value": group, "group_race_fmr": {race: float((v < group).mean()) for race, v in d.items()},
            "chosen_on": f"FairFace train (CC BY 4.0): {faces} adults, at most {per_race} of each of its 7 race groups; "
                         f"every group's different-person pairs accepted at most {max_fmr:.3%}"}


def print_fairface_rates(embedder) -> int:
    """Each race group's false match rate on the calibration sample at the card's naming and
    grouping thresholds: how the caps' reference rates are read off a network."""
    got = calibration_distances(embedder)
    if got is None:
        print("FairFace not found (training/fairface.py)")
        return 1
    d, faces = got
    card = embedder.card
    print(f"{card.version}: FairFace train calibration sample, {faces} adults")
    for label, t in (("naming", card.name_threshold), ("grouping", card.group_threshold)):
        print(f"  at the {label} threshold {t:.4f}: " + ", ".join(f"{race} {float((v < t).mean()):.4%}" for race, v in d.items()))
    return 0


def write_card(model_dir: Path, points: dict, only: list[str] | None = None) -> dict:
    """Record ``points`` (those named in ``only``, if given) in the model card."""
    path = Path(model_dir) / "model_card.json"
    card = json.loads(path.read_text())
    if only:
        unknown = set(only) - set(points)
        if unknown:
            raise ValueError(f"no such operating point: {', '.join(sorted(unknown))} (there are: {', '.join(points)})")
        points = {**card.get("operating_points", {}), **{k: points[k] for k in only}}
    for key, p in points.items():
        card["embedding"][key] = p["value"]
    card["operating_points"] = points
    path.write_text(json.dumps(card, indent=2) + "\n")
    return card


def main(argv=None) -> int:
    from photoface.embedder import Embedder

    from .data import default_data_root
    from .evaluate import embed_source
    from .prepare import default_cache_dir

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=Path("resources/models"))
    ap.add_argument("--data", type=Path, default=default_data_root())
    ap.add_argument("--cache", type=Path, default=default_cache_dir())
    ap.add_argument("--from-photos", action="store_true", help="detect and align the photos again (no cache)")
    ap.add_argument("--write", action="store_true", help="record the thresholds in the model card")
    ap.add_argument("--no-fairness-cap", action="store_true", help="do not cap naming by FairFace's groups")
    ap.add_argument("--fairface-rates", action="store_true",
                    help="only print each FairFace race group's false match rate at the card's naming and grouping thresholds")
    ap.add_argument("--only", nargs="+", metavar="POINT",
                    help="with --write: record only these (e.g. name_threshold); the card keeps its others")
    args = ap.parse_args(argv)
    embedder = Embedder(args.model, verify=False)
    if args.fairface_rates:
        return print_fairface_rates(embedder)
    emb = embed_source(embedder, "cfp", args.data, args.cache, args.from_photos, keep=is_held_out(args.data))
    cap = None if args.no_fairness_cap else fairness_cap(embedder, embedder.card.threshold)
    if cap is None and not args.no_fairness_cap:
        print("FairFace not found: naming is not capped by demographic groups (training/fairface.py)")
    elif cap is not None:
        print(f"fairness cap: {cap['value']:.4f} (worst FairFace race group at it "
              f"{max(cap['race_fmr'].values()):.4f}, at the pair threshold {max(cap['race_fmr_at_pair_threshold'].values()):.4f})")
    points = held_out_points(emb, args.data, embedder.card.threshold, name_cap=cap)
    print(f"pair threshold (model card): {embedder.card.threshold:.4f}")
    g, b = points["group_threshold"], points["group_blend"]
    print(f"threshold at FAR {g['far']:g}: {g['far_value']:.4f} (true accepts {g['tar']:.3f}; {g['same_pairs']} same / "
          f"{g['different_pairs']} different pairs)")
    print(f"raw grouping threshold: {b['raw_threshold']:.4f}; albums P / R "
          f"{b['raw_precision_recall'][0]:.3f} / {b['raw_precision_recall'][1]:.3f}")
    if b.get("threshold") is not None:
        for tr in b["radii_tried"]:
            print(f"  blending radius {tr['radius']:.4f}: " + (f"threshold {tr['threshold']:.2f}, albums P / R "
                  f"{tr['precision']:.3f} / {tr['recall']:.3f}" if tr["threshold"] is not None else "no threshold is precise enough"))
        print(f"blended grouping threshold ({b['neighbours']} neighbours, {b['rounds']} rounds, radius {b['radius']:.4f}): {b['threshold']:.4f}; "
              f"albums P / R {b['blended_precision_recall'][0]:.3f} / {b['blended_precision_recall'][1]:.3f}; "
              f"{'adopted' if b['adopted'] else 'not adopted'}")
    n = points["name_threshold"]
    a, ap = n["among_strangers"], n["at_pair_threshold"]
    print(f"naming threshold: {n['value']:.4f}: named people's other photos right {n['right']:.3f}, wrong "
          f"{n['wrong']:.4f}, strangers' photos named {n['strangers_named']:.3f} (at the pair threshold: "
          f"{ap['right']:.3f} / {ap['wrong']:.4f} / {ap['strangers_named']:.3f}); with {a['named_people']} people "
          f"named, the rest strangers: right {a['right']:.3f}, strangers' photos named {a['strangers_named']:.3f}, "
          f"names given wrongly {a['suggestions_wrong']:.3f} (at the pair threshold: "
          f"{ap['among_strangers']['suggestions_wrong']:.3f})")
    s = points["sure_threshold"]
    print(f"sure suggestions' threshold: {s['value']:.4f}: with {s['named_people']} people named, the rest strangers, "
          f"right {s['right']:.3f}, strangers' photos named {s['strangers_named']:.3f}, names given wrongly "
          f"{s['suggestions_wrong']:.3f}")
    if "turned_threshold" in points:
        t = points["turned_threshold"]
        print(f"turned faces' recognition threshold: {t['value']:.4f} (different-person frontal-profile pairs "
              f"accepted {t['far']:.3f}, as frontal ones at the pair threshold; {t['far_at_pair_threshold']:.3f} "
              f"there; same-person frontal-profile pairs accepted {t['tar']:.3f})")
    if "turned_group_threshold" in points:
        t = points["turned_group_threshold"]
        print(f"turned faces' grouping threshold: {t['value']:.4f} (different-person frontal-profile pairs accepted "
              f"{t['far']:.3f}; same-person ones {t['tar']:.3f})")
    if args.write:
        write_card(args.model, points, args.only)
        print(f"written to {args.model / 'model_card.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

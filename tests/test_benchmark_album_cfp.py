"""The album draws and scoring of benchmarks/album_cfp.py on synthetic embeddings."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

from album_cfp import albums, recognition, score, sweep  # noqa: E402


def people(n_people=8, photos=5, spread=0.05, seed=0):
    """Unit embeddings: each person a random direction, their photos close around it."""
    rng = np.random.default_rng(seed)
    emb, by_person = {}, {}
    for i in range(n_people):
        centre = rng.normal(size=16)
        by_person[f"p{i}"] = []
        for j in range(photos):
            v = centre / np.linalg.norm(centre) + spread * rng.normal(size=16)
            emb[f"p{i}/{j}.jpg"] = v / np.linalg.norm(v)
            by_person[f"p{i}"].append(f"p{i}/{j}.jpg")
    return emb, by_person


def test_albums_hold_whole_people_and_are_the_same_for_every_model():
    _, by_person = people()
    a = albums(by_person, draws=3, size=4)
    assert a == albums(by_person, draws=3, size=4)
    for album in a:
        names = {n for n, _ in album}
        assert len(names) == 4
        assert sorted(p for _, p in album) == sorted(p for n in names for p in by_person[n])


def test_well_separated_people_group_perfectly_and_a_huge_threshold_merges_everyone():
    emb, by_person = people()
    a = albums(by_person, draws=2, size=5)
    assert score(emb, a, 0.5) == (1.0, 1.0, 1.0)
    p, r, _ = score(emb, a, 4.0)
    assert r == 1.0 and abs(p - 0.2) < 1e-9  # one group of 5 people
    s = sweep(emb, a, [0.5, 4.0])
    assert s["best_f"][0] == 0.5 and s["recall_at_precision_0.97"][0] == 0.5


def test_recognition_names_well_separated_people_and_no_stranger():
    emb, by_person = people(n_people=10, photos=8)
    photos = {n: [("frontal" if j < 6 else "profile", p) for j, p in enumerate(paths)] for n, paths in by_person.items()}
    r = recognition(photos, emb, threshold=0.5, personalise=False, draws=3, named=6, enrol=3)
    assert r["frontal"] == {"right": 3 * 6 * 3, "wrong": 0, "unknown": 0}
    assert r["profile"] == {"right": 3 * 6 * 2, "wrong": 0, "unknown": 0}
    assert r["strangers"] == 3 * 4 * 8 and r["strangers_named"] == 0
    # With a threshold that lets everyone in, strangers get names: the measure can fail.
    loose = recognition(photos, emb, threshold=4.0, personalise=False, draws=1, named=6, enrol=3)
    assert loose["strangers_named"] > 0


def test_profiles_are_recognised_with_the_turned_faces_threshold():
    emb, by_person = people(n_people=10, photos=8, spread=0.2)
    photos = {n: [("frontal" if j < 6 else "profile", p) for j, p in enumerate(paths)] for n, paths in by_person.items()}
    same = recognition(photos, emb, threshold=1.0, personalise=False, draws=2, named=6, enrol=3)
    profiles = {p for items in photos.values() for pose, p in items if pose == "profile"}
    strict = recognition(photos, emb, threshold=1.0, personalise=False, draws=2, named=6, enrol=3, turned_scale=0.01,
                         turned=profiles)
    assert strict["frontal"] == same["frontal"]
    assert same["profile"]["right"] > 0 and strict["profile"]["right"] == 0
    assert strict["profile"]["unknown"] == sum(strict["profile"].values())

"""Grouping on albums of unconstrained-looking photos: the held-out CFP people.

LFW's photos are news photos, mostly frontal, with few photos per person; a family album has many
photos per person, some in profile. The CFP people that no model ever trains on give albums
closer to that: 10 frontal and 4 profile photos each (33 people: the 50 held out from training
less the 17 who are in LFW or CelebA under another name, ``training/duplicates.py``). Each album is 30 of them (20 random draws,
the same for every model), grouped on its own with ``photoface.cluster`` as the app groups, and
scored with BCubed precision / recall / F against the true people:

* at the model card's grouping threshold, blended first if the card says so, profiles joining
  groups as the app's turned faces do (what the app does; with profiles also as before, every face
  alike), and at its pair threshold;
* over a sweep of thresholds (no blending): the best recall with precision >= 0.95 and >= 0.97, the best F.

Albums of frontal photos only (like the held-out evaluation photos the project does not have),
and with the profiles too.

Recognition (models with a card): in each of the 20 draws, 30 of the 33 people are named with 3
random frontal photos each and the other 3 stay strangers; every other photo is recognised as
the library does (``photoface.recognise`` at the card's naming threshold, plain distances and
with the learned metric of ``photoface.metric``; also at the pair threshold, for comparison: the
naming threshold is chosen on these people's frontal photos, so only the profile and LFW figures
are independent of it). Reported: right / wrong / unknown for the named people's
frontal and profile photos, and the share of strangers' photos that got a name. ``--model teacher`` scores the dlib teacher's cached embeddings on the
same albums (no card: sweep only).

    .venv/bin/python benchmarks/album_cfp.py [--model resources/models] [--json out.json]

Needs ``../shared/data/cfp``; faces come from the training crop cache when it exists (``python -m
training.prepare``), else each photo is detected and aligned through the app (slower).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ALBUM_PEOPLE, DRAWS, HELD_OUT = 30, 20, 50
NAMED_PEOPLE, NAMED_PHOTOS = 30, 3


def albums(by_person: dict[str, list[str]], draws: int = DRAWS, size: int = ALBUM_PEOPLE, seed: int = 0) -> list[list[tuple[str, str]]]:
    """``draws`` random sets of ``size`` people (the draws of the model card's operating points);
    each album is [(person, image path), ...]."""
    from training.operating_points import albums as draw

    photos = [(n, p) for n in sorted(by_person) for p in by_person[n]]
    return [[photos[i] for i in rows] for rows in draw([n for n, _ in photos], draws, size, seed)]


def score(emb: dict, album_list, threshold: float, blend: tuple[int, float] | None = None,
          turned: set | None = None, turned_threshold: float | None = None) -> tuple[float, float, float]:
    """Mean BCubed (P, R, F) of grouping each album on its own at ``threshold``; ``blend`` =
    (neighbours, radius) blends the embeddings first, as the app does when its card says so; the
    photos in ``turned`` (``turned_photos``) join groups within
    ``turned_threshold``, as the app's turned faces do."""
    import numpy as np

    from training.eval.clustering import grouping_bcubed

    turned = turned or set()
    return grouping_bcubed(((np.stack([emb[p] for _, p in a]), [n for n, _ in a], np.array([p in turned for _, p in a]))
                            for a in album_list), threshold, blend, turned_threshold)


def sweep(emb: dict, album_list, thresholds) -> dict:
    curve = [(float(t), *score(emb, album_list, t)) for t in thresholds]
    out = {"best_f": max(curve, key=lambda c: c[3])}
    for p in (0.95, 0.97):
        ok = [c for c in curve if c[1] >= p]
        out[f"recall_at_precision_{p}"] = max(ok, key=lambda c: c[2]) if ok else None
    return out


def turned_photos(data: Path, cache: Path) -> set:
    """The CFP photos the app would call turned: frontality from the landmarks in the crop cache's
    detections (``training.prepare``) below ``photoface.recognise.TURNED_BELOW``; without that
    cache, the profile photos."""
    import numpy as np

    from photoface.align import frontality
    from photoface.recognise import TURNED_BELOW
    from training.data import list_source
    from training.prepare import cache_paths

    found = cache_paths(cache, "cfp", 0)["detections"]
    if not found.exists():
        return {im.path for im in list_source("cfp", data) if im.pose != "frontal"}
    z = np.load(found)
    return {str(p) for p, marks in zip(z["paths"], z["landmarks"]) if frontality(marks) < TURNED_BELOW}


def recognition(photos: dict[str, list[tuple[str, str]]], emb: dict, threshold: float, personalise: bool,
                draws: int = DRAWS, named: int = NAMED_PEOPLE, enrol: int = NAMED_PHOTOS, turned_scale: float = 1.0,
                turned: set | None = None, vote_radius: float | None = None) -> dict:
    """``photos``: {person: [(pose, path), ...]}. Counts over ``draws`` draws of ``named`` people
    named with ``enrol`` frontal photos each: {pose: {"right", "wrong", "unknown"}}, and
    "strangers" / "strangers_named" over the photos of the people not named. A photo in ``turned``
    (``turned_photos``) is recognised as the app recognises a turned face (``threshold`` x
    ``turned_scale``). ``vote_radius``: the voters' radius (the app's: the pair threshold; default
    ``threshold``)."""
    import numpy as np

    from photoface import metric
    from photoface.recognise import recognise

    people = sorted(photos)
    out = {"frontal": {"right": 0, "wrong": 0, "unknown": 0}, "profile": {"right": 0, "wrong": 0, "unknown": 0},
           "strangers": 0, "strangers_named": 0, "metric_learned": 0}
    for draw in range(draws):
        rng = np.random.default_rng(draw)
        chosen = set(rng.permutation(people)[:named].tolist())
        refs, ref_people, queries, truth = [], [], [], []
        for i, person in enumerate(people):
            frontal = [p for pose, p in photos[person] if pose == "frontal"]
            frontal = [frontal[j] for j in rng.permutation(len(frontal))]
            enrolled = frontal[:enrol] if person in chosen else []
            refs += enrolled
            ref_people += [i] * len(enrolled)
            for pose, path in photos[person]:
                if path not in enrolled:
                    queries.append(path)
                    truth.append((i if person in chosen else None, pose))
        r, rp = np.stack([emb[p] for p in refs]), np.array(ref_people)
        m = metric.learn(r, rp) if personalise else None
        out["metric_learned"] += m is not None
        turned = turned or set()
        thresholds = [threshold * (turned_scale if path in turned else 1.0) for path in queries]
        matches = recognise(np.stack([emb[p] for p in queries]), r, rp, np.array(thresholds), metric=m,
                            vote_radius=vote_radius or threshold)
        for match, (person, pose) in zip(matches, truth):
            if person is None:
                out["strangers"] += 1
                out["strangers_named"] += match is not None
            else:
                kind = "unknown" if match is None else "right" if match.person == person else "wrong"
                out["frontal" if pose == "frontal" else "profile"][kind] += 1
    return out


def main(argv=None) -> int:
    import numpy as np

    from training.data import default_data_root, list_source
    from training.evaluate import embed_source, teacher_embeddings
    from training.prepare import default_cache_dir
    from training.splits import clean_holdout_cfp_people

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="resources/models", help='a model folder, or "teacher"')
    ap.add_argument("--data", type=Path, default=default_data_root())
    ap.add_argument("--cache", type=Path, default=default_cache_dir())
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args(argv)
    if not (args.data / "cfp").is_dir():
        print(f"no CFP data at {args.data / 'cfp'}: nothing to measure")
        return 2

    held_out = clean_holdout_cfp_people(args.data, HELD_OUT)  # the 33 of 50 in no other source
    card = None
    if args.model == "teacher":
        emb = teacher_embeddings("cfp", args.data, args.cache)
        if emb is None:
            print("the teacher's CFP embeddings are not cached (python -m training.prepare --teacher)")
            return 2
    else:
        from photoface.embedder import Embedder

        embedder = Embedder(Path(args.model), verify=False)
        card = embedder.card
        emb = embed_source(embedder, "cfp", args.data, args.cache, keep=lambda im: im.identity in held_out)

    result: dict = {"model": args.model if card is None else card.version, "albums": {}}
    turned = turned_photos(args.data, args.cache)
    for kind, poses in (("frontal", {"frontal"}), ("frontal+profile", {"frontal", "profile"})):
        by_person = defaultdict(list)
        for im in list_source("cfp", args.data):
            if im.identity in held_out and im.pose in poses and im.path in emb:
                by_person[im.identity].append(im.path)
        album_list = albums(by_person)
        row: dict = {"faces_per_album": float(np.mean([len(a) for a in album_list]))}
        if card is not None:
            blend = card.blending()
            row["at_group_threshold"] = (card.group_threshold, *score(emb, album_list, card.group_threshold, blend,
                                                                      turned, card.turned_group_threshold))
            if kind == "frontal+profile":
                row["at_group_threshold_profiles_like_frontal"] = (
                    card.group_threshold, *score(emb, album_list, card.group_threshold, blend))
            row["at_pair_threshold"] = (card.threshold, *score(emb, album_list, card.threshold))
        row.update(sweep(emb, album_list, np.arange(0.1, 1.3, 0.02)))
        result["albums"][kind] = row
    if card is not None:
        photos = defaultdict(list)
        for im in list_source("cfp", args.data):
            if im.identity in held_out and im.path in emb:
                photos[im.identity].append((im.pose, im.path))
        result["recognition"] = {
            name: recognition(photos, emb, t, personalise, turned_scale=scale, turned=turned, vote_radius=card.threshold)
            for name, t, personalise, scale in (
                ("plain distances", card.name_threshold, False, card.turned_scale),
                ("learned metric", card.name_threshold, True, card.turned_scale),
                ("plain distances, one threshold for every pose", card.name_threshold, False, 1.0),
                ("plain distances, at the pair threshold", card.threshold, False, card.turned_scale),
            )
        }

    print(f"{result['model']}: {DRAWS} albums of {ALBUM_PEOPLE} of the {len(held_out)} held-out CFP people")
    for kind, row in result["albums"].items():
        print(f"  {kind} ({row['faces_per_album']:.0f} faces per album)")
        for key in ("at_group_threshold", "at_group_threshold_profiles_like_frontal", "at_pair_threshold", "best_f", "recall_at_precision_0.95", "recall_at_precision_0.97"):
            c = row.get(key)
            if c is not None:
                print(f"    {key:26s} threshold {c[0]:.3f}: BCubed P {c[1]:.3f} R {c[2]:.3f} F {c[3]:.3f}")
            elif key in row:
                print(f"    {key:26s} not reached")
    for name, r in result.get("recognition", {}).items():
        print(f"  recognition, {NAMED_PHOTOS} frontal photos named of {NAMED_PEOPLE} people, {DRAWS} draws, {name}"
              + (f" (a metric was learned in {r['metric_learned']} of {DRAWS} draws)" if name == "learned metric" else ""))
        for pose in ("frontal", "profile"):
            c = r[pose]
            n = sum(c.values())
            print(f"    {pose:8s} right {100 * c['right'] / n:5.1f}%  wrong {100 * c['wrong'] / n:5.2f}%  "
                  f"unknown {100 * c['unknown'] / n:5.1f}%  ({n} photos)")
        print(f"    strangers' photos named: {100 * r['strangers_named'] / r['strangers']:.1f}% of {r['strangers']}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""People who appear in two sources under different identities, so held-out ones stay held out.

The sources were meant to share no people, but CFP dropped its LFW people by exact name, so
misspelt ones ("Nancy Peloci", "Jevin Kostner") stayed, and CelebA's identities are anonymous
numbers that no one matched against CFP. A person in two sources who is held out under one name
(an LFW View 1 DevTest person, one of the 50 held-out CFP people) is trained on under the other.

This finds them with dlib's teacher: the mean of each person's L2-normalised teacher embeddings
against every other person's, in any source (LFW and CelebA hold some people twice too). Two
halves of one CFP person's photos measure 0.019 apart (median; squared L2 of the means), a CFP
person's nearest other CFP person 0.035 or more (see the thresholds below). The result is
a small committed table (``DUPLICATES_FILE``) that ``splits`` reads, so every machine keeps the
same people apart without dlib or the caches:

    python -m training.duplicates    # writes training/cross_source_duplicates.csv

The teacher cache has no rows for people whose embeddings were skipped on purpose (LFW DevTest,
``prepare --teacher-skip-lfw``); they are embedded here, into ``<source>-teacher-check.npy``, a
file training never reads.
"""

from __future__ import annotations

import argparse
import csv
import functools
import sys
from pathlib import Path

import numpy as np

from .data import SOURCES, default_data_root, list_source

DUPLICATES_FILE = Path(__file__).with_name("cross_source_duplicates.csv")
# Squared L2 between two people's mean teacher embeddings. Under THRESHOLD they count as one
# person whatever their names; under NAMED_THRESHOLD when their names match too. Measured: the
# 19 CFP-LFW pairs with matching names under 0.05 are all one person, and
# one-person pairs reach 0.079 (Cristina Kirchner: few photos make a noisy mean), while different
# people with unrelated names come as close as 0.055 (and brothers, Klitschko, 0.068 with
# similar names: names must match, not resemble). Over-matching costs training a few people;
# under-matching leaks held-out people, so the thresholds lean to matching.
THRESHOLD = 0.05
NAMED_THRESHOLD = 0.08


@functools.lru_cache(maxsize=4)
def read_duplicates(path: Path = DUPLICATES_FILE) -> tuple[tuple[str, str], ...]:
    """Pairs of source-prefixed identities that are one person (read once: splits and the
    evaluations ask for them several times a run)."""
    if not path.exists():
        return ()
    with open(path, newline="") as f:
        return tuple((r["identity"], r["same_as"]) for r in csv.DictReader(f))


def with_duplicates(people: set[str], pairs=None) -> set[str]:
    """``people`` and every identity that is one of them in another source."""
    pairs = read_duplicates() if pairs is None else pairs
    out = set(people)
    for a, b in pairs:
        if a in people:
            out.add(b)
        if b in people:
            out.add(a)
    return out


def has_duplicate(pairs=None) -> set[str]:
    """Every identity that appears in another source too."""
    pairs = read_duplicates() if pairs is None else pairs
    return {x for pair in pairs for x in pair}


def identity_means(identities: list[str], emb: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Each identity's mean embedding (rows with NaN ignored), L2-normalised."""
    ok = ~np.isnan(emb[:, 0])
    names = sorted({identities[i] for i in np.flatnonzero(ok)})
    index = {n: k for k, n in enumerate(names)}
    sums = np.zeros((len(names), emb.shape[1]), np.float64)
    for i in np.flatnonzero(ok):
        sums[index[identities[i]]] += emb[i]
    means = sums / np.linalg.norm(sums, axis=1, keepdims=True)
    return names, means.astype(np.float32)


def _name_tokens(identity: str) -> list[str]:
    return identity.split(":", 1)[1].lower().replace("_", " ").replace("-", " ").split()


def same_name(a: str, b: str) -> bool:
    """Two identities' names match: misspelt ("Nancy Peloci"), reordered ("Ziyi Zhang") or
    shortened ("Beyonce" for "Beyonce Knowles"). CelebA's anonymous numbers match nothing."""
    from difflib import SequenceMatcher

    ta, tb = _name_tokens(a), _name_tokens(b)
    if any(t.isdigit() for t in ta + tb):
        return False
    if SequenceMatcher(None, " ".join(sorted(ta)), " ".join(sorted(tb))).ratio() >= 0.8:
        return True
    short, long_ = sorted((ta, tb), key=len)
    return all(any(SequenceMatcher(None, t, u).ratio() >= 0.8 for u in long_) for t in short)


def find_duplicates(
    names: list[str], means: np.ndarray, threshold: float = THRESHOLD, named_threshold: float = NAMED_THRESHOLD
) -> list[tuple[str, str, float]]:
    """(identity, identity, squared distance) for every two people who look like one person."""
    found = []
    for start in range(0, len(names), 1024):  # blocks: all pairs of ~9,000 people at once is 300 MB
        d = np.maximum(2.0 - 2.0 * means[start:start + 1024] @ means.T, 0.0)
        for i, j in zip(*np.nonzero(d < max(threshold, named_threshold))):
            a, b, dist = names[start + i], names[j], float(d[i, j])
            if start + i < j and (dist < threshold or same_name(a, b)):
                found.append((a, b, dist))
    return sorted(found, key=lambda t: t[2])


def _teacher(source: str, data_root: Path, cache_dir: Path, workers: int) -> np.ndarray:
    """The teacher cache of ``source``, with its skipped rows embedded into a check-only file."""
    emb = np.load(cache_dir / f"{source}-teacher.npy")
    missing = np.flatnonzero(np.isnan(emb[:, 0]))
    if len(missing) == 0:
        return emb
    check = cache_dir / f"{source}-teacher-check.npy"
    if check.exists():
        extra = np.load(check)
    else:
        extra = _embed_rows(source, data_root, cache_dir, missing, workers)
        np.save(check, extra)
    emb = emb.copy()
    emb[missing] = extra
    return emb


def _embed_rows(source: str, data_root: Path, cache_dir: Path, rows: np.ndarray, workers: int) -> np.ndarray:
    from concurrent.futures import ProcessPoolExecutor

    from .prepare import _crop_one, _init_worker, _progress

    images = list_source(source, data_root)
    z = np.load(cache_dir / f"{source}-detections.npz")
    out = np.full((len(rows), 128), np.nan, np.float32)
    jobs = [(k, str(images[i].file(data_root)), z["landmarks"][i], z["boxes"][i], 16, True) for k, i in enumerate(rows)]
    with ProcessPoolExecutor(workers, initializer=_init_worker, initargs=(True,)) as pool:
        for done, (k, _crop, emb) in enumerate(pool.map(_crop_one, jobs, chunksize=32), 1):
            out[k] = emb
            _progress("teacher (check only)", done, len(rows))
    return out


def main(argv=None) -> int:
    from .prepare import default_cache_dir

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=default_data_root())
    ap.add_argument("--cache", type=Path, default=default_cache_dir())
    ap.add_argument("--threshold", type=float, default=THRESHOLD)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", type=Path, default=DUPLICATES_FILE)
    args = ap.parse_args(argv)
    names, means = [], []
    for source in SOURCES:
        identities = [im.identity for im in list_source(source, args.data)]
        n, m = identity_means(identities, _teacher(source, args.data, args.cache, args.workers))
        names += n
        means.append(m)
    found = find_duplicates(names, np.concatenate(means), args.threshold)
    with open(args.out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["identity", "same_as", "teacher_distance"])
        for a, b, d in sorted(found):
            w.writerow([a, b, f"{d:.4f}"])
    print(f"{len(found)} pairs of identities that are one person -> {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Grouping small faces: do people photographed small (a face ~27 px wide) still group?

The 179 LFW View 1 test people with 4+ photos (never trained on; 1,769 photos). Each photo is
pasted into an 800 x 600 grey canvas, once at full size (face ~90 px) and once shrunk to 0.3
(face ~27 px), at a seeded random place, and analysed by the app (detect, align, embed); the face
nearest the pasted photo's centre is kept. Albums of 30 of these people (10 seeded draws, as in
``benchmarks/album.py``) are grouped as the app groups (``photoface.cluster.group_faces`` at the
model card's thresholds and blending), with every photo large, every photo small, or each one
small with probability 0.5. Prints BCubed precision / recall / F for each.

    .venv/bin/python benchmarks/small_faces.py [--data ../shared/data] [--scale 0.3]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent)]

from album import DEFAULT_DATA, devtest_people  # noqa: E402


def embed_pasted(people: dict, scales: tuple[float, ...], seed: int = 0) -> dict:
    """{(name, photo index, scale): (embedding, face width, frontality)} for each photo pasted at
    each scale (None where no face was found)."""
    import cv2

    from photoface.align import frontality
    from photoface.analyse import Analyser

    analyser = Analyser()
    rng = np.random.default_rng(seed)
    out = {}
    with tempfile.TemporaryDirectory(prefix="photoface-small-") as tmp:
        path = os.path.join(tmp, "canvas.jpg")
        for name, paths in sorted(people.items()):
            for i, p in enumerate(paths):
                img = cv2.imread(str(p))
                for scale in scales:
                    small = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
                    canvas = np.full((600, 800, 3), 128, np.uint8)
                    h, w = small.shape[:2]
                    y, x = int(rng.integers(0, 600 - h)), int(rng.integers(0, 800 - w))
                    canvas[y : y + h, x : x + w] = small
                    cv2.imwrite(path, canvas, [cv2.IMWRITE_JPEG_QUALITY, 92])
                    faces = analyser.analyse(path).faces
                    if not faces:
                        out[(name, i, scale)] = None
                        continue
                    cx, cy = x + w / 2, y + h / 2
                    f = min(faces, key=lambda f: (f.box[0] + f.box[2] / 2 - cx) ** 2 + (f.box[1] + f.box[3] / 2 - cy) ** 2)
                    out[(name, i, scale)] = (f.embedding, f.box[2], frontality(f.landmarks))
    return out


def album_scores(people: dict, faces: dict, small_share: float, scale: float, draws: int = 10, seed: int = 0):
    """Mean BCubed (P, R, F) of grouping ``draws`` albums of 30 people, each photo small with
    probability ``small_share``."""
    from photoface.cluster import group_faces
    from photoface.config import models_dir
    from photoface.embedder import CARD_NAME, ModelCard
    from photoface.recognise import turned_faces
    from training.eval.clustering import bcubed_prf

    card = ModelCard.load(models_dir() / CARD_NAME)
    rng = np.random.default_rng(seed)
    names = sorted(people)
    scores = []
    for _ in range(draws):
        rows, truth = [], []
        for name in rng.choice(names, 30, replace=False):
            for i in range(len(people[name])):
                face = faces[(name, i, scale if rng.random() < small_share else 1.0)]
                if face is not None:
                    rows.append(face)
                    truth.append(name)
        x = np.stack([r[0] for r in rows]).astype(np.float32)
        labels = group_faces(x, card.group_threshold, blend=card.blending(1.0), turned=turned_faces([r[2] for r in rows]),
                             turned_threshold=card.turned_group_threshold)
        scores.append(bcubed_prf(truth, labels.tolist()))
    return tuple(float(v) for v in np.mean(scores, axis=0))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--scale", type=float, default=0.3, help="the small photos' scale (default 0.3)")
    args = ap.parse_args(argv)
    people = {n: p for n, p in devtest_people(args.data).items() if len(p) >= 4}
    faces = embed_pasted(people, (1.0, args.scale))
    for scale in (1.0, args.scale):
        found = [v for (_, _, s), v in faces.items() if s == scale and v is not None]
        print(f"scale {scale:g}: faces found {len(found)} of {sum(1 for k in faces if k[2] == scale)}, "
              f"median width {np.median([v[1] for v in found]):.0f} px")
    for label, share in (("every photo large", 0.0), ("every photo small", 1.0), ("half of them small", 0.5)):
        p, r, f = album_scores(people, faces, share, args.scale)
        print(f"{label:19s} albums of 30 people: BCubed precision {p:.3f}  recall {r:.3f}  F {f:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""FairFace (Kärkkäinen & Joo, WACV 2021; CC BY 4.0): race-balanced faces with group labels.

Used to measure false matches by demographic group (``benchmarks/fairness.py``) and to fit the
embedding's whitening on a balanced sample (``training.whiten``). Never in the repository: the
data lives at ``$PHOTOFACE_FAIRFACE`` or ``~/.cache/photoface/fairface`` in the official
layout::

    fair_face/train/<n>.jpg, fair_face/val/<n>.jpg       224x224, dlib-aligned (padding 0.25)
    fairface_label_train.csv, fairface_label_val.csv     file,age,gender,race,service_test

The official source is github.com/joojs/fairface. The 45,000-face subset used here (40,000
train, 5,000 val) is the ``fair_face`` folder and label files of the public GitHub repository
sumanvithaeadala/EthnicityDetection at commit 9b001ff28a8a2e7840bcf1c01c8efb97d22471e8; with a
copy of that repository's git directory in GIT_DIR::

    mkdir -p ~/.cache/photoface/fairface
    git --git-dir GIT_DIR archive 9b001ff28a8a2e7840bcf1c01c8efb97d22471e8 fair_face \\
        fairface_label_train.csv fairface_label_val.csv | tar -x -C ~/.cache/photoface/fairface

FairFace's faces are (almost all) of different people, so two faces of one group make a
different-person pair. Only ``train`` may be fitted or trained on; ``val`` is for measuring.
Faces are cut as the app cuts them: its detector (the face nearest the centre) and
``photoface.align.align_face``; the crops are cached beside the data.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

RACES = ("White", "Black", "East Asian", "Southeast Asian", "Indian", "Middle Eastern", "Latino_Hispanic")
# The label files' age bands as a spreadsheet rewrote two of them ("3-9" became "03-Sep").
AGE_FIXES = {"03-Sep": "3-9", "Oct-19": "10-19"}
AGES = ("0-2", "3-9", "10-19", "20-29", "30-39", "40-49", "50-59", "60-69", "more than 70")


@dataclass(frozen=True)
class Face:
    file: str  # relative to fair_face/, e.g. "val/12.jpg"
    race: str
    gender: str
    age: str

    @property
    def adult(self) -> bool:
        return self.age not in ("0-2", "3-9", "10-19")


def default_root() -> Path:
    return Path(os.environ.get("PHOTOFACE_FAIRFACE", Path.home() / ".cache" / "photoface" / "fairface"))


def read_labels(root: Path, split: str) -> list[Face]:
    path = Path(root) / f"fairface_label_{split}.csv"
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: FairFace is not at {root} (see training/fairface.py)")
    with open(path, newline="") as f:
        return [Face(r["file"], r["race"], r["gender"], AGE_FIXES.get(r["age"], r["age"])) for r in csv.DictReader(f)]


def balanced(faces: list[Face], per_race: int, seed: int = 0) -> list[Face]:
    """``per_race`` faces of each race group (all of a group that has fewer), seeded."""
    rng = np.random.default_rng(seed)
    out = []
    for race in RACES:
        group = [f for f in faces if f.race == race]
        out += [group[i] for i in sorted(rng.choice(len(group), min(per_race, len(group)), replace=False))]
    return out


def crops(root: Path, faces: list[Face], size: int = 150, template: str = "dlib-chip",
          cache: Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(crops, found) for ``faces``: the app's crop of the face nearest the centre; a photo in
    which the detector finds no face gets a blank crop and ``found`` False. Cached by file."""
    from photoface.align import align_face
    from photoface.decode import decode_file
    from photoface.detection import FaceDetector, central_face

    cache = cache or Path(root) / f"crops{size}-{template}"
    cache.mkdir(parents=True, exist_ok=True)
    detector = None
    out = np.zeros((len(faces), size, size, 3), np.uint8)
    found = np.zeros(len(faces), bool)
    for i, face in enumerate(faces):
        cached = cache / (face.file.replace("/", "_") + ".npy")
        if cached.exists():
            crop = np.load(cached)
        else:
            detector = detector or FaceDetector()
            rgb = decode_file(Path(root) / "fair_face" / face.file).pixels
            hit = central_face(detector.detect(rgb), rgb.shape[1], rgb.shape[0])
            crop = align_face(rgb, hit.landmarks, size, template) if hit is not None else np.zeros((0,), np.uint8)
            np.save(cached, crop)
        if crop.size:
            out[i], found[i] = crop, True
    return out, found


def pair_distances(emb: np.ndarray) -> np.ndarray:
    """Squared L2 distances of every pair of rows (the upper triangle), unit rows or not."""
    emb = np.asarray(emb, np.float64)
    sq = (emb * emb).sum(1)
    d = sq[:, None] + sq[None, :] - 2 * emb @ emb.T
    return np.maximum(d[np.triu_indices(len(emb), 1)], 0)


def within_groups(emb: np.ndarray, groups: dict) -> dict:
    """Each group's (name -> row indices) different-person distances; groups of one face left out."""
    return {g: pair_distances(emb[list(idx)]) for g, idx in groups.items() if len(idx) > 1}


def race_groups(faces: list[Face]) -> dict[str, list[int]]:
    """Row indices of each race group's faces."""
    return {race: [i for i, f in enumerate(faces) if f.race == race] for race in RACES}

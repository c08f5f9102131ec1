"""False matches by demographic group on FairFace val (NIST FRVT Part 3's method, NISTIR 8280).

Every pair of two different FairFace faces of one group is a different-person pair (FairFace's
faces are of different people), so a group's false match rate (FMR) is the share of its pairs
accepted as one person at a threshold. Race groups are measured on adults (20 and over), as the
held-out figures that prompted this were; gender and age bands on everyone. Thresholds:

* the model card's pair threshold (``same_person_threshold``), naming threshold (what the app
  names with) and grouping threshold (how alike unnamed faces must be, on average, to be grouped);
* the threshold at which the pooled within-race pairs of all groups match at FMR 1e-3, as NIST
  fixes one threshold for all groups.

Reported per group, with the max/min ratio over race groups (the differential). Faces go
through the app's own detector, aligner and embedder (``photoface.embedder.Embedder``); each
``--model`` (the bundled one by default; a model folder, or a git revision's bundled model as
``git:REV``) is measured side by side, and ``--dlib`` adds dlib's own pipeline
(face_recognition's: HOG detector, 5-point shape, dlib's chip and network) at its 0.6 distance.

    .venv/bin/python benchmarks/fairness.py [--model resources/models] [--model git:HEAD~3]
        [--dlib] [--out runs/fairness]

Needs FairFace (``training/fairface.py`` says where to get it); writes ``fairness.json`` and
``fmr_by_group.png`` (log scale) to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from training import fairface  # noqa: E402

POOLED_FMR = 1e-3


def model_dir(spec: str) -> Path:
    """A model folder, or ``git:REV``: that revision's bundled model, unpacked to a temp folder."""
    if not spec.startswith("git:"):
        return Path(spec)
    rev = spec[4:]
    out = Path(tempfile.mkdtemp(prefix="photoface-model-"))
    for name in ("embedder.tflite", "model_card.json", "pnet.tflite", "rnet.tflite", "onet.tflite", "detector.json"):
        data = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:resources/models/{name}"],
                              check=True, capture_output=True).stdout
        (out / name).write_bytes(data)
    return out


def embed_with_model(folder: Path, root: Path, faces) -> tuple[np.ndarray, np.ndarray, dict]:
    from photoface.embedder import Embedder

    embedder = Embedder(folder, verify=False)
    card = embedder.card
    cache = root / f"emb-{card.version}.npz"
    files = np.array([f.file for f in faces])
    if cache.exists():
        with np.load(cache) as z:
            if np.array_equal(z["files"], files):
                return z["emb"], z["found"], _card_thresholds(card)
    crops, found = fairface.crops(root, faces, card.input_size, card.template)
    emb = np.zeros((len(faces), card.embedding_size), np.float32)
    for i in range(0, len(faces), 256):
        idx = np.flatnonzero(found[i:i + 256]) + i
        if len(idx):
            emb[idx] = embedder.embed_crops(crops[idx])
    np.savez(cache, files=files, emb=emb, found=found)
    return emb, found, _card_thresholds(card)


def _card_thresholds(card) -> dict:
    return {"name": card.version, "distance": "squared L2 of unit embeddings",
            "thresholds": {"pair": card.threshold, "naming": card.name_threshold, "grouping": card.group_threshold}}


def embed_with_dlib(root: Path, faces) -> tuple[np.ndarray, np.ndarray, dict]:
    """face_recognition's pipeline: raw 128-d descriptors, Euclidean distance, tolerance 0.6
    (compared here as a squared distance, 0.36)."""
    cache = root / "emb-dlib-face_recognition.npz"
    files = np.array([f.file for f in faces])
    info = {"name": "dlib (face_recognition pipeline)", "distance": "squared Euclidean of raw descriptors",
            "thresholds": {"face_recognition tolerance 0.6": 0.36}}
    if cache.exists():
        with np.load(cache) as z:
            if np.array_equal(z["files"], files):
                return z["emb"], z["found"], info
    import dlib
    import face_recognition_models as models

    from photoface.decode import decode_file
    from training.teacher import central_rect

    hog = dlib.get_frontal_face_detector()
    shape = dlib.shape_predictor(models.pose_predictor_five_point_model_location())
    net = dlib.face_recognition_model_v1(models.face_recognition_model_location())
    emb = np.zeros((len(faces), 128), np.float32)
    found = np.zeros(len(faces), bool)
    for i, face in enumerate(faces):
        rgb = decode_file(root / "fair_face" / face.file).pixels
        rects = hog(rgb, 1)
        if not rects:
            continue
        rect = central_rect(rects, rgb.shape[1], rgb.shape[0])
        emb[i] = net.compute_face_descriptor(dlib.get_face_chip(rgb, shape(rgb, rect), 150, 0.25))
        found[i] = True
    np.savez(cache, files=files, emb=emb, found=found)
    return emb, found, info


def fmr_table(emb, found, faces, thresholds: dict) -> dict:
    groups = {}
    for race in fairface.RACES:
        groups[f"race: {race}"] = [i for i, f in enumerate(faces) if f.race == race and f.adult and found[i]]
    for gender in ("Female", "Male"):
        groups[f"gender: {gender}"] = [i for i, f in enumerate(faces) if f.gender == gender and found[i]]
    for age in fairface.AGES:
        groups[f"age: {age}"] = [i for i, f in enumerate(faces) if f.age == age and found[i]]
    dists = fairface.within_groups(emb, groups)
    pooled = np.concatenate([d for g, d in dists.items() if g.startswith("race: ")])
    thresholds = {**thresholds, f"pooled FMR {POOLED_FMR:g}": float(np.quantile(pooled, POOLED_FMR))}
    table = {"thresholds": thresholds, "groups": {}}
    for g, d in dists.items():
        table["groups"][g] = {"faces": len(groups[g]), "pairs": int(d.size),
                              **{t: float((d < v).mean()) for t, v in thresholds.items()}}
    table["race_ratio_max_min"] = {}
    for t in thresholds:
        rates = [r[t] for g, r in table["groups"].items() if g.startswith("race: ")]
        worst = max(rates)
        table["race_ratio_max_min"][t] = {"worst": worst, "best": min(rates),
                                          "ratio": worst / min(rates) if min(rates) > 0 else float("inf")}
    return table


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    races = [f"race: {r}" for r in fairface.RACES]
    fig, axes = plt.subplots(1, len(results), figsize=(6 * len(results), 4.5), squeeze=False, sharey=True)
    for ax, (name, table) in zip(axes[0], results.items()):
        width = 0.8 / len(table["thresholds"])
        for k, t in enumerate(table["thresholds"]):
            rates = [max(table["groups"][g][t], 1e-6) for g in races]
            ax.bar(np.arange(len(races)) + k * width, rates, width, label=t)
        ax.set_yscale("log")
        ax.set_xticks(np.arange(len(races)) + 0.4 - width / 2)
        ax.set_xticklabels([r.split(": ")[1].replace("_", " ") for r in races], rotation=35, ha="right")
        ax.set_title(name, fontsize=9)
        ax.legend(fontsize=7)
    axes[0][0].set_ylabel("false match rate (adults, different people)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", action="append", help="model folder or git:REV (default: the bundled model)")
    ap.add_argument("--dlib", action="store_true", help="also dlib's own pipeline (face_recognition's)")
    ap.add_argument("--fairface", type=Path, default=fairface.default_root())
    ap.add_argument("--out", type=Path, default=Path("runs/fairness"))
    args = ap.parse_args(argv)
    try:
        faces = fairface.read_labels(args.fairface, "val")
    except FileNotFoundError as exc:
        print(exc, file=sys.stderr)
        return 2
    results = {}
    for spec in args.model or [str(ROOT / "resources" / "models")]:
        emb, found, info = embed_with_model(model_dir(spec), args.fairface, faces)
        results[info["name"]] = {"source": spec, "faces_found": int(found.sum()), "faces": len(faces),
                                 "distance": info["distance"], **fmr_table(emb, found, faces, info["thresholds"])}
    if args.dlib:
        emb, found, info = embed_with_dlib(args.fairface, faces)
        results[info["name"]] = {"faces_found": int(found.sum()), "faces": len(faces), "distance": info["distance"],
                                 **fmr_table(emb, found, faces, info["thresholds"])}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "fairness.json").write_text(json.dumps(results, indent=2) + "\n")
    plot(results, args.out / "fmr_by_group.png")
    for name, table in results.items():
        print(f"\n{name}: {table['faces_found']} of {table['faces']} faces found")
        ts = list(table["thresholds"])
        print(f"{'group':28s}" + "".join(f"{t[:22]:>24s}" for t in ts))
        for g, r in table["groups"].items():
            print(f"{g:28s}" + "".join(f"{100 * r[t]:23.3f}%" for t in ts))
        print(f"{'race max/min':28s}" + "".join(f"{table['race_ratio_max_min'][t]['ratio']:23.1f}x" for t in ts))
        print("thresholds: " + ", ".join(f"{t} {v:.4f}" for t, v in table["thresholds"].items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

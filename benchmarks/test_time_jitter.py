"""Test-time jitter: does averaging the embeddings of shifted and scaled crops help the embedder?

Every LFW and CFP face of ``training.prepare``'s cached detections is aligned again from its
photo with the crop template scaled (0.95, 1.05, about the chip centre) or shifted (+-3 px on both
axes), embedded by the model as the app embeds (mirror included), and the embeddings of each set
of crops are averaged and normalised. Printed for each set, with the cached base crop alone first:
LFW View 1 (threshold on DevTrain, accuracy on DevTest), the View 1 DevTrain pairs' best accuracy
and ROC AUC (people the bundled model never trained on: a validation figure), the mean of the ten
View 2 folds, k-NN@1 of the View 1 test people, and the held-out CFP frontal-frontal and
frontal-profile accuracies (mean of 10 draws), as ``training.evaluate`` computes them.

    .venv/bin/python benchmarks/test_time_jitter.py [--model resources/models] [--out DIR]

Embeddings are kept in ``--out`` (default: a folder under the cache) and reused. About 8 min for
the four jittered crops of 20k faces on 2 cores. Each extra crop costs one more alignment and two
more passes per face in the app.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

JITTERS = {"s095": (0.95, 0, 0), "s105": (1.05, 0, 0), "t+3": (1.0, 3, 3), "t-3": (1.0, -3, -3)}
SETS = {"base": ["base"], "scale": ["base", "s095", "s105"], "shift": ["base", "t+3", "t-3"],
        "all": ["base", "s095", "s105", "t+3", "t-3"]}


def register_templates(name: str) -> None:
    """Jittered copies of the card's template, as ``<name>~<jitter>``."""
    from photoface import align

    points, frame = align.TEMPLATES[name]
    centre = np.array([frame / 2, frame / 2])
    for jitter, (s, dx, dy) in JITTERS.items():
        align.TEMPLATES[f"{name}~{jitter}"] = ((points - centre) * s + centre + (dx, dy), frame)


def embed_source(embedder, source: str, data: Path, cache: Path, out: Path) -> None:
    from photoface.align import align_face
    from photoface.decode import decode_file
    from training import evaluate
    from training.data import list_source
    from training.prepare import cache_paths

    size, name = embedder.input_size, embedder.card.template
    det = np.load(cache_paths(cache, source, size)["detections"])
    paths = [str(p) for p in det["paths"]]
    (out / f"{source}-paths.json").write_text(json.dumps(paths))
    if not (out / f"{source}-base.npy").exists():  # the app's crop, as training.evaluate embeds it
        base = evaluate.embed_source(embedder, source, data, cache)
        np.save(out / f"{source}-base.npy", np.stack([base[p] for p in paths]))
    todo = [j for j in JITTERS if not (out / f"{source}-{j}.npy").exists()]
    if not todo:
        return
    files = {im.path: im.file(data) for im in list_source(source, data)}
    crops = {j: np.zeros((len(paths), size, size, 3), np.uint8) for j in todo}
    t0 = time.time()
    for i, path in enumerate(paths):
        rgb = decode_file(files[path]).pixels
        for j in todo:
            crops[j][i] = align_face(rgb, det["landmarks"][i], size, f"{name}~{j}")
    print(f"{source}: {len(paths)} faces aligned {len(todo)} more ways in {time.time() - t0:.0f} s", flush=True)
    for j in todo:
        np.save(out / f"{source}-{j}.npy", embed_all(embedder, crops[j]))


def embed_all(embedder, crops) -> np.ndarray:
    return np.concatenate([embedder.embed_crops(np.asarray(crops[i : i + 512])) for i in range(0, len(crops), 512)])


def averaged(out: Path, source: str, names: list[str]) -> dict[str, np.ndarray]:
    paths = json.loads((out / f"{source}-paths.json").read_text())
    e = sum(np.load(out / f"{source}-{n}.npy") for n in names)
    return dict(zip(paths, e / np.linalg.norm(e, axis=1, keepdims=True)))


def main(argv=None) -> int:
    from photoface.embedder import Embedder
    from training.data import default_data_root
    from training.eval import metrics
    from training.eval.lfw import read_pairs, read_people
    from training.eval.report import _same, evaluate_view1, evaluate_view2, knn_report, pair_distances
    from training.evaluate import HOLDOUT_CFP, evaluate_cfp_draws
    from training.prepare import default_cache_dir
    from training.splits import clean_holdout_cfp_people

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=Path("resources/models"))
    ap.add_argument("--data", type=Path, default=default_data_root())
    ap.add_argument("--cache", type=Path, default=default_cache_dir())
    ap.add_argument("--out", type=Path, help="where the embeddings are kept (default: under the cache)")
    args = ap.parse_args(argv)
    protocol = args.data / "lfw" / "protocol"
    if not protocol.exists() or not (args.data / "cfp").exists():
        print(f"skipped: LFW and CFP are needed under {args.data}")
        return 0
    embedder = Embedder(args.model, verify=False)
    out = args.out or args.cache / f"jitter-{embedder.card.version}"
    out.mkdir(parents=True, exist_ok=True)
    register_templates(embedder.card.template)
    for source in ("lfw", "cfp"):
        embed_source(embedder, source, args.data, args.cache, out)

    held = clean_holdout_cfp_people(args.data, HOLDOUT_CFP)
    test_people = set(read_people(protocol / "peopleDevTest.txt"))
    dev_train = read_pairs(protocol / "pairsDevTrain.txt")
    print(f"model {embedder.card.version}; flip averaging {embedder.card.flip_average}")
    print("crops                           View1  DevTrain(acc, AUC)  View2   kNN@1   CFP FF  CFP FP")
    for label, names in SETS.items():
        lfw, cfp = averaged(out, "lfw", names), averaged(out, "cfp", names)
        v1 = evaluate_view1(lfw, protocol)["accuracy"]
        (d, _), same = pair_distances(lfw, dev_train), _same(dev_train)
        train_acc = metrics.accuracy(d, same, metrics.best_threshold(d, same))
        v2 = np.mean([evaluate_view2(lfw, protocol, folds=[f])["accuracy"] for f in range(10)])
        knn = knn_report(lfw, test_people)["accuracy"]["1"]
        c = evaluate_cfp_draws(cfp, held, args.data)
        print(f"{label:6s} {'+'.join(names):24s} {v1:.4f} {train_acc:.4f} {metrics.roc_auc(d, same):.5f}  {v2:.4f}  "
              f"{knn:.4f}  {c['frontal-frontal']['accuracy']:.4f}  {c['frontal-profile']['accuracy']:.4f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Whiten an embedding network on a demographically balanced sample, folded into the network.

    python -m training.whiten --run runs/dlib --out runs/dlib-white [--strength 0.5] [--per-race 700]

A network trained mostly on one population spreads that population's faces over many
directions of its embedding and squeezes others into few: two different people of a squeezed
group then sit closer than two of the wide one, and a fixed threshold matches them far more often
(NIST's demographic differentials). Whitening on a sample balanced across groups (FairFace train,
``training.fairface``: the same number of faces of each of its seven race groups) evens the
spread: with the sample's mean ``mu`` and covariance ``U diag(lambda) U^T``, the embedding becomes

    normalise(W (e - mu)),  W = U diag((lambda + eps)^-strength) U^T

``strength`` 0 leaves the space as it is (up to centring), 0.5 is full whitening; ``eps`` (a share
of the mean eigenvalue) keeps the weakest directions, mostly noise, from being blown up. The map
is a linear layer with a bias and a normalisation appended to the network, so the exported
``.tflite`` holds it and the app needs nothing new.

``--sweep`` prints, per strength, the race groups' false match rates on a second balanced
FairFace train sample at the threshold that gives pooled FMR 1e-3 there, and the LFW View 1
DevTrain pair accuracy (10-fold; true pairs must stay together). FairFace val is never used here.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from . import fairface  # noqa: E402


def fit(emb: np.ndarray, strength: float, eps: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """(W, mu): the whitening map of unit embeddings ``emb``."""
    mu = emb.mean(axis=0)
    lam, u = np.linalg.eigh(np.cov(emb - mu, rowvar=False))
    lam = np.maximum(lam, 0) + eps * lam.mean()
    w = (u * lam ** -strength) @ u.T
    return w.astype(np.float32), mu.astype(np.float32)


def apply(emb: np.ndarray, w: np.ndarray, mu: np.ndarray) -> np.ndarray:
    out = (emb - mu) @ w.T
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def whitened_model(model, w: np.ndarray, mu: np.ndarray):
    """``model`` followed by the map: Dense(x) = x @ W^T - mu @ W^T, then L2 normalisation."""
    import keras

    x = keras.layers.Dense(w.shape[0], name="whiten")(model.output)
    out = keras.layers.UnitNormalization(name="embedding_whitened")(x)
    whitened = keras.Model(model.input, out, name=f"{model.name}_whitened")
    whitened.get_layer("whiten").set_weights([w.T, -(mu @ w.T)])
    return whitened


def embed_crops(model, crops: np.ndarray) -> np.ndarray:
    """One pass each of the crops and of their mirror images (the app averages the two passes'
    outputs; the map applies to each pass)."""
    both = np.concatenate([crops, crops[:, :, ::-1]]).astype(np.float32)
    return np.asarray(model.predict(both, batch_size=64, verbose=0))


def fairface_sample(model, per_race: int, seed: int, root: Path | None = None) -> tuple[np.ndarray, list]:
    root = root or fairface.default_root()
    faces = [f for f in fairface.balanced(fairface.read_labels(root, "train"), per_race, seed) if f.adult]
    crops, found = fairface.crops(root, faces, 150, "dlib-chip")
    faces = [f for f, ok in zip(faces, found) if ok]
    emb = embed_crops(model, crops[found])
    return emb, faces + faces  # rows: the faces, then their mirror images


def race_rates(emb: np.ndarray, faces: list, fmr: float = 1e-3) -> dict:
    """Per race group FMR at the threshold giving pooled FMR ``fmr`` (first pass of each face
    only: a face and its mirror image are one person)."""
    n = len(faces) // 2
    d = fairface.within_groups(emb, fairface.race_groups(faces[:n]))
    t = float(np.quantile(np.concatenate(list(d.values())), fmr))
    rates = {r: float((v < t).mean()) for r, v in d.items()}
    return {"threshold": t, "rates": rates, "worst": max(rates.values()),
            "ratio": max(rates.values()) / max(min(rates.values()), 1e-9)}


def lfw_devtrain_accuracy(model, data_root: Path, map_=None) -> float:
    """10-fold accuracy on View 1 DevTrain pairs (training people), flip-averaged as the app."""
    from .data import list_source
    from .eval import metrics
    from .eval.lfw import read_pairs
    from .prepare import cache_paths, default_cache_dir

    pairs = read_pairs(data_root / "lfw" / "protocol" / "pairsDevTrain.txt")
    images = [im.path for im in list_source("lfw", data_root)]
    crops = np.load(cache_paths(default_cache_dir(), "lfw", 150, "dlib-chip")["crops"], mmap_mode="r")
    index = {p: i for i, p in enumerate(images)}
    needed = sorted({p for pair in pairs for p in (pair.path1, pair.path2)})
    passes = embed_crops(model, np.asarray(crops[[index[p] for p in needed]]))
    if map_ is not None:
        passes = apply(passes, *map_)
    n = len(needed)
    emb = passes[:n] + passes[n:]
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    e = dict(zip(needed, emb))
    dist = np.array([np.sum((e[p.path1] - e[p.path2]) ** 2) for p in pairs])
    same = np.array([p.same for p in pairs])
    return metrics.kfold_accuracy(dist, same, np.arange(len(pairs)) % 10)["mean"]


def main(argv=None) -> int:
    import keras

    from . import backbones  # noqa: F401 (registers the imported network's layers)
    from .data import default_data_root

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path, default=Path("runs/dlib"))
    ap.add_argument("--out", type=Path, default=Path("runs/dlib-white"))
    ap.add_argument("--strength", type=float, default=0.5)
    ap.add_argument("--eps", type=float, default=0.05)
    ap.add_argument("--per-race", type=int, default=700)
    ap.add_argument("--sweep", action="store_true", help="measure strengths 0..0.5 on train samples, write nothing")
    args = ap.parse_args(argv)
    model = keras.models.load_model(args.run / "model.keras", compile=False)
    fit_emb, fit_faces = fairface_sample(model, args.per_race, seed=0)
    if args.sweep:
        check_emb, check_faces = fairface_sample(model, args.per_race // 2, seed=1)
        rows = []
        for strength in (0.0, 0.1, 0.2, 0.3, 0.4, 0.5):
            m = fit(fit_emb, strength, args.eps)
            rows.append({"strength": strength, **race_rates(apply(check_emb, *m), check_faces),
                         "lfw_devtrain": lfw_devtrain_accuracy(model, default_data_root(), m)})
            print(json.dumps(rows[-1]), flush=True)
        print(json.dumps({"unwhitened": {**race_rates(check_emb, check_faces),
                                         "lfw_devtrain": lfw_devtrain_accuracy(model, default_data_root())}}))
        return 0
    w, mu = fit(fit_emb, args.strength, args.eps)
    args.out.mkdir(parents=True, exist_ok=True)
    whitened_model(model, w, mu).save(args.out / "model.keras")
    config = json.loads((args.run / "config.json").read_text())
    config.update(name=f"{config.get('name', 'model')}-whitened", out_dir=str(args.out), whitening={
        "strength": args.strength, "eps": args.eps, "faces": len(fit_faces) // 2,
        "fitted_on": f"FairFace train (CC BY 4.0), {args.per_race} adult faces of each of its 7 race groups "
                     "at most, each with its mirror image",
    })
    (args.out / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    print(f"saved {args.out / 'model.keras'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

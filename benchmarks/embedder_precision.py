"""The embedder exported in float32, float16 and dynamic-range int8: speed and accuracy.

Each variant is converted from the same Keras run as ``training.export.to_tflite`` converts (with
the converter's optimisation for the smaller ones) and measured in one process:

* milliseconds per face on one thread (LiteRT with XNNPACK, batches of 32, after a warm-up),
  one pass and with the mirror image (the app's flip averaging);
* LFW View 1 DevTest accuracy (10-fold cross-validation over the 1,000 pairs, flip-averaged as
  the app embeds) on the cached crops of ``training.prepare``;
* the largest difference of its embeddings from float32's, and the file size.

    .venv/bin/python benchmarks/embedder_precision.py [--run runs/dlib] [--json out.json]

A smaller model ships only if its accuracy is within 0.1 point of float32's.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def embed(lite, crops: np.ndarray) -> np.ndarray:
    x = crops.astype(np.float32)
    (both,) = lite.run_batched(np.concatenate([x, x[:, :, ::-1]]), max_batch=32)
    e = both[: len(x)] + both[len(x):]
    return e / np.linalg.norm(e, axis=1, keepdims=True)


def main(argv=None) -> int:
    import keras

    from photoface.runtime import LiteModel
    from training import backbones  # noqa: F401 (custom layers)
    from training.data import default_data_root, list_source
    from training.eval import metrics
    from training.eval.lfw import read_pairs
    from training.export import to_tflite
    from training.prepare import cache_paths, default_cache_dir

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path, default=Path("runs/dlib"))
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    config = json.loads((args.run / "config.json").read_text())
    model = keras.models.load_model(args.run / "model.keras", compile=False)
    root = default_data_root()
    pairs = read_pairs(root / "lfw" / "protocol" / "pairsDevTest.txt")
    index = {im.path: i for i, im in enumerate(list_source("lfw", root))}
    needed = sorted({p for pair in pairs for p in (pair.path1, pair.path2)})
    crops = np.load(cache_paths(default_cache_dir(), "lfw", config["input_size"], config.get("template", "arcface"))["crops"],
                    mmap_mode="r")
    faces = np.asarray(crops[[index[p] for p in needed]])
    same = np.array([p.same for p in pairs])
    rng = np.random.default_rng(0)
    bench = rng.uniform(0, 255, (32,) + faces.shape[1:]).astype(np.float32)
    out, reference = {}, None
    for variant in ("float32", "float16", "int8"):
        with tempfile.NamedTemporaryFile(suffix=".tflite") as f:
            f.write(to_tflite(model, variant))
            f.flush()
            lite = LiteModel(f.name, num_threads=1)
            lite.run_batched(bench[:4])
            t0 = time.perf_counter()
            for _ in range(3):
                lite.run_batched(bench, max_batch=32)
            ms = 1000 * (time.perf_counter() - t0) / (3 * len(bench))
            emb = embed(lite, faces)
            size = os.path.getsize(f.name)
        reference = emb if reference is None else reference
        e = dict(zip(needed, emb))
        dist = np.array([np.sum((e[p.path1] - e[p.path2]) ** 2) for p in pairs])
        acc = metrics.kfold_accuracy(dist, same, np.arange(len(pairs)) % 10)["mean"]
        out[variant] = {"ms_per_face_one_thread": round(ms, 2), "ms_with_mirror": round(2 * ms, 2),
                        "view1_devtest_10fold": round(acc, 4), "max_abs_diff_from_float32": float(np.abs(emb - reference).max()),
                        "megabytes": round(size / 1e6, 1)}
        print(variant, json.dumps(out[variant]), flush=True)
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Identification and verification of held-out faces, clean and degraded, for several models.

The 1,711 LFW View 1 DevTest people (never trained on), from the cached aligned crops
(``training.prepare --size N``). Each face gets one seeded degradation, the same for every model:
blur, low resolution and JPEG with probability 0.5 each, an occluder with 0.3
(``training.dataset.augment_crop``; nothing else). Printed per model: k-NN@1 with clean gallery
and clean probes (``training.evaluate``'s split: even-numbered photos of each person in the
gallery, odd ones as probes), k-NN@1 with the probes degraded, and for the View 1 DevTest pairs
with both faces degraded the ROC AUC and the accuracy at the best threshold on those pairs.
Then McNemar's exact test of each model against the first, per probe.

    .venv/bin/python benchmarks/degraded_faces.py MODEL_DIR [MODEL_DIR ...]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path[:0] = [str(Path(__file__).resolve().parent.parent)]

DEGRADE = dict(flip=0, jitter=0, photometric=0, colour_cast=0, blur=0.5, low_res=0.5, jpeg=0.5, occlude=0.3)


def main(argv=None) -> int:
    from photoface.embedder import Embedder
    from training.data import default_data_root
    from training.dataset import Augment, augment_crop
    from training.eval import metrics
    from training.eval.lfw import person_of, read_pairs, read_people
    from training.evaluate import cached_crops
    from training.prepare import default_cache_dir

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="+", type=Path, help="folders with embedder.tflite + model_card.json")
    ap.add_argument("--data", type=Path, default=default_data_root())
    ap.add_argument("--cache", type=Path, default=default_cache_dir())
    args = ap.parse_args(argv)
    protocol = args.data / "lfw" / "protocol"
    people = set(read_people(protocol / "peopleDevTest.txt"))
    embedders = [Embedder(m, verify=False) for m in args.models]
    sizes = {e.input_size for e in embedders}
    if len(sizes) != 1:
        raise SystemExit(f"the models take different input sizes {sorted(sizes)}: compare like with like")
    got = cached_crops("lfw", sizes.pop(), args.cache)
    if got is None:
        raise SystemExit("no cached LFW crops at this size: run python -m training.prepare --sources lfw --size N")
    paths, crops = got
    keep = [i for i, p in enumerate(paths) if person_of(p) in people]
    paths, clean = [paths[i] for i in keep], np.asarray(crops[keep])
    degrade = Augment(**DEGRADE)
    degraded = np.stack([augment_crop(c, degrade, np.random.default_rng((11, k))) for k, c in enumerate(clean)])

    by_person: dict[str, list[int]] = {}
    for k, p in enumerate(paths):
        by_person.setdefault(person_of(p), []).append(k)
    usable = [sorted(ks, key=lambda k: paths[k]) for ks in by_person.values() if len(ks) >= 2]
    gallery = np.array([k for ks in usable for k in ks[0::2]])
    probes = np.array([k for ks in usable for k in ks[1::2]])
    labels = np.array([person_of(p) for p in paths])
    position = {p: k for k, p in enumerate(paths)}
    pairs = read_pairs(protocol / "pairsDevTest.txt")
    a = np.array([position[p.path1] for p in pairs])
    b = np.array([position[p.path2] for p in pairs])
    same = np.array([p.same for p in pairs])
    print(f"{len(paths)} faces of {len(people)} people; {len(probes)} probes, {len(gallery)} in the gallery; "
          f"{len(pairs)} pairs")

    def embed(embedder, x):
        return np.concatenate([embedder.embed_crops(x[i : i + 512]) for i in range(0, len(x), 512)])

    def nearest_right(probe_emb, gallery_emb):
        d = ((probe_emb[:, None] - gallery_emb[None]) ** 2).sum(-1)
        return labels[gallery][d.argmin(axis=1)] == labels[probes]

    right = []
    for model, embedder in zip(args.models, embedders):
        e_clean, e_deg = embed(embedder, clean), embed(embedder, degraded)
        right.append((nearest_right(e_clean[probes], e_clean[gallery]), nearest_right(e_deg[probes], e_clean[gallery])))
        dist = ((e_deg[a] - e_deg[b]) ** 2).sum(axis=1)
        acc = metrics.accuracy(dist, same, metrics.best_threshold(dist, same))
        print(f"{model}: k-NN@1 clean {right[-1][0].mean():.4f}, degraded probes {right[-1][1].mean():.4f}; "
              f"degraded pairs AUC {metrics.roc_auc(dist, same):.4f}, accuracy at their best threshold {acc:.4f}")
    for model, (r_clean, r_deg) in zip(args.models[1:], right[1:]):
        for kind, first, other in (("clean", right[0][0], r_clean), ("degraded", right[0][1], r_deg)):
            test = metrics.mcnemar_exact(first, other)
            print(f"{args.models[0]} vs {model}, k-NN@1 {kind}: right only for the first {test['only_first_right']}, "
                  f"only for the second {test['only_second_right']}, p = {test['p_value']:.3g}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

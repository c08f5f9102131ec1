"""Time and peak memory to group 10k and 100k faces (target: 100k in <= 60 s and <= 2 GB).

Synthetic embeddings with a realistic identity structure (``synthetic.py``: heavy-tailed people
sizes, lookalike relatives, good and bad photos). Each size runs in a fresh process so that its
peak RSS is its own. Also prints the grouping quality against the true identities and, for a
small size, the agreement with SciPy's exact average linkage (full distance matrix).

    .venv/bin/python benchmarks/cluster.py                 # 10k and 100k
    .venv/bin/python benchmarks/cluster.py --sizes 3000    # quick
    .venv/bin/python benchmarks/cluster.py --as-app        # blended first, as the model card says
    .venv/bin/python benchmarks/cluster.py --as-app --faces-per-photo 3   # group photos: faces kept apart

``--as-app`` times the app's grouping (``group_faces``): the card's blending (its neighbours and
rounds, within its blending radius), then clustering at the card's grouping threshold.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]


def one(n: int, threshold: float, k: int, blend: tuple | None = None, per_photo: float = 0) -> dict:
    import numpy as np

    from metrics import bcubed_prf
    from photoface.cluster import cluster_faces, group_faces
    from synthetic import synthetic_faces

    x, truth = synthetic_faces(n, max(1, n // 8), seed=n)
    apart = group_photos(truth, per_photo, seed=n) if per_photo else None
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    labels = group_faces(x, threshold, blend=blend, apart=apart) if blend else cluster_faces(x, threshold, k=k, apart=apart)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    p, r, f = bcubed_prf(truth.tolist(), labels.tolist())
    return {
        "faces": n, "people": int(len(np.unique(truth))), "groups": int(labels.max() + 1),
        "seconds": round(seconds, 2), "peak_rss_mb": round(peak / 1024, 1),
        "rss_before_mb": round(base / 1024, 1), "bcubed": [round(p, 4), round(r, 4), round(f, 4)],
    }


def group_photos(truth, per_photo: float, seed: int = 0):
    """Photo ids putting faces into photos of ``per_photo`` faces on average, never two of one
    person: the j-th faces of all people are shared out among their own photos."""
    import numpy as np

    rng = np.random.default_rng(seed)
    order = np.argsort(truth, kind="stable")
    rank = np.empty(len(truth), np.int64)
    starts = np.searchsorted(truth[order], truth[order])
    rank[order] = np.arange(len(truth)) - starts  # j: this face is its person's j-th
    photo = np.empty(len(truth), np.int64)
    next_id = 0
    for j in np.unique(rank):
        faces = np.flatnonzero(rank == j)
        photos = max(1, int(np.ceil(len(faces) / per_photo)))
        photo[faces] = next_id + rng.integers(0, photos, len(faces))
        next_id += photos
    return photo


def agreement(n: int, threshold: float, k: int) -> dict:
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import pdist

    from photoface.cluster import cluster_faces
    from metrics import adjusted_rand
    from synthetic import synthetic_faces

    x, _ = synthetic_faces(n, n // 8, seed=1)
    exact = fcluster(linkage(pdist(x.astype("float64"), "sqeuclidean"), "average"), threshold, "distance")
    ours = cluster_faces(x, threshold, k=k)
    return {"faces": n, "adjusted_rand_vs_scipy": round(adjusted_rand(ours, exact), 4),
            "groups": int(ours.max() + 1), "scipy_groups": int(exact.max())}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--threshold", type=float, default=None, help="default: the model card's")
    parser.add_argument("-k", type=int, default=20)
    parser.add_argument("--as-app", action="store_true", help="the card's blending and grouping threshold")
    parser.add_argument("--model", type=Path, default=None, help="model folder (default: the bundled model)")
    parser.add_argument("--faces-per-photo", type=float, default=0,
                        help="faces share photos (this many a photo on average) and are kept apart; 0: one photo each")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # child process: one size
    parser.add_argument("--blend", type=float, nargs=3, help=argparse.SUPPRESS)  # child: neighbours radius rounds
    args = parser.parse_args()
    blend = None
    if args.threshold is None or args.as_app:
        from photoface.config import models_dir
        from photoface.embedder import CARD_NAME, ModelCard

        card = ModelCard.load((args.model or models_dir()) / CARD_NAME)
        args.threshold = card.group_threshold if args.as_app else card.threshold
        if args.as_app:
            blend = card.blending()
    if args.one:
        b = (int(args.blend[0]), args.blend[1], int(args.blend[2])) if args.blend else None
        print(json.dumps(one(args.one, args.threshold, args.k, b, args.faces_per_photo)))
        return 0
    print(f"threshold {args.threshold:.4f} (squared L2), k = {args.k}" + (f", blended first {blend}" if blend else "")
          + (f", {args.faces_per_photo:g} faces a photo kept apart" if args.faces_per_photo else ""))
    if not blend:
        print(json.dumps(agreement(3000, args.threshold, args.k)))
    for n in args.sizes:
        extra = ["--blend", *map(str, blend)] if blend else []
        out = subprocess.run([sys.executable, __file__, "--one", str(n), "--threshold", str(args.threshold),
                              "-k", str(args.k), "--faces-per-photo", str(args.faces_per_photo), *extra],
                             capture_output=True, text=True, check=True)
        r = json.loads(out.stdout)
        print(f"{r['faces']:>7} faces ({r['people']} people): {r['seconds']:6.1f} s, peak RSS {r['peak_rss_mb']:.0f} MB"
              f" (process before clustering {r['rss_before_mb']:.0f} MB), {r['groups']} groups, "
              f"BCubed P/R/F {r['bcubed']}  [targets for 100k: <= 60 s, <= 2048 MB]")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

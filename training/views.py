"""Degraded views of every training face, each embedded by the teacher ("consistent teaching").

    python -m training.views [--views 2] [--size 96] [--workers 2] [--sources lfw cfp celeba]

On-the-fly augmentation blurs, shrinks, JPEG-compresses and occludes the student's crop while
its distillation target stays the teacher's embedding of the clean photo: the student is taught
that a heavily degraded face should land exactly where the teacher puts the clean one, which the
teacher itself would not do. Beyer et al. (2022, "Knowledge distillation: a good teacher is
patient and consistent") found that distillation works best when teacher and student see the
same view. Here each view degrades the *photo* once (``degrade_photo``, sized relative to the
face so it matches what ``dataset.augment_crop`` does to a crop), and from that photo both the
student's aligned crop and the teacher's own chip are cut, so the target is the teacher's
embedding of the same degraded face.

dlib embeds about 11 faces a second per core, so this runs once, resumable: view after view,
source after source, in shards of ``SHARD`` faces written as they finish
(``<cache>/<source>-views<size>/view<k>-part<j>.npz``: face indices, crops, teacher embeddings).
Only the faces training may use are embedded (``splits.excluded_people`` under the default
exclusions). Geometric jitter and mirroring stay on the fly: the teacher aligns each chip itself,
so they do not change its target.
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import cv2
import numpy as np

from photoface.align import align_face, similarity_transform, template

from .dataset import Augment, jpeg_artefacts, tone

from .data import SOURCES, default_data_root, list_source
from .prepare import cache_paths, default_cache_dir

SHARD = 2048
# Stronger than the on-the-fly recipe: a view is worth its teacher time only if it is degraded
# (about 85% of views get at least one of blur, low resolution, JPEG or occlusion).
VIEW_AUGMENT = Augment(
    flip=0.0, jitter=0.0, photometric=0.8, colour_cast=0.4, blur=0.35, low_res=0.35, jpeg=0.5, occlude=0.3
)


def degrade_photo(rgb: np.ndarray, landmarks: np.ndarray, size: int, aug: Augment, rng: np.random.Generator) -> np.ndarray:
    """The whole photo degraded as ``augment_crop`` degrades a ``size`` crop of this face.

    Blur, resolution and occlusion are drawn in crop units and mapped to the photo through the
    alignment's scale, so a view of a large face is as degraded, relative to the face, as one of a
    small face. A face already coarser than the drawn resolution is left at its own.
    """
    m = similarity_transform(np.asarray(landmarks, np.float64).reshape(5, 2), template(size))
    scale = float(np.sqrt(abs(np.linalg.det(m[:, :2]))))  # crop pixels per photo pixel
    out = np.ascontiguousarray(rgb)
    h, w = out.shape[:2]
    if rng.random() < aug.blur:
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.6, 1.6) / scale)
    if rng.random() < aug.low_res:
        factor = rng.uniform(0.3, 0.6) * scale  # low-resolution pixels per photo pixel
        if factor < 1.0:
            small = cv2.resize(out, (max(1, round(w * factor)), max(1, round(h * factor))), interpolation=cv2.INTER_AREA)
            out = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    if rng.random() < aug.jpeg:
        out = jpeg_artefacts(out, rng)
    x = tone(out.astype(np.float32), aug, rng)
    if rng.random() < aug.occlude:
        bh, bw = size * rng.uniform(0.15, 0.35), size * rng.uniform(0.2, 0.5)
        y0, x0 = rng.uniform(0, size - bh), rng.uniform(0, size - bw)
        corners = np.array([[x0, y0], [x0 + bw, y0], [x0 + bw, y0 + bh], [x0, y0 + bh]])
        inv = cv2.invertAffineTransform(m)
        poly = corners @ inv[:, :2].T + inv[:, 2]
        cv2.fillConvexPoly(x, np.round(poly).astype(np.int32), [float(v) for v in rng.uniform(0, 255, 3)])
    return np.clip(x, 0, 255).astype(np.uint8)


# -- worker side ----------------------------------------------------------------------------
_worker = {}


def _init_worker() -> None:
    from .teacher import DlibTeacher

    _worker["teacher"] = DlibTeacher()


def _view_one(args):
    """(crop, dlib chip) of one degraded view; seeded by (seed, source, face, view)."""
    from photoface.decode import decode_file

    path, landmarks, box, size, seed = args
    rng = np.random.default_rng(seed)
    photo = degrade_photo(decode_file(path).pixels, landmarks, size, VIEW_AUGMENT, rng)
    return align_face(photo, landmarks, size), _worker["teacher"].chip(photo, box)


def _embed_chips(chips):
    return _worker["teacher"].embed_chips(chips)


# -- parent side ----------------------------------------------------------------------------
def views_dir(cache_dir: Path, source: str, size: int) -> Path:
    return Path(cache_dir) / f"{source}-views{size}"


def shard_path(cache_dir: Path, source: str, size: int, view: int, part: int) -> Path:
    return views_dir(cache_dir, source, size) / f"view{view}-part{part:03d}.npz"


def source_seed(source: str) -> int:
    return sum(ord(c) * 31**i for i, c in enumerate(source)) % 2**31


def make_views(source, data_root, cache_dir, size, views, wanted, workers=2, seed=0) -> dict:
    """Embed views 1..``views`` of the faces at indices ``wanted``; shards already on disk are
    kept (a stopped run resumes where it stopped, given the same ``wanted``: shards are numbered
    over it, and each records the face indices it holds)."""
    images = list_source(source, data_root)
    with np.load(cache_paths(cache_dir, source, size)["detections"]) as z:
        paths, landmarks, boxes = z["paths"], z["landmarks"], z["boxes"]
    if list(paths) != [im.path for im in images]:
        raise SystemExit(f"{cache_paths(cache_dir, source, size)['detections']} does not match the data")
    wanted = np.asarray(sorted(wanted), np.int64)
    views_dir(cache_dir, source, size).mkdir(parents=True, exist_ok=True)
    starts = range(0, len(wanted), SHARD)
    todo = [(view, part, start) for view in range(1, views + 1) for part, start in enumerate(starts)
            if not shard_path(cache_dir, source, size, view, part).exists()]
    t0 = time.time()
    if todo:  # no worker pool (each worker loads dlib's models) when every shard is there
        with ProcessPoolExecutor(workers, initializer=_init_worker) as pool:
            for view, part, start in todo:
                idx = wanted[start : start + SHARD]
                t_shard = time.time()
                jobs = [
                    (str(images[i].file(data_root)), landmarks[i], boxes[i], size,
                     (seed, source_seed(source), int(i), view))
                    for i in idx
                ]
                pairs = list(pool.map(_view_one, jobs, chunksize=32))
                chips = [c for _, c in pairs]
                # Batches of chips per worker: dlib runs one core each.
                chunks = [chips[k : k + 64] for k in range(0, len(chips), 64)]
                teacher = np.concatenate(list(pool.map(_embed_chips, chunks)))
                path = shard_path(cache_dir, source, size, view, part)
                tmp = path.with_suffix(".tmp.npz")
                np.savez(tmp, index=idx, crops=np.stack([c for c, _ in pairs]), teacher=teacher.astype(np.float32))
                tmp.replace(path)  # a shard exists only once complete
                rate = len(idx) / max(time.time() - t_shard, 1e-9)
                print(f"  {source} view {view} part {part}: {len(idx)} faces ({rate:.1f}/s)", file=sys.stderr, flush=True)
    made = len(todo)
    done = views * len(starts) - made
    return {"source": source, "faces": len(wanted), "views": views, "shards_made": made,
            "shards_kept": done, "seconds": round(time.time() - t0, 1)}


def load_views(cache_dir: Path, source: str, size: int, views: int, n: int):
    """(crops (n, views, size, size, 3), teacher (n, views, 128), has (n, views)) for one source;
    faces without a view have zeros and ``has`` False."""
    crops = np.zeros((n, views, size, size, 3), np.uint8)
    teacher = np.zeros((n, views, 128), np.float32)
    has = np.zeros((n, views), bool)
    for view in range(1, views + 1):
        for path in sorted(views_dir(cache_dir, source, size).glob(f"view{view}-part*.npz")):
            if path.name.endswith(".tmp.npz"):
                continue  # a shard a stopped run was writing
            with np.load(path) as z:

                idx = z["index"]
                crops[idx, view - 1] = z["crops"]
                teacher[idx, view - 1] = z["teacher"]
                has[idx, view - 1] = np.isfinite(z["teacher"]).all(axis=1)
    return crops, teacher, has


def main(argv=None) -> int:
    import json

    from .config import TrainConfig
    from .splits import excluded_people

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sources", nargs="+", default=list(SOURCES), choices=SOURCES)
    ap.add_argument("--data", type=Path, default=default_data_root())
    ap.add_argument("--cache", type=Path, default=default_cache_dir())
    ap.add_argument("--size", type=int, default=96)
    ap.add_argument("--views", type=int, default=2)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--exclude", default="view1", help='people never trained on: "view1", "view2-fold-N", "none"')
    args = ap.parse_args(argv)
    excluded = excluded_people(TrainConfig(exclude=args.exclude), args.data)
    wanted = {
        source: [i for i, im in enumerate(list_source(source, args.data)) if im.identity not in excluded]
        for source in args.sources
    }
    # View-major: view 1 of every source before view 2, so a stopped run leaves whole views.
    for view_count in range(1, args.views + 1):
        for source in args.sources:
            print(json.dumps(make_views(source, args.data, args.cache, args.size, view_count, wanted[source], args.workers)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

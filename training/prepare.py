"""Detect, align and (optionally) teacher-embed every training face once; cache it on disk.

    python -m training.prepare [--sources lfw cfp celeba] [--size 112] [--teacher] [--workers 2]

Faces are found and aligned by the app's own detector and aligner (``photoface.detection``,
``photoface.align.align_face``), so training sees the crops the app will make. Per image the face
nearest the image centre is taken (LFW labels that one; CFP and CelebA photos hold one face).
CelebA's 89x109 faces are upsampled 2x for detection only; crops are always made from the
original pixels.

Fallback when no face is found: the median landmarks (relative to the image size) of the faces
found in the same source and pose are used, which for these centred photos is close; such images
are flagged ``found = False`` and counted in the cache's summary.

The cache lives outside the repository (``$PHOTOFACE_CACHE`` or ``~/.cache/photoface``):
``<source>-detections.npz`` (landmarks, boxes, found), ``<source>-crops<size>.npy``, and with
``--teacher`` ``<source>-teacher.npy`` (dlib's embedding of each face, L2-normalised; see
``training/teacher.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .data import SOURCES, FaceImage, default_data_root, list_source

CELEBA_UPSAMPLE = 2


def default_cache_dir() -> Path:
    return Path(os.environ.get("PHOTOFACE_CACHE", Path.home() / ".cache" / "photoface"))


@dataclass
class Detections:
    paths: np.ndarray  # (n,) relative paths
    sizes: np.ndarray  # (n, 2) width, height of each photo
    landmarks: np.ndarray  # (n, 5, 2) original pixels
    boxes: np.ndarray  # (n, 4) x, y, w, h original pixels
    found: np.ndarray  # (n,) bool: detected (True) or median fallback (False)


# -- worker side ----------------------------------------------------------------------------
_worker = {}


def _init_worker(teacher: bool) -> None:
    from photoface.detection import DetectorSettings, FaceDetector

    _worker["detector"] = FaceDetector(DetectorSettings(min_face_size=20, num_threads=1))
    if teacher:
        from .teacher import DlibTeacher

        _worker["teacher"] = DlibTeacher()


def _detect_one(args):
    """(index, (width, height), landmarks or None, box or None) for one image."""
    import cv2

    from photoface.decode import decode_file
    from photoface.detection import central_face

    index, path, source = args
    rgb = decode_file(path).pixels
    h, w = rgb.shape[:2]
    up = CELEBA_UPSAMPLE if source == "celeba" else 1
    work = cv2.resize(rgb, (w * up, h * up), interpolation=cv2.INTER_CUBIC) if up > 1 else rgb
    face = central_face(_worker["detector"].detect(work), w * up, h * up)
    if face is None:
        return index, (w, h), None, None
    return index, (w, h), face.landmarks / up, np.asarray(face.box) / up


def _crop_one(args):
    from photoface.align import align_face
    from photoface.decode import decode_file

    index, path, landmarks, box, size, template, want_teacher = args
    rgb = decode_file(path).pixels
    crop = align_face(rgb, landmarks, size, template)
    emb = _worker["teacher"].embed(rgb, box) if want_teacher and "teacher" in _worker else None
    return index, crop, emb


# -- parent side ----------------------------------------------------------------------------
def detect_source(images: list[FaceImage], data_root: Path, workers: int) -> Detections:
    n = len(images)
    landmarks = np.zeros((n, 5, 2), np.float32)
    boxes = np.zeros((n, 4), np.float32)
    found = np.zeros(n, bool)
    sizes = np.zeros((n, 2), np.float32)
    jobs = [(i, str(im.file(data_root)), im.source) for i, im in enumerate(images)]
    with ProcessPoolExecutor(workers, initializer=_init_worker, initargs=(False,)) as pool:
        for done, (i, size, marks, box) in enumerate(pool.map(_detect_one, jobs, chunksize=64), 1):
            sizes[i] = size
            if marks is not None:
                landmarks[i], boxes[i], found[i] = marks, box, True
            _progress("detect", done, n)
    _fill_fallbacks(images, sizes, landmarks, boxes, found)
    return Detections(np.array([im.path for im in images]), sizes, landmarks, boxes, found)


def _fill_fallbacks(images, sizes, landmarks, boxes, found) -> None:
    """Median relative landmarks (and box) of the found faces of the same pose."""
    for pose in {im.pose for im in images}:
        idx = [i for i, im in enumerate(images) if im.pose == pose]
        ok = [i for i in idx if found[i]]
        if not ok:
            continue
        rel_marks = np.median([landmarks[i] / sizes[i] for i in ok], axis=0)
        rel_box = np.median([boxes[i] / np.tile(sizes[i], 2) for i in ok], axis=0)
        for i in idx:
            if not found[i]:
                landmarks[i] = rel_marks * sizes[i]
                boxes[i] = rel_box * np.tile(sizes[i], 2)


def crop_source(images, data_root, det: Detections, size: int, workers: int, teacher: bool, skip=frozenset(),
                template: str = "arcface"):
    """Aligned crops (and teacher embeddings; NaN rows for identities in ``skip``)."""
    n = len(images)
    crops = np.zeros((n, size, size, 3), np.uint8)
    embs = np.full((n, 128), np.nan, np.float32) if teacher else None
    jobs = [
        (i, str(im.file(data_root)), det.landmarks[i], det.boxes[i], size, template, teacher and im.identity not in skip)
        for i, im in enumerate(images)
    ]
    with ProcessPoolExecutor(workers, initializer=_init_worker, initargs=(teacher,)) as pool:
        for done, (i, crop, emb) in enumerate(pool.map(_crop_one, jobs, chunksize=32), 1):
            crops[i] = crop
            if emb is not None:
                embs[i] = emb
            _progress("align" + (" + teacher" if teacher else ""), done, n)
    return crops, embs


_last_print = [0.0]


def _progress(stage: str, done: int, total: int) -> None:
    now = time.monotonic()
    if done == total or now - _last_print[0] > 10:
        _last_print[0] = now
        print(f"  {stage}: {done}/{total}", file=sys.stderr, flush=True)


def cache_paths(cache_dir: Path, source: str, size: int, template: str = "arcface") -> dict[str, Path]:
    crops = f"{source}-crops{size}" + ("" if template == "arcface" else f"-{template}")
    return {
        "detections": cache_dir / f"{source}-detections.npz",
        "crops": cache_dir / f"{crops}.npy",
        "teacher": cache_dir / f"{source}-teacher.npy",
        "summary": cache_dir / f"{source}-summary.json",
    }


def prepare(source, data_root, cache_dir, size=112, workers=2, teacher=False, skip=frozenset(),
            template="arcface") -> dict:
    images = list_source(source, data_root)
    paths = cache_paths(cache_dir, source, size, template)
    cache_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    if paths["detections"].exists():
        z = np.load(paths["detections"])
        det = Detections(z["paths"], z["sizes"], z["landmarks"], z["boxes"], z["found"])
        if list(det.paths) != [im.path for im in images]:
            raise SystemExit(f"{paths['detections']} does not match the data; delete it")
    else:
        det = detect_source(images, data_root, workers)
        np.savez(
            paths["detections"], paths=det.paths, sizes=det.sizes, landmarks=det.landmarks,
            boxes=det.boxes, found=det.found,
        )
    need_crops = not paths["crops"].exists()
    need_teacher = teacher and not paths["teacher"].exists()
    if need_crops or need_teacher:
        crops, embs = crop_source(images, data_root, det, size, workers, need_teacher, skip, template)
        np.save(paths["crops"], crops)
        if need_teacher:
            np.save(paths["teacher"], embs)
    summary = {
        "source": source,
        "images": len(images),
        "identities": len({im.identity for im in images}),
        "detected": int(det.found.sum()),
        "fallback": int((~det.found).sum()),
        "size": size,
        "seconds": round(time.time() - t0, 1),
    }
    paths["summary"].write_text(json.dumps(summary, indent=2))
    return summary


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sources", nargs="+", default=list(SOURCES), choices=SOURCES)
    ap.add_argument("--data", type=Path, default=default_data_root())
    ap.add_argument("--cache", type=Path, default=default_cache_dir())
    ap.add_argument("--size", type=int, default=112)
    ap.add_argument("--template", default="arcface", help="crop geometry (photoface.align.TEMPLATES)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--teacher", action="store_true", help="also cache dlib teacher embeddings")
    ap.add_argument(
        "--teacher-skip-lfw", type=Path, metavar="PEOPLE_FILE",
        help="no teacher embeddings for these LFW people (e.g. peopleDevTest.txt: never trained on)",
    )
    args = ap.parse_args(argv)
    skip = frozenset()
    if args.teacher_skip_lfw:
        from .eval.lfw import read_people

        skip = frozenset(f"lfw:{n}" for n in read_people(args.teacher_skip_lfw))
    for source in args.sources:
        print(json.dumps(prepare(source, args.data, args.cache, args.size, args.workers, args.teacher, skip,
                                            args.template)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

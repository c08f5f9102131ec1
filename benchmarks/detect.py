"""Detection speed: PhotoFace's LiteRT cascade beside the ``mtcnn`` package, on the same images.

    python benchmarks/detect.py [--data ../shared/data] [--lfw 200] [--repeat 3] [--no-mtcnn]

Prints the median milliseconds per photo, from the file on disk to faces (decode included), for

* 12-megapixel JPEGs, made by upscaling the real photos of ``detection/`` to 4000x3000-ish
  (aspect kept) and saving them at JPEG quality 92 in a temporary folder;
* 250x250 LFW photos (a fixed sample).

The ``mtcnn`` package runs at its defaults on the same decoded pixels (its own decode is not
timed, which favours it). On 12 MP photos it is also timed on the photo downscaled to our working
size, for a like-for-like ratio. Target: <= 150 ms median per 12 MP photo, >= 3x faster
than the package.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from photoface.decode import decode_file  # noqa: E402
from photoface.detection import DetectorSettings, FaceDetector  # noqa: E402

DEFAULT_DATA = Path(os.environ.get("PHOTOFACE_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def make_12mp(src_dir: Path, out_dir: Path) -> list[Path]:
    paths = []
    for src in sorted(src_dir.glob("*.jpg")):
        img = cv2.imread(str(src))
        h, w = img.shape[:2]
        s = (12e6 / (w * h)) ** 0.5
        big = cv2.resize(img, (round(w * s), round(h * s)), interpolation=cv2.INTER_CUBIC)
        dst = out_dir / f"{src.stem}_12mp.jpg"
        cv2.imwrite(str(dst), big, [cv2.IMWRITE_JPEG_QUALITY, 92])
        paths.append(dst)
    return paths


def time_per_photo(fn, paths, repeat: int) -> tuple[float, list[float]]:
    """Median over photos of each photo's best-of-``repeat`` time, after one warm-up pass."""
    for p in paths:
        fn(p)
    per_photo = []
    for p in paths:
        runs = []
        for _ in range(repeat):
            t = time.perf_counter()
            fn(p)
            runs.append((time.perf_counter() - t) * 1000)
        per_photo.append(min(runs))
    return statistics.median(per_photo), per_photo


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--lfw", type=int, default=200, help="number of LFW photos")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-mtcnn", action="store_true", help="skip the mtcnn package")
    args = ap.parse_args(argv)
    if not (args.data / "detection").is_dir():
        print(f"data not found at {args.data} (set PHOTOFACE_DATA)", file=sys.stderr)
        return 2

    settings = DetectorSettings()
    detector = FaceDetector(settings)
    ours = lambda p: detector.detect_file(p)  # noqa: E731

    mtcnn_model = None
    if not args.no_mtcnn:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        from mtcnn import MTCNN

        mtcnn_model = MTCNN()

    print(f"photoface detector settings: {settings}")
    print(f"machine: {os.cpu_count()} cores; LiteRT threads: {settings.num_threads}\n")

    with tempfile.TemporaryDirectory() as tmp:
        big = make_12mp(args.data / "detection", Path(tmp))
        lfw_all = sorted((args.data / "lfw" / "images").glob("*/*.jpg"))
        lfw = random.Random(0).sample(lfw_all, min(args.lfw, len(lfw_all)))

        for label, paths in (("12 MP JPEG", big), ("LFW 250x250", lfw)):
            med, _ = time_per_photo(ours, paths, args.repeat)
            print(f"{label}: photoface median {med:.1f} ms/photo over {len(paths)} photos "
                  f"(decode + detect)")
            if mtcnn_model is None:
                continue
            # The package gets pre-decoded full-size RGB pixels (its decode is not timed).
            full = {p: decode_file(p).pixels for p in paths}
            repeat = 1 if label.startswith("12") else args.repeat
            med_pkg, _ = time_per_photo(lambda p: mtcnn_model.detect_faces(full[p]), paths, repeat)
            print(f"{label}: mtcnn package median {med_pkg:.1f} ms/photo at its defaults "
                  f"-> photoface is {med_pkg / med:.1f}x faster")
            if label.startswith("12"):
                # Our working image, as our detector decodes it (4:3 12 MP: 2000 px, the JPEG's
                # half-size decode, within the decode slack; other shapes 1600 px).
                work = {p: detector.decode(p).pixels for p in paths}
                sides = sorted({max(w.shape[:2]) for w in work.values()})
                med_w, _ = time_per_photo(lambda p: mtcnn_model.detect_faces(work[p]), paths, repeat)
                print(f"{label}: mtcnn package median {med_w:.1f} ms/photo on the same working "
                      f"images ({', '.join(map(str, sides))} px) -> photoface is {med_w / med:.1f}x faster")
            print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

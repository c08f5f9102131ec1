"""Detection rate on LFW: in how many of the 13,233 photos a face is found (target 99%).

    python benchmarks/lfw_detect.py [--data ../shared/data] [--limit N] [--misses FILE]

For each photo the face nearest the image centre is the one LFW labels; a photo counts as found
when any face is detected (with its five landmarks, which the cascade always returns).
Also prints the median distance of that face's centre from the image centre, and ms per photo.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from photoface.detection import FaceDetector, central_face  # noqa: E402

DEFAULT_DATA = Path(os.environ.get("PHOTOFACE_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--limit", type=int, default=0, help="only the first N photos (sorted)")
    ap.add_argument("--misses", type=Path, help="write the paths of photos without a face here")
    args = ap.parse_args(argv)
    paths = sorted((args.data / "lfw" / "images").glob("*/*.jpg"))
    if not paths:
        print(f"LFW not found under {args.data}", file=sys.stderr)
        return 2
    if args.limit:
        paths = paths[: args.limit]
    detector = FaceDetector()
    misses, offsets = [], []
    t0 = time.perf_counter()
    for i, p in enumerate(paths, 1):
        det = detector.detect_file(p)
        face = central_face(det.faces, det.width, det.height)
        if face is None:
            misses.append(p)
        else:
            x, y, w, h = face.box
            offsets.append(((x + w / 2 - det.width / 2) ** 2 + (y + h / 2 - det.height / 2) ** 2) ** 0.5)
        if i % 1000 == 0:
            print(f"  {i}/{len(paths)} photos, {len(misses)} without a face", file=sys.stderr)
    elapsed = time.perf_counter() - t0
    found = len(paths) - len(misses)
    print(f"LFW: a face found in {found}/{len(paths)} photos = {100 * found / len(paths):.2f}%")
    print(f"median offset of the central face from the image centre: {statistics.median(offsets):.1f} px")
    print(f"{1000 * elapsed / len(paths):.1f} ms per photo (decode + detect, 1 process)")
    if args.misses:
        args.misses.write_text("".join(f"{p}\n" for p in misses))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

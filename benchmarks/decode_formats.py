"""Milliseconds to decode one 12 MP photo to the detector's working size, per format.

scikit-image's astronaut scaled to 4032x3024 (a phone's photo) and saved as JPEG (quality 90),
AVIF (80) and HEIC (85; needs pillow-heif), each decoded as the detector decodes it (its working
size and decode slack: JPEG to the 2016x1512 libjpeg's half-size decode gives, the others to
1600 px): one warm-up, then the mean of ``--runs``. Only JPEG can be decoded at reduced size.

    .venv/bin/python benchmarks/decode_formats.py [--runs 5]
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent.parent)]


def encoded(image, fmt: str, quality: int) -> bytes | None:
    buf = io.BytesIO()
    if fmt == "HEIC":
        try:
            import pillow_heif
        except ImportError:
            return None
        pillow_heif.from_pillow(image).save(buf, quality=quality)
    else:
        image.save(buf, format=fmt, quality=quality)
    return buf.getvalue()


def main(argv=None) -> int:
    from PIL import Image
    from skimage.data import astronaut

    from photoface.detection import DetectorSettings, FaceDetector

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args(argv)
    photo = Image.fromarray(astronaut()).resize((4032, 3024))
    detector = FaceDetector(DetectorSettings(num_threads=1))
    for fmt, quality in (("JPEG", 90), ("AVIF", 80), ("HEIC", 85)):
        data = encoded(photo, fmt, quality)
        if data is None:
            print(f"{fmt}: skipped (pillow-heif is not installed)")
            continue
        detector.decode_bytes(data, f"photo.{fmt.lower()}")
        t = time.perf_counter()
        for _ in range(args.runs):
            img = detector.decode_bytes(data, f"photo.{fmt.lower()}")
        ms = (time.perf_counter() - t) / args.runs * 1000
        print(f"{fmt}: {len(data) // 1024} KB, {ms:.0f} ms to {img.size[0]}x{img.size[1]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Do two detector set-ups find the same faces? A reference and a candidate on the same photos.

    python benchmarks/detect_compare.py [--models DIR] [--slack X] [--base-models DIR] [--base-slack X]
                                        [--lfw 1000] [--cfp 1000] [--data ../shared/data]

A set-up is the detector's networks (``--models``: a folder with pnet/rnet/onet.tflite; default
the bundled ones) and its ``decode_slack`` (``--slack``). Each photo is decoded and detected by
both, as a scan does. Sets:

* **labelled**: the 9 group photos of ``detection/`` with their 43 hand-labelled faces, as they
  are and upscaled to JPEGs 4000 and 4032 px on their longer side (quality 92, grain sigma 3:
  12 MP for the 4:3 ones, the size phones take), plus ``dogs.jpg`` (no face). Recall (IoU >=
  0.3 with a labelled box), detections matching no labelled box (false, or faces too small to
  be labelled), and the five landmarks' mean distance from the hand-placed ones (dlib's
  68-point labels: eye centres, nose tip, mouth corners) over the labelled eye distance.
* **LFW** (a seeded sample) and **CFP** frontal and profile photos (seeded samples): the photos
  whose central face (the labelled person) is found by one set-up and not the other, and those
  where the two take different faces for it.

For every set: faces found by each, matched between the two (IoU >= 0.5), lost (found by the
reference only) and gained, and how far the matched faces' five landmarks moved, as a share of
the face's box width (median, 95th percentile, largest), and the detector's milliseconds per
photo (decode included) for each set-up.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from photoface.detection import DetectorSettings, FaceDetector, central_face  # noqa: E402
from photoface.detection.boxes import match_boxes  # noqa: E402

DEFAULT_DATA = Path(os.environ.get("PHOTOFACE_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def xyxy(faces) -> np.ndarray:
    return np.array([[f.box[0], f.box[1], f.box[0] + f.box[2], f.box[1] + f.box[3]] for f in faces]).reshape(-1, 4)


def hand_landmarks(data: Path) -> dict[str, list[tuple[list[float], np.ndarray]]]:
    """{file: [(box x1 y1 x2 y2, five landmarks (5, 2))]} from dlib's 68-point labels."""
    import xml.etree.ElementTree as ET  # the data set's own files, not user input

    out = defaultdict(list)
    for xml in ("training_with_face_landmarks.xml", "testing_with_face_landmarks.xml"):
        for image in ET.parse(data / "detection" / xml).getroot().iter("image"):
            for box in image.iter("box"):
                x, y = float(box.get("left")), float(box.get("top"))
                p = {int(part.get("name")): (float(part.get("x")), float(part.get("y"))) for part in box.iter("part")}
                five = np.array([np.mean([p[i] for i in range(36, 42)], axis=0), np.mean([p[i] for i in range(42, 48)], axis=0),
                                 p[30], p[48], p[54]])
                out[Path(image.get("file")).name].append(([x, y, x + float(box.get("width")), y + float(box.get("height"))], five))
    return out


def labelled_photos(data: Path, folder: Path) -> list[tuple[str, Path, list]]:
    """(set name, photo, its labelled faces: (box x1 y1 x2 y2, landmarks)) of detection/, as is
    and at 12 MP."""
    from PIL import Image

    truth = hand_landmarks(data)
    rng = np.random.default_rng(0)
    out = []
    for name in sorted(truth):
        src = data / "detection" / name
        out.append(("labelled", src, truth[name]))
        image = Image.open(src).convert("RGB")
        for side in (4000, 4032):  # the longer side: 4:3 photos become 12 MP, portrait ones too
            scale = side / max(image.size)
            big = image.resize((round(image.width * scale), round(image.height * scale)), Image.BICUBIC)
            pixels = np.asarray(big, np.float32) + rng.normal(0.0, 3.0, (big.height, big.width, 3)).astype(np.float32)
            path = folder / f"{src.stem}_{side}.jpg"
            Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(path, quality=92)
            # Pillow's resize lines up pixel centres: x -> (x + 0.5) * s - 0.5 on each axis.
            s = np.array([big.width / image.width, big.height / image.height])
            faces = [(np.r_[(np.array(b[:2]) + 0.5) * s - 0.5, (np.array(b[2:]) + 0.5) * s - 0.5], (m + 0.5) * s - 0.5)
                     for b, m in truth[name]]
            out.append((f"labelled {side} px", path, faces))
    out.append(("no face (dogs.jpg)", data / "detection" / "dogs.jpg", []))
    return out


def central_photos(data: Path, lfw: int, cfp: int) -> list[tuple[str, Path]]:
    lfw_photos = sorted((data / "lfw" / "images").glob("*/*.jpg"))
    out = [("LFW", p) for p in random.Random(0).sample(lfw_photos, min(lfw, len(lfw_photos)))]
    for seed, pose in enumerate(("frontal", "profile"), 1):  # a sample of each, whatever the others' sizes
        photos = sorted((data / "cfp" / "images").glob(f"*/{pose}_*.jpg"))
        out += [(f"CFP {pose}", p) for p in random.Random(seed).sample(photos, min(cfp // 2, len(photos)))]
    return out


def shown(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


class Tally:
    def __init__(self):
        self.photos = self.ref = self.cand = self.matched = 0
        self.lost, self.gained, self.shift = [], [], []
        self.truth = self.ref_hits = self.cand_hits = self.ref_extra = self.cand_extra = 0
        self.central_lost, self.central_gained, self.central_moved = [], [], []
        self.nme = ({}, {})  # (photo, labelled face) -> error
        self.ms = ([], [])

    def add(self, path, ref, cand, truth=None, central=False, size=None):
        self.photos += 1
        self.ref += len(ref)
        self.cand += len(cand)
        pairs = match_boxes(xyxy(ref), xyxy(cand), min_iou=0.5) if len(ref) and len(cand) else []
        self.matched += len(pairs)
        self.lost += [shown(path)] * (len(ref) - len(pairs))
        self.gained += [shown(path)] * (len(cand) - len(pairs))
        for i, j, _ in pairs:
            width = ref[i].box[2]
            self.shift.append(float(np.abs(ref[i].landmarks - cand[j].landmarks).max() / width))
        if truth is not None:
            self.truth += len(truth)
            boxes = np.array([b for b, _ in truth]).reshape(-1, 4)
            for k, (faces, hits, extra) in enumerate(((ref, "ref_hits", "ref_extra"), (cand, "cand_hits", "cand_extra"))):
                found = match_boxes(boxes, xyxy(faces), min_iou=0.3) if len(truth) and len(faces) else []
                setattr(self, hits, getattr(self, hits) + len(found))
                setattr(self, extra, getattr(self, extra) + len(faces) - len(found))
                for i, j, _ in found:
                    marks = truth[i][1]
                    eyes = float(np.linalg.norm(marks[0] - marks[1]))
                    self.nme[k][path.name, i] = float(np.linalg.norm(faces[j].landmarks - marks, axis=1).mean()) / eyes
        if central:
            a, b = central_face(ref, *size), central_face(cand, *size)
            if a is not None and b is None:
                self.central_lost.append(shown(path))
            elif b is not None and a is None:
                self.central_gained.append(shown(path))
            elif a is not None and not match_boxes(xyxy([a]), xyxy([b]), min_iou=0.5):
                self.central_moved.append(shown(path))

    def report(self, name: str) -> str:
        s = np.array(self.shift) if self.shift else np.zeros(1)
        lines = [f"{name}: {self.photos} photos; faces {self.ref} -> {self.cand}, matched {self.matched}, "
                 f"lost {len(self.lost)}, gained {len(self.gained)}; landmark shift / box width: median "
                 f"{np.median(s):.4f}, 95th {np.percentile(s, 95):.4f}, largest {s.max():.4f}; ms per photo "
                 f"{statistics.median(self.ms[0]):.1f} -> {statistics.median(self.ms[1]):.1f}"]
        if self.truth or name.startswith("no face"):
            lines.append(f"  labelled faces found {self.ref_hits}/{self.truth} -> {self.cand_hits}/{self.truth}; "
                         f"detections matching no label {self.ref_extra} -> {self.cand_extra}")
            both = sorted(set(self.nme[0]) & set(self.nme[1]))
            if both:
                a, b = (np.mean([errors[k] for k in both]) for errors in self.nme)
                lines.append(f"  landmarks' mean distance from the hand-placed ones / eye distance, over the "
                             f"{len(both)} labelled faces both found: {a:.4f} -> {b:.4f}")
        if self.central_lost or self.central_gained or self.central_moved or name.startswith(("LFW", "CFP")):
            lines.append(f"  central face lost in {len(self.central_lost)} photos {self.central_lost[:5]}, "
                         f"gained in {len(self.central_gained)} {self.central_gained[:5]}, another face in "
                         f"{len(self.central_moved)} {self.central_moved[:5]}")
        if self.lost or self.gained:
            lines.append(f"  lost in {sorted(set(self.lost))[:6]}; gained in {sorted(set(self.gained))[:6]}")
        return "\n".join(lines)


def detect(detector: FaceDetector, path: Path):
    t = time.perf_counter()
    image = detector.decode(path)
    faces = detector.detect(image)
    return faces, (time.perf_counter() - t) * 1000, image.original_size


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--models", type=Path, default=None, help="the candidate's networks (default: bundled)")
    ap.add_argument("--slack", type=float, default=None, help="the candidate's decode_slack (default: the app's)")
    ap.add_argument("--base-models", type=Path, default=None, help="the reference's networks (default: bundled)")
    ap.add_argument("--base-slack", type=float, default=None, help="the reference's decode_slack (default: the app's)")
    ap.add_argument("--lfw", type=int, default=1000, help="LFW photos (seeded sample)")
    ap.add_argument("--cfp", type=int, default=1000, help="CFP photos, half frontal, half profile (seeded)")
    args = ap.parse_args(argv)
    if not (args.data / "detection" / "testing_with_face_landmarks.xml").exists():
        print(f"no detection/ data under {args.data}", file=sys.stderr)
        return 2
    default = DetectorSettings()

    def setup(models, slack):
        settings = DetectorSettings(num_threads=1, decode_slack=default.decode_slack if slack is None else slack)
        return FaceDetector(settings, models)

    ref, cand = setup(args.base_models, args.base_slack), setup(args.models, args.slack)
    print(f"reference: {args.base_models or 'bundled networks'}, slack {ref.settings.decode_slack}; "
          f"candidate: {args.models or 'bundled networks'}, slack {cand.settings.decode_slack}")
    tallies: dict[str, Tally] = defaultdict(Tally)
    with tempfile.TemporaryDirectory() as tmp:
        work = [(name, path, truth, False) for name, path, truth in labelled_photos(args.data, Path(tmp))]
        work += [(name, path, None, True) for name, path in central_photos(args.data, args.lfw, args.cfp)]
        for i, (name, path, truth, central) in enumerate(work):
            # Each goes first on every other photo: neither gets the warmer caches throughout.
            if i % 2:
                b, ms_b, _ = detect(cand, path)
                a, ms_a, size = detect(ref, path)
            else:
                a, ms_a, size = detect(ref, path)
                b, ms_b, _ = detect(cand, path)
            tally = tallies[name]
            tally.ms[0].append(ms_a)
            tally.ms[1].append(ms_b)
            tally.add(path, a, b, truth, central, size)
    for name, tally in tallies.items():
        print(tally.report(name))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Fit the 5-point template of dlib's face chip from our own landmarks (training time only).

    python -m training.fit_template [--photos 400]

dlib's face-recognition network was trained on 150x150 chips cut by ``get_face_chip_details``
(padding 0.25) around its own 5-point shape (eye corners and the base of the nose). The app has
MTCNN's five points instead (eye centres, nose tip, mouth corners). On LFW DevTrain photos (one
per person: training identities, never a test person) both run on the same face; our points are
mapped into dlib's chip frame and averaged. That mean is ``photoface.align.TEMPLATE_DLIB_150``:
a similarity transform from our points onto it then cuts nearly the chip dlib would cut.

Prints the template, the photos used and the fit's residual (mean distance, in chip pixels, of
the mapped points from the template) as JSON.
"""

from __future__ import annotations

import argparse
import json
import math

import numpy as np

from .data import default_data_root
from .eval.lfw import read_people
from .teacher import central_rect

CHIP = 150
PADDING = 0.25


def chip_matrix(details) -> np.ndarray:
    """The 2x3 affine map of image pixels onto a dlib chip (dlib's ``get_mapping_to_chip``):
    the corners of the chip's rectangle, rotated by its angle about its centre, onto the chip's
    corner pixels."""
    r = details.rect
    cx, cy = (r.left() + r.right()) / 2, (r.top() + r.bottom()) / 2
    c, s = math.cos(details.angle), math.sin(details.angle)

    def rotate(x, y):
        dx, dy = x - cx, y - cy
        return (c * dx - s * dy + cx, s * dx + c * dy + cy)

    src = np.array([rotate(r.left(), r.top()), rotate(r.right(), r.top()), rotate(r.right(), r.bottom())])
    dst = np.array([[0, 0], [details.cols - 1, 0], [details.cols - 1, details.rows - 1]], np.float64)
    a = np.hstack([src, np.ones((3, 1))])
    return np.linalg.solve(a, dst).T


def landmark_pairs(photos: int, data_root=None):
    """(our landmarks mapped into dlib's chip frame) for up to ``photos`` LFW DevTrain photos
    on which both detectors find the face nearest the centre."""
    import dlib
    import face_recognition_models as models

    from photoface.decode import decode_file
    from photoface.detection import FaceDetector, central_face

    root = data_root or default_data_root()
    people = read_people(root / "lfw" / "protocol" / "peopleDevTrain.txt")
    ours = FaceDetector()
    hog = dlib.get_frontal_face_detector()
    shape = dlib.shape_predictor(models.pose_predictor_five_point_model_location())
    mapped = []
    for name in sorted(people):
        if len(mapped) >= photos:
            break
        path = root / "lfw" / "images" / name / f"{name}_0001.jpg"
        if not path.exists():
            continue
        rgb = decode_file(path).pixels
        face = central_face(ours.detect(rgb), rgb.shape[1], rgb.shape[0])
        rects = hog(rgb, 1)
        if face is None or not rects:
            continue
        rect = central_rect(rects, rgb.shape[1], rgb.shape[0])
        details = dlib.get_face_chip_details(shape(rgb, rect), CHIP, PADDING)
        m = chip_matrix(details)
        marks = np.asarray(face.landmarks, np.float64).reshape(5, 2)
        mapped.append(marks @ m[:, :2].T + m[:, 2])
    return np.asarray(mapped)


def fit(photos: int = 400, data_root=None) -> dict:
    mapped = landmark_pairs(photos, data_root)
    template = mapped.mean(axis=0)
    residual = float(np.linalg.norm(mapped - template, axis=2).mean())
    return {"template": np.round(template, 4).tolist(), "photos": int(len(mapped)),
            "mean_residual_px": round(residual, 3), "chip": CHIP, "padding": PADDING}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", type=int, default=400)
    args = ap.parse_args(argv)
    print(json.dumps(fit(args.photos), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

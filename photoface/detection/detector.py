"""Face detection on photos: settings a user can change, and results in original pixels."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..decode import DEFAULT_MAX_PIXELS, DecodedImage, decode_bytes, decode_file
from .cascade import PNET_CELL, CascadeParams, MTCNNCascade

LANDMARK_NAMES = ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")


@dataclass(frozen=True)
class DetectorSettings:
    """What the app and its users can tune.

    ``min_face_size`` is in the original photo's pixels. Detection runs on the photo scaled so
    that its longer side is at most ``max_working_side``; a face must also be at least
    ``min_working_face`` pixels at that size (P-Net's window is 12), so on a large photo the
    smallest face found is ``max(min_face_size, min_working_face * original / max_working_side)``:
    60 px on a 4000x3000 photo at the defaults, 1.5% of its width.

    A JPEG that libjpeg's reduced decode (1/2, 1/4, 1/8) brings within ``decode_slack`` times
    ``max_working_side`` is detected at that size instead of being resized first (a 4:3 12 MP
    photo at 2000x1500 or 2016x1512). The smallest face in the photo's pixels, and so P-Net's pyramid,
    stays the same; R-Net, O-Net and the embedder's crop sample the sharper image (landmarks land
    nearer hand-placed ones) for about the time the resize took.
    """

    min_face_size: int = 20
    max_working_side: int = 1600
    min_working_face: int = 24
    decode_slack: float = 1.3
    thresholds: tuple[float, float, float] = (0.6, 0.7, 0.8)  # P-Net, R-Net, O-Net scores
    scale_factor: float = 0.709
    max_pixels: int = DEFAULT_MAX_PIXELS
    num_threads: int = 2

    def __post_init__(self):
        if self.min_face_size < 1:
            raise ValueError("min_face_size must be at least 1 pixel")
        if self.max_working_side < 2 * PNET_CELL:
            raise ValueError(f"max_working_side must be at least {2 * PNET_CELL} pixels")
        if not all(0.0 <= t < 1.0 for t in self.thresholds) or len(self.thresholds) != 3:
            raise ValueError("thresholds must be three scores in [0, 1)")
        if not 0.3 <= self.scale_factor <= 0.9:
            raise ValueError("scale_factor must lie in [0.3, 0.9]")
        if not 1.0 <= self.decode_slack <= 2.0:
            raise ValueError("decode_slack must lie in [1, 2]")


@dataclass(frozen=True)
class Face:
    """One detected face, in the original (EXIF-oriented) photo's pixel coordinates."""

    box: tuple[float, float, float, float]  # x, y, width, height
    score: float
    landmarks: np.ndarray = field(compare=False)  # (5, 2), LANDMARK_NAMES order, image left/right

    def to_dict(self, ndigits: int = 1) -> dict:
        return {
            "box": [round(float(v), ndigits) for v in self.box],
            "score": round(float(self.score), 4),
            "landmarks": {
                name: [round(float(x), ndigits), round(float(y), ndigits)]
                for name, (x, y) in zip(LANDMARK_NAMES, self.landmarks)
            },
        }


@dataclass
class Detection:
    """The faces of one photo, with the size they are measured in."""

    path: str
    width: int
    height: int
    faces: list[Face]

    def to_dict(self) -> dict:
        return {
            "path": self.path,
            "width": self.width,
            "height": self.height,
            "faces": [f.to_dict() for f in self.faces],
        }


def central_face(faces: list[Face], width: float, height: float) -> Face | None:
    """The face whose box centre is nearest the image centre (the one LFW labels), if any."""
    cx, cy = width / 2, height / 2
    return min(
        faces,
        key=lambda f: (f.box[0] + f.box[2] / 2 - cx) ** 2 + (f.box[1] + f.box[3] / 2 - cy) ** 2,
        default=None,
    )


class FaceDetector:
    """Finds faces and their five landmarks in photos (MTCNN over LiteRT)."""

    def __init__(self, settings: DetectorSettings | None = None, model_dir: Path | str | None = None):
        self.settings = settings or DetectorSettings()
        self.cascade = MTCNNCascade(model_dir, num_threads=self.settings.num_threads)

    def decode(self, path: str | os.PathLike) -> DecodedImage:
        """Decode a photo at the working resolution (raises DecodeError)."""
        s = self.settings
        return decode_file(path, max_side=s.max_working_side, max_pixels=s.max_pixels, slack=s.decode_slack)

    def decode_bytes(self, data: bytes, path: str | os.PathLike) -> DecodedImage:
        """:meth:`decode` for a file's bytes already read."""
        s = self.settings
        return decode_bytes(data, path, max_side=s.max_working_side, max_pixels=s.max_pixels, slack=s.decode_slack)

    def detect_file(self, path: str | os.PathLike) -> Detection:
        image = self.decode(path)
        w, h = image.original_size
        return Detection(str(path), w, h, self.detect(image))

    def detect(self, image: DecodedImage | np.ndarray) -> list[Face]:
        """Faces in a decoded photo (or an RGB array), largest score first."""
        if isinstance(image, np.ndarray):
            image = DecodedImage(image, (image.shape[1], image.shape[0]), "array")
        s = self.settings
        sx, sy = image.scale
        # min_face_size is in original pixels; the cascade works in decoded pixels. A photo
        # decoded larger than the working size (decode_slack) keeps the working size's smallest face.
        beyond = max(1.0, max(image.pixels.shape[:2]) / s.max_working_side) if max(sx, sy) > 1 else 1.0
        min_face = max(s.min_face_size / max(sx, sy), s.min_working_face * beyond, PNET_CELL)
        params = CascadeParams(
            min_face=min_face, scale_factor=s.scale_factor, thresholds=tuple(s.thresholds)
        )
        raw = self.cascade.detect(image.pixels, params)
        ow, oh = image.original_size
        faces = []
        for (x1, y1, x2, y2, score), marks in zip(raw.boxes, raw.landmarks):
            x1, x2 = np.clip([x1 * sx, x2 * sx], 0, ow)
            y1, y2 = np.clip([y1 * sy, y2 * sy], 0, oh)
            if x2 - x1 < 1 or y2 - y1 < 1:
                continue
            pts = marks.astype(np.float64) * (sx, sy)
            faces.append(Face((float(x1), float(y1), float(x2 - x1), float(y2 - y1)), float(score), pts))
        faces.sort(key=lambda f: -f.score)
        return faces

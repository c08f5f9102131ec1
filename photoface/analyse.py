"""One photo in, its faces out: read -> hash -> decode -> detect -> align -> embed.

This is the work a scan spreads over processes (``photoface.scan``); it touches no database, so a
worker can run it anywhere. Failures become ``PhotoResult.error``: a bad photo never raises.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass, field

import numpy as np

from .decode import read_photo
from .detection import DetectorSettings, FaceDetector
from .embedder import Embedder
from .errors import DecodeError, PhotoFaceError

HASH_CHUNK = 1 << 20


def content_hash(data: bytes) -> str:
    """The photo's identity across moves and renames (BLAKE2b, 128 bits)."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def file_hash(path: str | os.PathLike) -> str:
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        while chunk := f.read(HASH_CHUNK):
            h.update(chunk)
    return h.hexdigest()


@dataclass
class FaceResult:
    box: tuple[float, float, float, float]  # x, y, w, h in original photo pixels
    score: float
    landmarks: np.ndarray  # (5, 2) float32, original photo pixels
    embedding: np.ndarray  # (d,) float32, unit length


@dataclass
class PhotoResult:
    path: str
    size: int = 0
    mtime_ns: int = 0
    hash: str | None = None
    width: int | None = None
    height: int | None = None
    faces: list[FaceResult] = field(default_factory=list)
    error: str | None = None
    seconds: dict = field(default_factory=dict)  # read, decode, detect, embed
    regions: list = field(default_factory=list)  # (name, index in faces) from the photo's XMP (photoface.xmp)
    notes: list = field(default_factory=list)  # problems with the photo's metadata, one line each


class Analyser:
    """Detector + embedder for one process (each worker of a scan owns one)."""

    def __init__(self, settings: DetectorSettings | None = None, model_dir=None):
        self.settings = settings or DetectorSettings()
        self.detector = FaceDetector(self.settings, model_dir)
        self.embedder = Embedder(model_dir, num_threads=self.settings.num_threads)

    @property
    def model_version(self) -> str:
        return self.embedder.card.version

    def analyse(self, path: str) -> PhotoResult:
        result = PhotoResult(path)
        t = time.perf_counter()
        try:
            st = os.stat(path)
            result.size, result.mtime_ns = st.st_size, st.st_mtime_ns
            data = read_photo(path)
        except OSError as exc:
            result.error = f"cannot read file ({exc.strerror or exc})"
            return result
        except DecodeError as exc:  # not a photo: its header said so, the rest is never read
            result.error = exc.reason
            return result
        result.hash = content_hash(data)
        t = _lap(result, "read", t)
        try:
            image = self.detector.decode_bytes(data, path)
            del data
            result.width, result.height = image.original_size
            t = _lap(result, "decode", t)
            faces = self.detector.detect(image)
            t = _lap(result, "detect", t)
            result.faces = self._embed(image, faces)
            _lap(result, "embed", t)
        except PhotoFaceError as exc:
            result.error = getattr(exc, "reason", None) or str(exc)
        except (MemoryError, ValueError, RuntimeError) as exc:  # never let one photo stop a scan
            result.error = f"{type(exc).__name__}: {exc}"
        return result

    def _embed(self, image, faces) -> list[FaceResult]:
        if not faces:
            return []
        sx, sy = image.scale
        # Landmarks are in original pixels; the crop is cut from the decoded (working) pixels.
        crops = np.stack([self.embedder.align(image.pixels, f.landmarks / (sx, sy)) for f in faces])
        embs = self.embedder.embed_crops(crops)
        return [
            FaceResult(f.box, f.score, f.landmarks.astype(np.float32), e.astype(np.float32))
            for f, e in zip(faces, embs)
        ]

    def reembed(self, path: str, landmarks: list[np.ndarray]) -> np.ndarray:
        """New embeddings for known faces (a new model): decode, align on stored landmarks."""
        try:
            data = read_photo(path)
        except OSError as exc:
            raise PhotoFaceError(f"{path}: cannot read file ({exc.strerror or exc})") from None
        image = self.detector.decode_bytes(data, path)
        sx, sy = image.scale
        crops = np.stack([self.embedder.align(image.pixels, np.asarray(m) / (sx, sy)) for m in landmarks])
        return self.embedder.embed_crops(crops)


def _lap(result: PhotoResult, name: str, t0: float) -> float:
    t = time.perf_counter()
    result.seconds[name] = result.seconds.get(name, 0.0) + t - t0
    return t

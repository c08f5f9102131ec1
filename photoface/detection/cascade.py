"""MTCNN (Zhang et al. 2016) over LiteRT: P-Net on an image pyramid, then R-Net and O-Net.

The three networks are the ``mtcnn`` package's trained weights, exported by
``training/export_detector.py``; everything around them (pyramid, proposal decoding, NMS, box
regression, crops, landmarks) is NumPy/Pillow here so that detection never needs TensorFlow (nor
OpenCV).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from ..config import models_dir
from ..errors import ModelError
from ..imaging import pad_for_sampling, sample_grid, sample_span
from ..runtime import LiteModel
from .boxes import nms, regress, square

PNET_CELL = 12  # P-Net sees 12x12 windows ...
PNET_STRIDE = 2  # ... every 2 pixels of a pyramid level


@dataclass(frozen=True)
class CascadeParams:
    """Parameters of one cascade run, in the pixels of the image the cascade is given."""

    min_face: float = 20.0
    scale_factor: float = 0.709
    thresholds: tuple[float, float, float] = (0.6, 0.7, 0.8)
    nms_pnet_level: float = 0.5
    nms_pnet_all: float = 0.7
    nms_rnet: float = 0.7
    nms_onet: float = 0.7


@dataclass
class RawDetections:
    boxes: np.ndarray  # (n, 5): x1, y1, x2, y2, score
    landmarks: np.ndarray  # (n, 5, 2): x, y of left eye, right eye, nose, mouth left, mouth right


class MTCNNCascade:
    """The three MTCNN networks and the stage logic between them."""

    def __init__(self, model_dir: Path | str | None = None, num_threads: int = 2):
        model_dir = Path(model_dir) if model_dir else models_dir()
        self.pnet = LiteModel(model_dir / "pnet.tflite", num_threads=num_threads)
        self.rnet = LiteModel(model_dir / "rnet.tflite", num_threads=num_threads)
        self.onet = LiteModel(model_dir / "onet.tflite", num_threads=num_threads)
        self._check()

    def _check(self) -> None:
        expected = {
            "pnet": (self.pnet, [4, 2]),
            "rnet": (self.rnet, [4, 2]),
            "onet": (self.onet, [4, 10, 2]),
        }
        for name, (model, dims) in expected.items():
            got = [sig[-1] for sig in model.output_signatures]
            if got != dims:
                raise ModelError(f"{name}: unexpected outputs {model.output_signatures}")

    # -- the cascade -------------------------------------------------------------------------
    def detect(self, rgb: np.ndarray, params: CascadeParams = CascadeParams()) -> RawDetections:
        """Detect faces in an RGB uint8 image; coordinates are in that image's pixels."""
        empty = RawDetections(np.empty((0, 5), np.float32), np.empty((0, 5, 2), np.float32))
        if rgb.ndim != 3 or rgb.shape[2] != 3 or min(rgb.shape[:2]) < PNET_CELL:
            return empty
        boxes = self._stage_pnet(build_pyramid(rgb, params.min_face, params.scale_factor), params)
        if len(boxes) == 0:
            return empty
        boxes = self._stage_rnet(rgb, boxes, params)
        if len(boxes) == 0:
            return empty
        boxes, landmarks = self._stage_onet(rgb, boxes, params)
        return RawDetections(boxes.astype(np.float32), landmarks.astype(np.float32))

    def _stage_pnet(self, levels, params: CascadeParams) -> np.ndarray:
        candidates = []
        for scale, img in levels:
            reg, prob = self.pnet(normalize(img)[None])
            found = proposals(reg[0], prob[0, :, :, 1], scale, params.thresholds[0])
            if len(found):
                candidates.append(found[nms(found, params.nms_pnet_level)])
        if not candidates:
            return np.empty((0, 5))
        boxes = np.concatenate(candidates)
        return square(boxes[nms(boxes, params.nms_pnet_all)])

    def _stage_rnet(self, rgb, boxes: np.ndarray, params: CascadeParams) -> np.ndarray:
        reg, prob = self.rnet.run_batched(normalize(crop_boxes(rgb, boxes, 24)))
        keep = prob[:, 1] > params.thresholds[1]
        boxes = boxes[keep].copy()
        if len(boxes) == 0:
            return boxes
        boxes[:, 4] = prob[keep, 1]
        boxes = regress(boxes, reg[keep])
        return square(boxes[nms(boxes, params.nms_rnet)])

    def _stage_onet(self, rgb, boxes: np.ndarray, params: CascadeParams):
        reg, marks, prob = self.onet.run_batched(normalize(crop_boxes(rgb, boxes, 48)))
        keep = prob[:, 1] > params.thresholds[2]
        boxes, reg, marks = boxes[keep].copy(), reg[keep], marks[keep]
        if len(boxes) == 0:
            return boxes, np.empty((0, 5, 2))
        boxes[:, 4] = prob[keep, 1]
        # Landmarks are fractions of the (inclusive) input box.
        w = (boxes[:, 2] - boxes[:, 0] + 1)[:, None]
        h = (boxes[:, 3] - boxes[:, 1] + 1)[:, None]
        lx = boxes[:, 0:1] - 1 + marks[:, 0:5] * w
        ly = boxes[:, 1:2] - 1 + marks[:, 5:10] * h
        landmarks = np.stack([lx, ly], axis=2)
        boxes = regress(boxes, reg)
        pick = nms(boxes, params.nms_onet, method="min")
        return boxes[pick], landmarks[pick]


# Up to this many pixels every pyramid level is area-averaged from the full image, exactly as
# the mtcnn package does. Above it (large working images) a level below half size is made from a
# half-size copy: 3-4x cheaper, and P-Net's proposals then differ slightly from the package's.
EXACT_PYRAMID_MAX_PIXELS = 1_000_000


def build_pyramid(rgb: np.ndarray, min_face: float, factor: float):
    """P-Net's pyramid: [(scale, image)], largest first.

    The first P-Net level maps ``min_face`` pixels onto P-Net's 12-pixel window (never upsampling:
    ``min_face`` below 12 is taken as 12); each next level is ``factor`` smaller, down to a
    12-pixel image. Sizes are truncated, as the mtcnn package does. Levels are box-filtered by
    Pillow (each level pixel is the mean of the source pixels whose centres it covers; the
    package's OpenCV ``INTER_AREA`` also weights the partly covered ones: levels differ by about
    one grey level on average, which changes no detection measurably).
    """
    h, w = rgb.shape[:2]
    levels = []
    octaves = [(1.0, Image.fromarray(np.ascontiguousarray(rgb)))]  # full, half, quarter... size copies
    use_octaves = h * w > EXACT_PYRAMID_MAX_PIXELS
    scale = PNET_CELL / max(float(min_face), PNET_CELL)
    while min(h, w) * scale >= PNET_CELL:
        while (
            use_octaves
            and scale <= octaves[-1][0] / 2
            and min(octaves[-1][1].size) >= 2 * PNET_CELL
        ):
            s_oct, img_oct = octaves[-1]
            ow, oh = img_oct.size
            if (ow % 2, oh % 2) != (0, 0):
                img_oct = img_oct.crop((0, 0, ow - ow % 2, oh - oh % 2))
            octaves.append((s_oct / 2, img_oct.reduce(2)))  # exact 2x2 means
        size = (max(1, int(w * scale)), max(1, int(h * scale)))
        src = octaves[-1][1]
        if src.size == size:
            img = np.asarray(src) if src is not octaves[0][1] else rgb
        else:
            img = np.asarray(src.resize(size, Image.Resampling.BOX))
        levels.append((scale, img))
        scale *= factor
    return levels


def normalize(img: np.ndarray) -> np.ndarray:
    """uint8 RGB -> the networks' input range, (x - 127.5) / 128."""
    x = img.astype(np.float32)
    x -= 127.5
    x *= 1.0 / 128.0
    return x


def proposals(reg: np.ndarray, prob: np.ndarray, scale: float, threshold: float) -> np.ndarray:
    """P-Net output map -> regressed boxes [x1, y1, x2, y2, score] in image pixels."""
    ys, xs = np.nonzero(prob > threshold)
    if ys.size == 0:
        return np.empty((0, 5))
    r = reg[ys, xs]
    x1 = xs * PNET_STRIDE + 1.0
    y1 = ys * PNET_STRIDE + 1.0
    side = PNET_CELL - 1.0
    boxes = np.column_stack([x1, y1, x1 + side, y1 + side]) + r * side
    return np.column_stack([boxes / scale, prob[ys, xs]])


def crop_boxes(image: np.ndarray, boxes: np.ndarray, size: int) -> np.ndarray:
    """Resample each box of ``image`` to ``size`` x ``size`` pixels (uint8, n x size x size x 3).

    Sampling is bilinear with the box corners on the first and last samples, and mid-grey
    outside the image (zero after normalisation), as in the mtcnn package. The sample grids of
    a whole chunk of boxes are gathered at once (see :func:`photoface.imaging.sample_grid`).
    """
    n = len(boxes)
    out = np.empty((n, size, size, 3), dtype=np.uint8)
    if n == 0:
        return out
    h, w = image.shape[:2]
    grid = np.arange(size, dtype=np.float32)
    # The package's normalised box coordinates (x / W) scaled by (W - 1).
    fx, fy = (w - 1) / w, (h - 1) / h
    b = boxes[:, :4].astype(np.float32)
    step_x = (b[:, 2] - b[:, 0]) * fx / (size - 1)
    step_y = (b[:, 3] - b[:, 1]) * fy / (size - 1)
    xs = b[:, 0, None] * fx + grid[None, :] * step_x[:, None]
    ys = b[:, 1, None] * fy + grid[None, :] * step_y[:, None]
    # Only the part of the image the samples reach is framed (O-Net's few boxes: a small part).
    x0, x1 = sample_span(xs, w)
    y0, y1 = sample_span(ys, h)
    padded = pad_for_sampling(image[y0:y1, x0:x1], 128, origin=(x0, y0))
    chunk = max(1, 65536 // (size * size))  # about 64k samples at a time (fits the caches)
    for start in range(0, n, chunk):
        out[start : start + chunk] = sample_grid(padded, xs[start : start + chunk], ys[start : start + chunk])
    return out

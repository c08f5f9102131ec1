"""dlib's 128-d face-recognition ResNet as a teacher (the distilled recipe); training-time only.

dlib's model files are in the public domain ("anyone can do whatever they want with these model
files", dlib-models README); it was trained on about 7,500 identities chosen to avoid LFW's. It
ships in the ``face-recognition-models`` package and runs with ``dlib-bin``.

dlib aligns with its own 5-point shape predictor (eye corners and nose base) inside a detector
box; its boxes are placed differently from MTCNN's, so our box is mapped onto dlib's convention
first (measured on LFW: dlib's frontal-face box relative to ours is x - 0.075w, y + 0.124h,
1.14w x 0.845h).
"""

from __future__ import annotations

import numpy as np

# dlib's HOG box relative to an MTCNN box (x, y, w, h), fitted on 74 LFW photos.
DLIB_BOX = (-0.075, 0.124, 1.14, 0.845)
CHIP_SIZE = 150
CHIP_PADDING = 0.25


def dlib_available() -> bool:
    try:
        import dlib  # noqa: F401
        import face_recognition_models  # noqa: F401
    except ImportError:
        return False
    return True


def to_dlib_box(box) -> tuple[int, int, int, int]:
    """An MTCNN box (x, y, w, h) as dlib's (left, top, right, bottom)."""
    x, y, w, h = box
    dx, dy, sw, sh = DLIB_BOX
    left, top = x + dx * w, y + dy * h
    return int(round(left)), int(round(top)), int(round(left + sw * w)), int(round(top + sh * h))


def central_rect(rects, width: int, height: int):
    """Of dlib's detections, the one nearest the image centre (as ``photoface.detection.central_face``)."""
    return min(rects, key=lambda d: np.hypot(d.center().x - width / 2, d.center().y - height / 2))


class DlibTeacher:
    """Embeds a face (RGB image + our detector's box) with dlib's ResNet, L2-normalised."""

    def __init__(self):
        import dlib  # noqa: F401
        import face_recognition_models as models

        self._dlib = dlib
        self._shape = dlib.shape_predictor(models.pose_predictor_five_point_model_location())
        self._net = dlib.face_recognition_model_v1(models.face_recognition_model_location())

    def chip(self, rgb: np.ndarray, box) -> np.ndarray:
        rect = self._dlib.rectangle(*to_dlib_box(box))
        shape = self._shape(np.ascontiguousarray(rgb), rect)
        return self._dlib.get_face_chip(rgb, shape, CHIP_SIZE, CHIP_PADDING)

    def embed_chips(self, chips: list[np.ndarray]) -> np.ndarray:
        emb = np.asarray(self._net.compute_face_descriptor(chips), dtype=np.float32)
        return emb / np.linalg.norm(emb, axis=1, keepdims=True)

    def embed(self, rgb: np.ndarray, box) -> np.ndarray:
        return self.embed_chips([self.chip(rgb, box)])[0]

"""Face alignment: a similarity transform from the five landmarks to a canonical template.

This one function makes the crops the embedder consumes, in the app and in ``training/`` alike,
so the network never sees crops made differently from the ones it was trained on.
"""

from __future__ import annotations

import numpy as np

from .imaging import invert_affine, resize_area, warp_affine

# The widely used 5-point template for 112x112 crops (insightface/ArcFace), in the order of
# LANDMARK_NAMES: eye on the image's left, eye on the image's right, nose tip, mouth corners.
TEMPLATE_112 = np.array(
    [
        [38.2946, 51.6963],
        [73.5318, 51.5014],
        [56.0252, 71.7366],
        [41.5493, 92.3655],
        [70.7299, 92.2041],
    ],
    dtype=np.float64,
)

# The same five points in the frame of dlib's 150x150 face chip (``get_face_chip_details``,
# padding 0.25), the crop dlib's face-recognition network was trained on: the mean of our
# landmarks mapped into dlib's chip on 400 LFW DevTrain photos (``python -m
# training.fit_template``; mean residual 4.5 px). The chip shows more of the head than the
# ArcFace crop: the eyes are 54 px apart in 150 (ArcFace: 35 in 112).
TEMPLATE_DLIB_150 = np.array(
    [
        [46.837, 44.8017],
        [100.5114, 44.6469],
        [73.3397, 76.2248],
        [49.832, 103.9723],
        [97.4128, 103.8615],
    ],
    dtype=np.float64,
)

# Crop geometries by the name a model card gives (``input.template``): points and their frame.
TEMPLATES = {"arcface": (TEMPLATE_112, 112.0), "dlib-chip": (TEMPLATE_DLIB_150, 150.0)}


def template(size: int, name: str = "arcface") -> np.ndarray:
    """The named template scaled to a ``size`` x ``size`` crop."""
    try:
        points, frame = TEMPLATES[name]
    except KeyError:
        raise ValueError(f"unknown crop template {name!r}; known: {sorted(TEMPLATES)}") from None
    return points * (size / frame)


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity (rotation, uniform scale, translation) mapping src onto dst.

    Umeyama (1991), closed form: deterministic, unlike a RANSAC estimate. Returns a 2x3 matrix.
    """
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    mu_s, mu_d = src.mean(0), dst.mean(0)
    s_c, d_c = src - mu_s, dst - mu_d
    cov = d_c.T @ s_c / len(src)
    u, sig, vt = np.linalg.svd(cov)
    d = np.ones(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        d[-1] = -1  # no reflections
    rot = u @ np.diag(d) @ vt
    var_s = (s_c**2).sum() / len(src)
    scale = (sig * d).sum() / var_s if var_s > 0 else 1.0
    m = np.empty((2, 3))
    m[:, :2] = scale * rot
    m[:, 2] = mu_d - m[:, :2] @ mu_s
    return m


def align_face(image: np.ndarray, landmarks: np.ndarray, size: int = 112, template_name: str = "arcface") -> np.ndarray:
    """Warp the face with these five landmarks (image pixels) to a ``size`` x ``size`` crop in
    the named template's geometry (``TEMPLATES``).

    A face much larger than the crop is first shrunk with area averaging (only the part the crop
    covers), so that large faces are not aliased by the bilinear warp.
    """
    landmarks = np.asarray(landmarks, dtype=np.float64).reshape(5, 2)
    m = similarity_transform(landmarks, template(size, template_name))
    scale = float(np.sqrt(abs(np.linalg.det(m[:, :2]))))
    if scale < 0.5:
        image, m = _shrink_region(image, m, size, scale)
    # Bilinear, black outside the image (what OpenCV's warpAffine with INTER_LINEAR and
    # BORDER_CONSTANT did, in floating point).
    return warp_affine(image, m, (size, size), border_value=0)


def _shrink_region(image: np.ndarray, m: np.ndarray, size: int, scale: float):
    """Crop the source region the output covers, shrink it to ~1.5x the output's resolution."""
    inv = invert_affine(m)
    corners = np.array([[0, 0, 1], [size, 0, 1], [0, size, 1], [size, size, 1]], dtype=np.float64)
    pts = corners @ inv.T
    h, w = image.shape[:2]
    x0, y0 = np.floor(pts.min(0)).astype(int) - 2
    x1, y1 = np.ceil(pts.max(0)).astype(int) + 2
    x0, y0 = max(x0, 0), max(y0, 0)
    x1, y1 = min(x1, w), min(y1, h)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return image, m
    region = image[y0:y1, x0:x1]
    f = min(1.0, scale * 1.5)
    new_w, new_h = max(1, round((x1 - x0) * f)), max(1, round((y1 - y0) * f))
    small = resize_area(region, (new_w, new_h))  # exact area averaging (OpenCV's INTER_AREA)
    fx, fy = new_w / (x1 - x0), new_h / (y1 - y0)
    # small pixel (u, v) <- region pixel ((u + .5) / fx - .5, ...) <- image pixel + (x0, y0)
    to_image = np.array(
        [[1 / fx, 0, (0.5 / fx - 0.5) + x0], [0, 1 / fy, (0.5 / fy - 0.5) + y0], [0, 0, 1]]
    )
    m2 = np.vstack([m, [0, 0, 1]]) @ to_image
    return small, m2[:2]


def frontality(landmarks) -> float:
    """How frontal a face looks, 0..1, from its five landmarks (eyes, nose, mouth corners): 1 when
    the nose lies midway between the eyes, 0 when it is half an eye distance or more to a side
    (a profile). Used to choose a face that shows a person well (a cover)."""
    p = np.asarray(landmarks, np.float64).reshape(5, 2)
    axis = p[1] - p[0]
    d = float(np.hypot(*axis))
    if d < 1e-6:
        return 0.0
    offset = abs(float((p[2] - (p[0] + p[1]) / 2) @ (axis / d))) / d
    return float(np.clip(1.0 - 2.0 * offset, 0.0, 1.0))

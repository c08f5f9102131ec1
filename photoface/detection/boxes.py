"""Box arithmetic for the MTCNN cascade, in NumPy.

Boxes are float arrays of rows ``[x1, y1, x2, y2, score]`` in pixel coordinates. The conventions
(where a P-Net cell's box starts, ``+ 1`` in regression widths, corner-aligned crops) follow the
``mtcnn`` package whose weights we run, so that both give the same boxes for the same photo.
"""

from __future__ import annotations

import numpy as np


def nms(boxes: np.ndarray, threshold: float, method: str = "union") -> np.ndarray:
    """Non-maximum suppression as the mtcnn package does it; indices kept, best score first.

    A box is dropped when any higher-scoring box overlaps it by more than ``threshold``, whether
    or not that box is itself dropped (greedy NMS would keep it). ``method="min"`` divides the
    overlap by the smaller area (O-Net's last pass), which also drops a small box inside a large
    one. Boxes are swept in order of x so that each is compared only with its horizontal
    neighbours: P-Net yields thousands of boxes per photo.
    """
    n = len(boxes)
    if n == 0:
        return np.empty(0, dtype=np.int64)
    x1, y1, x2, y2 = (boxes[:, k].astype(np.float64) for k in range(4))
    area = (x2 - x1) * (y2 - y1)
    order = np.argsort(boxes[:, 4], kind="stable")[::-1]
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    by_x = np.argsort(x1, kind="stable")
    xs = x1[by_x]
    max_w = float(np.max(x2 - x1))
    suppressed = np.zeros(n, dtype=bool)
    block = 256
    for start in range(0, n, block):
        blk = by_x[start : start + block]
        lo = np.searchsorted(xs, x1[blk].min() - max_w, side="left")
        hi = np.searchsorted(xs, x2[blk].max(), side="right")
        cand = by_x[lo:hi]
        iw = np.minimum(x2[blk, None], x2[None, cand]) - np.maximum(x1[blk, None], x1[None, cand])
        ih = np.minimum(y2[blk, None], y2[None, cand]) - np.maximum(y1[blk, None], y1[None, cand])
        inter = np.maximum(iw, 0) * np.maximum(ih, 0)
        if method == "min":
            denom = np.minimum(area[blk, None], area[None, cand])
        else:
            denom = area[blk, None] + area[None, cand] - inter
        with np.errstate(divide="ignore", invalid="ignore"):
            overlap = inter / denom
        higher = rank[None, cand] < rank[blk, None]
        suppressed[blk] = ((overlap > threshold) & higher).any(axis=1)
    return order[~suppressed[order]]


def regress(boxes: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Apply the networks' box regression (offsets are fractions of the box size).

    MTCNN was trained on inclusive pixel boxes, whose width is ``x2 - x1 + 1``.
    """
    out = boxes.copy()
    w = boxes[:, 2] - boxes[:, 0] + 1
    h = boxes[:, 3] - boxes[:, 1] + 1
    out[:, 0:4] = boxes[:, 0:4] + offsets[:, 0:4] * np.stack([w, h, w, h], axis=1)
    return out


def square(boxes: np.ndarray) -> np.ndarray:
    """Grow each box to a square around its centre (the next network takes square crops)."""
    out = boxes.copy()
    w = boxes[:, 2] - boxes[:, 0]
    h = boxes[:, 3] - boxes[:, 1]
    side = np.maximum(w, h)
    cx = boxes[:, 0] + w * 0.5
    cy = boxes[:, 1] + h * 0.5
    out[:, 0] = cx - side * 0.5
    out[:, 1] = cy - side * 0.5
    out[:, 2] = cx + side * 0.5
    out[:, 3] = cy + side * 0.5
    return out


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every box in ``a`` (rows ``[x1, y1, x2, y2, ...]``) with every box in ``b``."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, a.shape[-1] if np.ndim(a) > 1 else 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, b.shape[-1] if np.ndim(b) > 1 else 4)
    ix1 = np.maximum(a[:, None, 0], b[None, :, 0])
    iy1 = np.maximum(a[:, None, 1], b[None, :, 1])
    ix2 = np.minimum(a[:, None, 2], b[None, :, 2])
    iy2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.maximum(ix2 - ix1, 0) * np.maximum(iy2 - iy1, 0)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-9)


def match_boxes(a: np.ndarray, b: np.ndarray, min_iou: float) -> list[tuple[int, int, float]]:
    """One-to-one matches (i, j, iou) between boxes ``a`` and ``b``, best overlaps first."""
    if len(a) == 0 or len(b) == 0:
        return []
    iou = iou_matrix(a, b)
    pairs = sorted(
        ((iou[i, j], i, j) for i, j in zip(*np.nonzero(iou >= min_iou))), reverse=True
    )
    used_a, used_b, matches = set(), set(), []
    for value, i, j in pairs:
        if i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
            matches.append((int(i), int(j), float(value)))
    return matches

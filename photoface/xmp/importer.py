"""The scan's hook: names other apps wrote into a photo's XMP become named faces.

In the worker (``attach_regions``), each named region is matched to a detected face (IoU >= 0.3,
or one's centre inside the other's box); a region with no detected face becomes a face of its
own, embedded from the region like a face drawn by hand (landmarks placed where the detector puts
them in its boxes). In the main process (``import_names``), inside the photo's own transaction,
each matched face is confirmed under the region's name through ``People.import_names``: a
journaled, undoable decision that never overrides one the user made.
"""

from __future__ import annotations

import numpy as np

from ..errors import PhotoFaceError
from .files import orientation_of, photo_regions, upright_pixels

MATCH_IOU = 0.3
MIN_REGION_PX = 8  # a region smaller than this (in photo pixels) holds no face to embed
# Where the detector's five landmarks sit in its box (x, y as fractions of w, h): medians over
# the 51 faces of album-mini and the detection set, made left-right symmetric. A region without a
# detected face is aligned on these, the way the embedder aligns every face.
LANDMARKS_IN_BOX = np.array([[0.26, 0.38], [0.74, 0.38], [0.50, 0.58], [0.29, 0.74], [0.71, 0.74]],
                            np.float32)


def landmarks_in(box) -> np.ndarray:
    x, y, w, h = box
    return (LANDMARKS_IN_BOX * (w, h) + (x, y)).astype(np.float32)


def _iou(a, b) -> float:
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / (a[2] * a[3] + b[2] * b[3] - inter + 1e-9)


def _inside(point, box) -> bool:
    return box[0] <= point[0] <= box[0] + box[2] and box[1] <= point[1] <= box[1] + box[3]


def _centre(box):
    return box[0] + box[2] / 2, box[1] + box[3] / 2


def match_regions(regions, faces) -> list[int | None]:
    """For each region box, the index of the face box it names, or None; one face per region,
    the most overlapping pairs first."""
    pairs = []
    for i, r in enumerate(regions):
        for j, f in enumerate(faces):
            iou = _iou(r, f)
            if iou >= MATCH_IOU or _inside(_centre(r), f) or _inside(_centre(f), r):
                pairs.append((iou, i, j))
    out: list[int | None] = [None] * len(regions)
    taken = set()
    for _iou_, i, j in sorted(pairs, reverse=True):
        if out[i] is None and j not in taken:
            out[i] = j
            taken.add(j)
    return out


def attach_regions(result, analyser) -> None:
    """Worker side: fill ``result.regions`` with (name, face index), adding faces for regions no
    face was detected in. A problem with the metadata goes to ``result.notes``; the photo's faces
    are kept either way."""
    if result.error or not result.width:
        return
    found = photo_regions(result.path)
    result.notes.extend(found.problems)
    if not found.regions:
        return
    orientation = orientation_of(result.path)
    boxes = [upright_pixels(r, orientation, (result.width, result.height)) for r in found.regions]
    matches = match_regions(boxes, [f.box for f in result.faces])
    new = [i for i, m in enumerate(matches) if m is None and min(boxes[i][2:]) >= MIN_REGION_PX]
    if new:
        from ..analyse import FaceResult

        marks = [landmarks_in(boxes[i]) for i in new]
        try:
            embeddings = analyser.reembed(result.path, marks)
        except PhotoFaceError as exc:
            result.notes.append(f"faces named in the metadata were not added ({exc})")
            embeddings = []
        for i, m, e in zip(new, marks, embeddings):
            matches[i] = len(result.faces)
            # Score 0: not found by the detector, so never chosen as a cover over a detected face.
            result.faces.append(FaceResult(tuple(float(v) for v in boxes[i]), 0.0, m, np.asarray(e, np.float32)))
    result.regions = [(r.name, m) for r, m in zip(found.regions, matches) if m is not None]


def import_names(people, conn, path: str, result, face_ids: list[int], inserted: set[int]) -> int:
    """Main-process side, inside the photo's transaction: confirm the named faces. ``face_ids``
    are the stored ids of ``result.faces`` in order, ``inserted`` those new in this scan.
    Returns how many faces were named."""
    pairs = [(face_ids[i], name) for name, i in result.regions]
    created = [face_ids[i] for _name, i in result.regions
               if result.faces[i].score == 0.0 and face_ids[i] in inserted]
    return people.import_names(conn, pairs, created, path)

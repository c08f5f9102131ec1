"""EXIF orientation for normalised boxes.

Regions in XMP are relative to the image as stored (the pixel rows in the file); PhotoFace keeps
faces in the upright frame (EXIF orientation applied, as ``photoface.decode`` shows the photo).
Getting this wrong puts every name of a rotated phone photo beside the face (Immich #12440,
digiKam 372340), so all eight orientations are mapped here and tested.
"""

from __future__ import annotations

# Stored point (u, v) in 0..1 -> upright point, per orientation (Pillow's exif_transpose).
_TO_UPRIGHT = {
    1: lambda u, v: (u, v),
    2: lambda u, v: (1 - u, v),  # mirrored left-right
    3: lambda u, v: (1 - u, 1 - v),  # rotated 180
    4: lambda u, v: (u, 1 - v),  # mirrored top-bottom
    5: lambda u, v: (v, u),  # transposed
    6: lambda u, v: (1 - v, u),  # stored rotated 90 counter-clockwise: shown turned clockwise
    7: lambda u, v: (1 - v, 1 - u),  # transversed
    8: lambda u, v: (v, 1 - u),  # stored rotated 90 clockwise
}
# Each mapping undoes itself except the two quarter turns, which undo each other.
_INVERSE = {1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 8, 7: 7, 8: 6}


def _map(box, fn):
    x, y, w, h = box
    (ax, ay), (bx, by) = fn(x, y), fn(x + w, y + h)
    return min(ax, bx), min(ay, by), abs(bx - ax), abs(by - ay)


def to_upright(box, orientation: int):
    """A normalised (x, y, w, h) box (top-left corner) in the stored frame -> the upright frame."""
    return _map(box, _TO_UPRIGHT.get(orientation, _TO_UPRIGHT[1]))


def to_stored(box, orientation: int):
    """The inverse of :func:`to_upright`."""
    return _map(box, _TO_UPRIGHT[_INVERSE.get(orientation, 1)])


def stored_size(upright_size, orientation: int) -> tuple[int, int]:
    """(width, height) as stored, from the upright size: orientations 5-8 swap them."""
    w, h = upright_size
    return (h, w) if orientation >= 5 else (w, h)

"""Face crops and photo previews, made on worker threads and kept in a bounded cache.

``face_crop`` and ``photo_preview`` run on a worker thread (they decode with the core's
``photoface.decode``, so EXIF orientation and face boxes agree with the scan). ``ImageLoader``
queues requests newest first, so the tiles on screen load before the ones scrolled past, and
posts each finished QImage back to the GUI thread with a signal.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Callable, Hashable

import numpy as np
from PIL import Image
from PySide6.QtCore import QObject, QRectF, QThreadPool, Signal, Slot
from PySide6.QtGui import QColor, QImage, QPainter, QPen

from ..decode import decode_bytes, read_header

FACE_MARGIN = 0.35  # a face crop shows this much of the box's size around it, on every side
_PAD = (64, 64, 64)  # a crop that misses the photo entirely (a box outside it)
_DECODE_SIDES = (256, 512, 1024, 2048, 4096)


class _Decoded:
    """A few recently decoded photos, so several faces of one photo decode it once."""

    def __init__(self, size: int = 6):
        self._items: OrderedDict = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, path: str, need_side):
        """(rgb pixels, original width, original height), the longer side at least ``need_side``
        (a number, or a function of the original's longer side)."""
        data = Path(path).read_bytes()
        header = read_header(data, path)
        ow, oh = header.oriented_size
        longest = max(ow, oh)
        if callable(need_side):
            need_side = need_side(longest)
        side = next((s for s in _DECODE_SIDES if s >= need_side), longest)
        side = min(side, longest)
        key = (path, side, len(data))
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
                return hit
        decoded = decode_bytes(data, path=path, max_side=side)
        value = (decoded.pixels, ow, oh)
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return value


_decoded = _Decoded()


def face_crop(path: str, box, size: int) -> QImage:
    """A square ``size`` px crop around a face box (original photo pixels), with a margin. Near an
    edge the square slides inward (the face off centre) rather than showing a block of padding;
    only a face larger than the photo's shorter side is padded, with the edge pixels."""
    x, y, w, h = (float(v) for v in box)
    side = max(w, h) * (1 + 2 * FACE_MARGIN)
    # Decode only as large as the crop needs: a 12 MP photo is rarely decoded at full size.
    pixels, ow, oh = _decoded.get(path, lambda longest: int(math.ceil(longest * size / max(side, 1.0))))
    sx, sy = pixels.shape[1] / ow, pixels.shape[0] / oh
    ih, iw = pixels.shape[:2]
    cx, cy = (x + w / 2) * sx, (y + h / 2) * sy
    # The margin may shrink to fit the photo, never the face.
    crop_side = max(min(side * sx, iw, ih), max(w, h) * sx)
    half = crop_side / 2
    cx = min(max(cx, half), max(iw - half, half))
    cy = min(max(cy, half), max(ih - half, half))
    x0, y0 = int(round(cx - half)), int(round(cy - half))
    x1, y1 = int(round(cx + half)), int(round(cy + half))
    crop = pixels[max(y0, 0):min(y1, ih), max(x0, 0):min(x1, iw)]
    if crop.size == 0:
        crop = np.full((size, size, 3), _PAD, np.uint8)
    else:
        pad = ((max(-y0, 0), max(y1 - ih, 0)), (max(-x0, 0), max(x1 - iw, 0)), (0, 0))
        if any(any(p) for p in pad):
            crop = np.pad(crop, pad, mode="edge")
    return to_qimage(_resize(crop, size, size))


def _resize(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    """Area averaging when shrinking, bicubic when enlarging (as a photo viewer does)."""
    if rgb.shape[1] == width and rgb.shape[0] == height:
        return rgb
    shrink = width < rgb.shape[1]
    filt = Image.Resampling.BOX if shrink else Image.Resampling.BICUBIC
    return np.asarray(Image.fromarray(np.ascontiguousarray(rgb)).resize((width, height), filt))


def photo_preview(path: str, max_side: int, highlight=None) -> QImage:
    """The photo with its longer side at most ``max_side``; ``highlight`` (a face box in original
    pixels) is outlined. The original size is kept as the image's "width"/"height" text."""
    pixels, ow, oh = _decoded.get(path, max_side)
    if max(pixels.shape[:2]) > max_side:
        k = max_side / max(pixels.shape[:2])
        pixels = _resize(pixels, max(1, round(pixels.shape[1] * k)), max(1, round(pixels.shape[0] * k)))
    image = to_qimage(pixels)
    image.setText("width", str(ow))
    image.setText("height", str(oh))
    if highlight is not None:
        k = image.width() / ow
        x, y, w, h = (float(v) * k for v in highlight)
        painter = QPainter(image)  # painting on a QImage is allowed off the GUI thread
        painter.setRenderHint(QPainter.Antialiasing)
        pen_w = max(2.0, image.width() / 120)
        painter.setPen(QPen(QColor(0, 0, 0, 140), pen_w + 2))
        painter.drawRoundedRect(QRectF(x, y, w, h), 4, 4)
        painter.setPen(QPen(QColor("#ffcc33"), pen_w))
        painter.drawRoundedRect(QRectF(x, y, w, h), 4, 4)
        painter.end()
    return image


def to_qimage(rgb: np.ndarray) -> QImage:
    rgb = np.ascontiguousarray(rgb)
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format_RGB888).copy()  # own the pixels


class ImageLoader(QObject):
    """Loads images on worker threads (newest request first) into a byte-bounded LRU cache.

    ``image(key, make)`` returns the cached image or ``None``, queueing ``make()`` (run on a
    worker thread) in the second case; ``ready(key)`` is emitted on the GUI thread once it is in.
    A request that fails is remembered, so a broken photo is not retried on every repaint.
    """

    ready = Signal(object)
    _loaded = Signal(object, object)  # key, QImage or an exception: from worker threads

    def __init__(self, threads: int = 2, max_bytes: int = 160 << 20, max_pending: int = 400, parent=None):
        super().__init__(parent)
        self._cache: OrderedDict[Hashable, QImage] = OrderedDict()
        self._bytes = 0
        self._max_bytes = max_bytes
        self._failed: set = set()
        self._lock = threading.Lock()
        self._pending: OrderedDict[Hashable, Callable[[], QImage]] = OrderedDict()  # newest last
        self._running: set = set()
        self._max_pending = max_pending
        self._threads = threads
        self._active = 0
        self._closed = False
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(threads)
        self._loaded.connect(self._store)

    # -- GUI thread ---------------------------------------------------------------------------
    def image(self, key: Hashable, make: Callable[[], QImage] | None = None) -> QImage | None:
        img = self._cache.get(key)
        if img is not None:
            self._cache.move_to_end(key)
            return img
        if make is not None and key not in self._failed:
            self._request(key, make)
        return None

    def failed(self, key: Hashable) -> bool:
        return key in self._failed

    @property
    def idle(self) -> bool:
        with self._lock:
            return not self._pending and not self._running

    def clear(self) -> None:
        self._cache.clear()
        self._bytes = 0
        self._failed.clear()

    def shutdown(self) -> None:
        with self._lock:
            self._closed = True
            self._pending.clear()
        self._pool.waitForDone()

    def _request(self, key, make) -> None:
        with self._lock:
            if self._closed or key in self._running:
                return
            self._pending[key] = make
            self._pending.move_to_end(key)
            while len(self._pending) > self._max_pending:
                self._pending.popitem(last=False)  # scrolled past long ago: asked again if shown
            if self._active >= self._threads:
                return
            self._active += 1
        self._pool.start(self._drain)

    @Slot(object, object)
    def _store(self, key, result) -> None:
        with self._lock:
            self._running.discard(key)
        if isinstance(result, BaseException) or result is None or result.isNull():
            self._failed.add(key)
        else:
            old = self._cache.pop(key, None)
            if old is not None:
                self._bytes -= old.sizeInBytes()
            self._cache[key] = result
            self._bytes += result.sizeInBytes()
            while self._bytes > self._max_bytes and len(self._cache) > 1:
                _, dropped = self._cache.popitem(last=False)
                self._bytes -= dropped.sizeInBytes()
        self.ready.emit(key)

    # -- worker threads -----------------------------------------------------------------------
    def _drain(self) -> None:
        while True:
            with self._lock:
                if not self._pending or self._closed:
                    self._active -= 1
                    return
                key, make = self._pending.popitem(last=True)  # newest first: what is on screen
                self._running.add(key)
            try:
                result = make()
            except Exception as exc:  # an unreadable photo: a placeholder, never a crash
                result = exc
            self._loaded.emit(key, result)


def face_key(face_id: int, path: str, box, size: int) -> tuple:
    return ("face", int(face_id), path, tuple(float(v) for v in box), size)


def face_request(face_id: int, path: str, box, size: int):
    """(key, make) for a face crop: ``loader.image(*face_request(...))``."""
    box = tuple(float(v) for v in box)
    return face_key(face_id, path, box, size), lambda: face_crop(path, box, size)


def preview_request(path: str, max_side: int, highlight=None):
    hl = tuple(float(v) for v in highlight) if highlight is not None else None
    return ("photo", path, max_side, hl), lambda: photo_preview(path, max_side, hl)


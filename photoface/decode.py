"""Decode a photo file into an upright RGB image at (about) the size detection works at.

Everything that can go wrong with a file ends here as one :class:`DecodeError` naming the file and
the reason, so a scan can record it and move on. The header is read first (Pillow reads only the
header on ``open``), which gives the format, the size for the decompression-bomb check and the EXIF
orientation before a single pixel is decoded. Pixels are decoded by OpenCV, which for JPEG can
decode straight to 1/2, 1/4 or 1/8 size: a 12 MP photo is never decoded at full size when the
detector only needs 1600 px.
"""

from __future__ import annotations

import io
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from .errors import DecodeError

SUPPORTED_FORMATS = {"JPEG", "PNG", "WEBP", "BMP", "TIFF", "MPO"}

# Refuse images above this many pixels before decoding them (a 40000x40000 PNG header would
# otherwise ask for 4.8 GB). 200 MP admits every camera and most panoramas.
DEFAULT_MAX_PIXELS = 200_000_000

_EXIF_ORIENTATION = 0x0112

_REDUCED_FLAGS = {
    1: cv2.IMREAD_COLOR,
    2: cv2.IMREAD_REDUCED_COLOR_2,
    4: cv2.IMREAD_REDUCED_COLOR_4,
    8: cv2.IMREAD_REDUCED_COLOR_8,
}


@dataclass(frozen=True)
class DecodedImage:
    """An upright RGB uint8 image plus the size of the original (oriented) photo.

    ``pixels`` may be smaller than the original; ``to_original`` maps its coordinates back.
    """

    pixels: np.ndarray  # (h, w, 3) RGB uint8, EXIF orientation applied
    original_size: tuple[int, int]  # (width, height) of the oriented original photo
    format: str
    orientation: int = 1

    @property
    def size(self) -> tuple[int, int]:
        return self.pixels.shape[1], self.pixels.shape[0]

    @property
    def scale(self) -> tuple[float, float]:
        """(sx, sy): original pixels per decoded pixel."""
        return (
            self.original_size[0] / self.pixels.shape[1],
            self.original_size[1] / self.pixels.shape[0],
        )


@dataclass(frozen=True)
class ImageHeader:
    format: str
    width: int  # as stored, before orientation
    height: int
    mode: str
    orientation: int

    @property
    def oriented_size(self) -> tuple[int, int]:
        # Orientations 5-8 swap width and height.
        return (self.height, self.width) if self.orientation >= 5 else (self.width, self.height)


def read_header(data: bytes, path: str | os.PathLike = "<bytes>") -> ImageHeader:
    """Read format, size, mode and EXIF orientation without decoding pixels."""
    from PIL import Image, UnidentifiedImageError

    if not data:
        raise DecodeError(path, "the file is empty")
    try:
        with warnings.catch_warnings():
            # Our own pixel limit applies; Pillow's bomb warning would only repeat it.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as im:
                fmt = (im.format or "").upper()
                width, height = im.size
                mode = im.mode
                orientation = _orientation(im)
    except UnidentifiedImageError:
        raise DecodeError(path, "not an image in a supported format") from None
    except Image.DecompressionBombError as exc:
        raise DecodeError(path, f"image is too large ({exc})") from None
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise DecodeError(path, f"unreadable image header ({exc})") from None
    if fmt not in SUPPORTED_FORMATS:
        raise DecodeError(path, f"unsupported image format {fmt or 'unknown'}")
    if width < 1 or height < 1:
        raise DecodeError(path, f"invalid image size {width}x{height}")
    return ImageHeader(fmt, width, height, mode, orientation)


def _orientation(im) -> int:
    try:
        value = int(im.getexif().get(_EXIF_ORIENTATION, 1))
    except Exception:  # a broken EXIF block must not lose the photo
        return 1
    return value if 1 <= value <= 8 else 1


def decode_file(
    path: str | os.PathLike,
    max_side: int | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> DecodedImage:
    """Read and decode ``path``; see :func:`decode_bytes`."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise DecodeError(path, "file not found") from None
    except IsADirectoryError:
        raise DecodeError(path, "is a folder, not a photo") from None
    except PermissionError:
        raise DecodeError(path, "permission denied") from None
    except OSError as exc:
        raise DecodeError(path, f"cannot read file ({exc.strerror or exc})") from None
    return decode_bytes(data, path=path, max_side=max_side, max_pixels=max_pixels)


def decode_bytes(
    data: bytes,
    path: str | os.PathLike = "<bytes>",
    max_side: int | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> DecodedImage:
    """Decode an encoded photo to upright RGB.

    With ``max_side``, the result's longer side is at most ``max_side`` pixels (JPEGs are decoded
    at reduced size where that is enough); without it, the full-size image is returned.
    """
    header = read_header(data, path)
    if header.width * header.height > max_pixels:
        raise DecodeError(
            path,
            f"image is too large to open safely ({header.width}x{header.height} pixels, "
            f"limit {max_pixels / 1e6:.0f} megapixels)",
        )
    buf = np.frombuffer(data, dtype=np.uint8)
    flags_extra = cv2.IMREAD_IGNORE_ORIENTATION  # orientation is applied below, for every format
    longest = max(header.width, header.height)
    if header.format in ("JPEG", "MPO") and header.mode != "CMYK":
        factor = _reduction_factor(longest, max_side)
        img = _imdecode(buf, _REDUCED_FLAGS[factor] | flags_extra, path)
    elif header.mode == "CMYK":
        img = _decode_with_pillow(data, path)
    else:
        img = _to_bgr8(_imdecode(buf, cv2.IMREAD_UNCHANGED | flags_extra, path), path)
    img = _apply_orientation(img, header.orientation)
    if max_side and max(img.shape[:2]) > max_side:
        img = _resize_longest(img, max_side)
    rgb = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    return DecodedImage(rgb, header.oriented_size, header.format, header.orientation)


def _reduction_factor(longest: int, max_side: int | None) -> int:
    """Largest JPEG DCT reduction that still leaves at least ``max_side`` pixels."""
    if not max_side:
        return 1
    factor = 1
    for f in (2, 4, 8):
        if longest / f >= max_side:
            factor = f
    return factor


def _imdecode(buf: np.ndarray, flags: int, path) -> np.ndarray:
    try:
        img = cv2.imdecode(buf, flags)
    except cv2.error as exc:
        raise DecodeError(path, f"corrupt image data ({str(exc).strip().splitlines()[-1]})") from None
    if img is None or img.size == 0:
        raise DecodeError(path, "corrupt or truncated image data")
    return img


def _decode_with_pillow(data: bytes, path) -> np.ndarray:
    """CMYK JPEGs: Pillow handles Adobe's inverted CMYK correctly; OpenCV's colours are off."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as im:
            rgb = np.asarray(im.convert("RGB"))
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise DecodeError(path, f"corrupt image data ({exc})") from None
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)


def _to_bgr8(img: np.ndarray, path) -> np.ndarray:
    """Any depth and channel count OpenCV returns with IMREAD_UNCHANGED -> 8-bit BGR."""
    if img.dtype == np.uint16:
        img = (img >> 8).astype(np.uint8)
    elif img.dtype in (np.float32, np.float64):
        scale = 255.0 if float(np.nanmax(img)) <= 1.0 else 1.0
        img = np.clip(np.nan_to_num(img) * scale, 0, 255).astype(np.uint8)
    elif img.dtype != np.uint8:
        img = np.clip(img, 0, 255).astype(np.uint8)
    if img.ndim == 2:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    channels = img.shape[2]
    if channels == 1:
        return cv2.cvtColor(img[:, :, 0], cv2.COLOR_GRAY2BGR)
    if channels == 2:  # grey + alpha
        return _composite_on_white(cv2.cvtColor(img[:, :, 0], cv2.COLOR_GRAY2BGR), img[:, :, 1])
    if channels == 3:
        return img
    if channels == 4:
        return _composite_on_white(img[:, :, :3], img[:, :, 3])
    raise DecodeError(path, f"unsupported channel count {channels}")


def _composite_on_white(bgr: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Transparent areas become white, as an image viewer shows them, not black."""
    a = alpha.astype(np.float32)[:, :, None] / 255.0
    out = bgr.astype(np.float32) * a + 255.0 * (1.0 - a)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def _apply_orientation(img: np.ndarray, orientation: int) -> np.ndarray:
    """Rotate/flip stored pixels so that the image is upright (EXIF orientations 1-8)."""
    if orientation == 2:
        return cv2.flip(img, 1)
    if orientation == 3:
        return cv2.rotate(img, cv2.ROTATE_180)
    if orientation == 4:
        return cv2.flip(img, 0)
    if orientation == 5:
        return cv2.transpose(img)
    if orientation == 6:
        return cv2.rotate(img, cv2.ROTATE_90_CLOCKWISE)
    if orientation == 7:
        return cv2.rotate(cv2.transpose(img), cv2.ROTATE_180)
    if orientation == 8:
        return cv2.rotate(img, cv2.ROTATE_90_COUNTERCLOCKWISE)
    return img


def _resize_longest(img: np.ndarray, max_side: int) -> np.ndarray:
    h, w = img.shape[:2]
    s = max_side / max(h, w)
    size = (max(1, round(w * s)), max(1, round(h * s)))
    # Area averaging for real reductions; bilinear is as good (and 4x faster) for mild ones.
    interp = cv2.INTER_AREA if s < 0.6 else cv2.INTER_LINEAR
    return cv2.resize(img, size, interpolation=interp)

"""Decode a photo file into an upright RGB image at (about) the size detection works at.

Everything that can go wrong with a file ends here as one :class:`DecodeError` naming the file and
the reason, so a scan can record it and move on. The header is read first (Pillow reads only the
header on ``open``), which gives the format, the size for the decompression-bomb check and the EXIF
orientation before a single pixel is decoded. The pixels are decoded by Pillow too, from the same
opened file; for JPEG straight to 1/2, 1/4 or 1/8 size (libjpeg's DCT scaling, ``Image.draft``):
a 12 MP photo is never decoded at full size when the detector only needs 1600 px. (No OpenCV: the
app's run time does not need it.)
"""

from __future__ import annotations

import io
import os
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import DecodeError

SUPPORTED_FORMATS = {"JPEG", "PNG", "WEBP", "BMP", "TIFF", "MPO", "AVIF", "HEIF"}

# HEIF photos whose pictures are HEVC (an iPhone's .heic) by their major "ftyp" brand. Pillow
# reads AVIF itself; HEVC needs the optional pillow-heif package, which is neither a requirement
# nor in the desktop bundle: its wheels carry the x265 encoder, which is GPL.
_HEIC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"})
_heif_registered: bool | None = None  # None: not tried yet in this process

# The one pixel limit: images above it are refused from their header, before decoding (a
# 40000x40000 PNG header would otherwise ask for 4.8 GB). It is Pillow's own refusal point
# (2 x Image.MAX_IMAGE_PIXELS), so whichever check sees an image first, the answer is the same:
# 179 MP admits every camera and most panoramas. Decoding stays near 4 bytes a pixel at most
# (alpha is composited in 8 bits, a band at a time): about 0.7 GB at the limit.
DEFAULT_MAX_PIXELS = 178_956_970

# How many bytes of a file tell whether it can be a photo of a supported format (the magic
# numbers below); nothing more is read from a file that cannot.
SNIFF_BYTES = 16
COMPOSITE_ROWS = 256  # rows composited at a time: the 16-bit scratch stays small

_EXIF_ORIENTATION = 0x0112

# Pillow's transposes that make stored pixels upright, per EXIF orientation (2-8).
_TRANSPOSE = {2: "FLIP_LEFT_RIGHT", 3: "ROTATE_180", 4: "FLIP_TOP_BOTTOM", 5: "TRANSPOSE",
              6: "ROTATE_270", 7: "TRANSVERSE", 8: "ROTATE_90"}


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
    im, header = _open(data, path)
    im.close()
    return header


def _open(data: bytes, path):
    """Open ``data`` with Pillow (header only) -> (the open image, its :class:`ImageHeader`)."""
    from PIL import Image, UnidentifiedImageError

    if not data:
        raise DecodeError(path, "the file is empty")
    if _is_heic(data):
        _register_heif()  # Pillow reads HEIC only with pillow-heif's opener
    try:
        with warnings.catch_warnings():
            # Our own pixel limit applies; Pillow's bomb warning would only repeat it.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))
            fmt = (im.format or "").upper()
            width, height = im.size
            mode = im.mode
            orientation = _orientation(im)
    except UnidentifiedImageError:
        if _is_heic(data):
            reason = "corrupt HEIC image data" if _register_heif() else _heic_unreadable_reason()
            raise DecodeError(path, reason) from None
        raise DecodeError(path, "not an image in a supported format") from None
    except Image.DecompressionBombError:
        raise DecodeError(path, f"image is too large to open safely (limit {DEFAULT_MAX_PIXELS / 1e6:.0f} "
                                "megapixels)") from None
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise DecodeError(path, f"unreadable image header ({exc})") from None
    header = ImageHeader(fmt, width, height, mode, orientation)
    if fmt not in SUPPORTED_FORMATS:
        im.close()
        raise DecodeError(path, f"unsupported image format {fmt or 'unknown'}")
    if width < 1 or height < 1:
        im.close()
        raise DecodeError(path, f"invalid image size {width}x{height}")
    return im, header


def readable_formats() -> list[str]:
    """The photo formats this installation reads (the self-test prints them)."""
    from PIL import features

    names = ["JPEG", "PNG", "BMP", "TIFF"]
    names += [name for name, feature in (("WebP", "webp"), ("AVIF", "avif")) if features.check(feature)]
    if _register_heif():
        names.append("HEIC")
    return names


def _is_heic(data: bytes) -> bool:
    return data[4:8] == b"ftyp" and data[8:12] in _HEIC_BRANDS


def _heic_unreadable_reason() -> str:
    if getattr(sys, "frozen", False):  # the desktop bundle leaves pillow-heif out (GPL x265)
        return "a HEIC photo: this build of PhotoFace cannot read HEIC; export the photo as JPEG to include it"
    return "a HEIC photo: reading it needs the optional pillow-heif package (pip install pillow-heif)"


def _register_heif() -> bool:
    """Teach Pillow HEIF/HEIC once per process, if pillow-heif is installed."""
    global _heif_registered
    if _heif_registered is None:
        try:
            import pillow_heif

            pillow_heif.register_heif_opener()
            _heif_registered = True
        except Exception:  # not installed, or a broken install: the photo is reported, not lost
            _heif_registered = False
    return _heif_registered


def _orientation(im) -> int:
    try:
        value = int(im.getexif().get(_EXIF_ORIENTATION, 1))
    except Exception:  # a broken EXIF block must not lose the photo
        return 1
    return value if 1 <= value <= 8 else 1


def looks_like_a_photo(head: bytes) -> bool:
    """Whether a file's first ``SNIFF_BYTES`` can begin a photo of a supported format."""
    return (
        head[:3] == b"\xff\xd8\xff"  # JPEG, MPO
        or head[:8] == b"\x89PNG\r\n\x1a\n"
        or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")
        or head[:2] == b"BM"
        or head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")  # TIFF, BigTIFF
        or head[4:8] == b"ftyp"  # AVIF, HEIF
    )


def read_photo(path: str | os.PathLike) -> bytes:
    """A photo file's bytes, or ``DecodeError``: the header is checked first, so that a large
    file that is not a photo (a video, a disk image named .jpg) is never read whole."""
    with open(path, "rb") as f:
        head = f.read(SNIFF_BYTES)
        if not head:
            raise DecodeError(path, "the file is empty")
        if not looks_like_a_photo(head):
            known = "GIF" if head[:4] == b"GIF8" else None  # an image, just not one of ours
            raise DecodeError(path, f"unsupported image format {known}" if known else "not an image in a supported format")
        return head + f.read()


def decode_file(
    path: str | os.PathLike,
    max_side: int | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    slack: float = 1.0,
) -> DecodedImage:
    """Read and decode ``path``; see :func:`decode_bytes`."""
    try:
        data = read_photo(path)
    except FileNotFoundError:
        raise DecodeError(path, "file not found") from None
    except IsADirectoryError:
        raise DecodeError(path, "is a folder, not a photo") from None
    except PermissionError:
        raise DecodeError(path, "permission denied") from None
    except OSError as exc:
        raise DecodeError(path, f"cannot read file ({exc.strerror or exc})") from None
    return decode_bytes(data, path=path, max_side=max_side, max_pixels=max_pixels, slack=slack)


def decode_bytes(
    data: bytes,
    path: str | os.PathLike = "<bytes>",
    max_side: int | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    slack: float = 1.0,
) -> DecodedImage:
    """Decode an encoded photo to upright RGB.

    With ``max_side``, the result's longer side is at most ``max_side`` pixels (JPEGs are decoded
    at reduced size where that is enough); without it, the full-size image is returned. With
    ``slack`` > 1, a JPEG that libjpeg's reduced decode brings within ``slack * max_side`` is kept
    at that size instead of being resized (a 4032x3024 photo: 2016x1512 as decoded).
    """
    from PIL import Image

    im, header = _open(data, path)
    with im:
        if header.width * header.height > max_pixels:
            raise DecodeError(
                path,
                f"image is too large to open safely ({header.width}x{header.height} pixels, "
                f"limit {max_pixels / 1e6:.0f} megapixels)",
            )
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                if header.format in ("JPEG", "MPO"):
                    factor = _reduction_factor(max(header.width, header.height), max_side)
                    if factor > 1:
                        # libjpeg scales by the largest of 1/2, 1/4, 1/8 that keeps this size.
                        im.draft(im.mode, (header.width // factor, header.height // factor))
                im.load()
                img = _to_rgb8(im, path)
            img = _apply_orientation(img, header.orientation)
            reduced = max(img.size) < max(header.width, header.height)
            if max_side and max(img.size) > max_side * (slack if reduced else 1.0):
                img = _resize_longest(img, max_side)
            rgb = np.array(img)  # a writable copy, owned by NumPy
        except DecodeError:
            raise
        except MemoryError:
            raise DecodeError(path, "not enough memory to decode the image") from None
        except Exception as exc:  # Pillow's decoders raise many kinds on broken data
            if "truncated" in str(exc):
                raise DecodeError(path, "corrupt or truncated image data") from None
            reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
            raise DecodeError(path, f"corrupt image data ({reason})") from None
    if rgb.size == 0:
        raise DecodeError(path, "corrupt or truncated image data")
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


def _to_rgb8(im, path):
    """Any mode Pillow decodes to (grey, palette, 16-bit, float, alpha, CMYK...) -> 8-bit RGB.

    16-bit samples keep their high byte; float images in [0, 1] are scaled to [0, 255]; anything
    with transparency is composited on white. CMYK JPEGs (Adobe's inverted ones too) are
    converted by Pillow.
    """
    from PIL import Image

    mode = im.mode
    if mode == "RGB":
        return im
    if mode in ("RGBA", "LA", "PA", "La", "RGBa") or (
        mode in ("P", "L", "RGB", "1") and "transparency" in im.info
    ):
        rgba = im if mode == "RGBA" else im.convert("RGBA")
        # A band at a time: a whole 169 MP image in floats took 8 GB.
        width, height = rgba.size
        out = np.empty((height, width, 3), np.uint8)
        for top in range(0, height, COMPOSITE_ROWS):
            band = np.asarray(rgba.crop((0, top, width, min(height, top + COMPOSITE_ROWS))))
            out[top:top + len(band)] = _composite_on_white(band[:, :, :3], band[:, :, 3])
        return Image.fromarray(out)
    if mode.startswith("I;16"):
        grey = (np.asarray(im).astype(np.uint16) >> 8).astype(np.uint8)
        return Image.fromarray(grey).convert("RGB")
    if mode == "I":
        grey = np.clip(np.asarray(im), 0, 255).astype(np.uint8)
        return Image.fromarray(grey).convert("RGB")
    if mode == "F":
        x = np.asarray(im, dtype=np.float32)
        finite = x[np.isfinite(x)]
        scale = 255.0 if finite.size and float(finite.max()) <= 1.0 else 1.0
        grey = np.clip(np.nan_to_num(x) * scale, 0, 255).astype(np.uint8)
        return Image.fromarray(grey).convert("RGB")
    if mode in ("L", "1", "P", "CMYK", "YCbCr", "LAB", "HSV", "RGBX"):
        return im.convert("RGB")
    raise DecodeError(path, f"unsupported image mode {mode}")


def _composite_on_white(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Transparent areas become white, as an image viewer shows them, not black. In integers:
    (rgb * a + 255 * (255 - a)) / 255, rounded, fits 16 bits."""
    a = alpha.astype(np.uint16)[:, :, None]
    out = rgb.astype(np.uint16) * a + 255 * (255 - a) + 127
    return (out // 255).astype(np.uint8)


def _apply_orientation(img, orientation: int):
    """Rotate/flip stored pixels (a Pillow image) so that it is upright (EXIF orientations 1-8)."""
    from PIL import Image

    name = _TRANSPOSE.get(orientation)
    return img.transpose(getattr(Image.Transpose, name)) if name else img


def _resize_longest(img, max_side: int):
    w, h = img.size
    s = max_side / max(h, w)
    size = (max(1, round(w * s)), max(1, round(h * s)))
    from PIL import Image

    # Box (area averaging, like OpenCV's INTER_AREA) for every reduction: as sharp as an
    # antialiased bilinear here and faster (28 against 39 ms for 2000x1500 -> 1600x1200).
    resample = Image.Resampling.BOX if s < 1 else Image.Resampling.BILINEAR
    return img.resize(size, resample)

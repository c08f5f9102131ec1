"""Decoding: every kind of photo works or raises one typed error naming the file."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image

from photoface.decode import decode_bytes, decode_file
from photoface.errors import DecodeError


def jpeg_bytes(rgb: np.ndarray, quality: int = 95, **save) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=quality, **save)
    return buf.getvalue()


def png_bytes(array: np.ndarray) -> bytes:
    ok, enc = cv2.imencode(".png", array)
    assert ok
    return enc.tobytes()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height, with no real pixel data behind it."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 16)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def blocks_image() -> np.ndarray:
    """An asymmetric image of flat blocks (JPEG keeps it nearly exact): orientation shows."""
    img = np.zeros((60, 90, 3), np.uint8)
    img[:30, :45] = (255, 0, 0)
    img[:30, 45:] = (0, 255, 0)
    img[30:, :30] = (0, 0, 255)
    img[30:, 30:] = (255, 255, 255)
    return img


def test_jpeg_decodes_to_rgb(astronaut, tmp_path):
    path = tmp_path / "a.jpg"
    path.write_bytes(jpeg_bytes(astronaut))
    img = decode_file(path)
    assert img.pixels.shape == astronaut.shape
    assert img.original_size == (512, 512)
    assert np.abs(img.pixels.astype(int) - astronaut).mean() < 4  # RGB order, not BGR


def test_large_jpeg_is_decoded_reduced_and_maps_back(astronaut, tmp_path):
    big = cv2.resize(astronaut, (3000, 2000))
    path = tmp_path / "big.jpg"
    path.write_bytes(jpeg_bytes(big, quality=90))
    img = decode_file(path, max_side=800)
    assert max(img.size) == 800
    assert img.original_size == (3000, 2000)
    assert img.scale == pytest.approx((3000 / 800, 2000 / img.size[1]))


def test_a_jpeg_the_reduced_decode_brings_near_the_size_is_not_resized(astronaut):
    """A 12 MP phone photo (4032x3024) decodes at half size, 2016x1512, within a slack of 1.3
    of 1600; a PNG (no reduced decode) and a JPEG whose half size is beyond it are resized."""
    phone = jpeg_bytes(cv2.resize(astronaut, (4032, 3024)), quality=85)
    assert decode_bytes(phone, max_side=1600, slack=1.3).size == (2016, 1512)
    assert decode_bytes(phone, max_side=1600).size == (1600, 1200)
    assert decode_bytes(jpeg_bytes(cv2.resize(astronaut, (5472, 3648))), max_side=1600, slack=1.3).size == (1600, 1067)
    assert decode_bytes(png_bytes(cv2.resize(astronaut, (2000, 1500))), max_side=1600, slack=1.3).size == (1600, 1200)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_is_applied(orientation):
    upright = blocks_image()
    # Store the pixels as a camera would: the inverse of the transform the tag asks for.
    stored = {
        1: upright,
        2: upright[:, ::-1],
        3: upright[::-1, ::-1],
        4: upright[::-1, :],
        5: upright.transpose(1, 0, 2),
        6: np.rot90(upright, 1),  # tag 6 = rotate 90 CW to view
        7: np.rot90(upright, 2).transpose(1, 0, 2),
        8: np.rot90(upright, -1),
    }[orientation]
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = jpeg_bytes(np.ascontiguousarray(stored), quality=100, exif=exif.tobytes())
    img = decode_bytes(data, path=f"o{orientation}.jpg")
    assert img.orientation == orientation
    assert img.pixels.shape == upright.shape
    assert img.original_size == (90, 60)
    assert np.abs(img.pixels.astype(int) - upright).mean() < 6


def test_cmyk_jpeg_keeps_its_colours(astronaut):
    buf = io.BytesIO()
    Image.fromarray(astronaut).convert("CMYK").save(buf, format="JPEG", quality=95)
    img = decode_bytes(buf.getvalue(), path="cmyk.jpg")
    assert img.pixels.shape == astronaut.shape
    assert np.abs(img.pixels.astype(int) - astronaut).mean() < 12


def test_grayscale_jpeg_becomes_three_channels(astronaut):
    gray = cv2.cvtColor(astronaut, cv2.COLOR_RGB2GRAY)
    buf = io.BytesIO()
    Image.fromarray(gray).save(buf, format="JPEG")
    img = decode_bytes(buf.getvalue())
    assert img.pixels.shape == (512, 512, 3)


def test_png_alpha_is_composited_on_white():
    bgra = np.zeros((40, 40, 4), np.uint8)
    bgra[:, :20] = (0, 0, 255, 255)  # opaque red (BGR order for OpenCV)
    bgra[:, 20:] = (0, 0, 0, 0)  # fully transparent black
    img = decode_bytes(png_bytes(bgra), path="alpha.png")
    assert tuple(img.pixels[10, 5]) == (255, 0, 0)
    assert tuple(img.pixels[10, 30]) == (255, 255, 255)


def test_16bit_png_is_scaled_to_8bit():
    img16 = np.full((20, 30, 3), 40000, np.uint16)
    img = decode_bytes(png_bytes(img16), path="deep.png")
    assert img.pixels.dtype == np.uint8
    assert abs(int(img.pixels[0, 0, 0]) - 40000 // 256) <= 1


def test_16bit_grayscale_png():
    img = decode_bytes(png_bytes(np.full((20, 30), 65535, np.uint16)), path="deep_gray.png")
    assert img.pixels.shape == (20, 30, 3)
    assert img.pixels.max() == 255


@pytest.mark.parametrize("ext", [".webp", ".bmp", ".tiff"])
def test_other_formats(astronaut, ext):
    ok, enc = cv2.imencode(ext, cv2.cvtColor(astronaut, cv2.COLOR_RGB2BGR))
    assert ok
    img = decode_bytes(enc.tobytes(), path="x" + ext)
    assert img.pixels.shape == astronaut.shape


def test_one_pixel_image_decodes_and_has_no_face(detector):
    img = decode_bytes(png_bytes(np.zeros((1, 1, 3), np.uint8)), path="dot.png")
    assert img.size == (1, 1)
    assert detector.detect(img) == []


def test_decompression_bomb_is_refused_before_decoding():
    with pytest.raises(DecodeError, match="too large") as info:
        decode_bytes(png_header_only(40000, 40000), path="bomb.png")
    assert info.value.path == "bomb.png"


@pytest.mark.parametrize(
    "name, data, reason",
    [
        ("empty.jpg", b"", "empty"),
        ("notes.jpg", b"this is a text file, not a photo\n" * 10, "not an image"),
        ("anim.gif", "gif", "unsupported image format GIF"),
    ],
)
def test_bad_files_raise_typed_error_naming_the_file(tmp_path, name, data, reason):
    path = tmp_path / name
    if data == "gif":
        Image.new("RGB", (8, 8)).save(path, format="GIF")
    else:
        path.write_bytes(data)
    with pytest.raises(DecodeError, match=reason) as info:
        decode_file(path)
    assert str(path) in str(info.value)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(DecodeError, match="not found"):
        decode_file(tmp_path / "nope.jpg")
    with pytest.raises(DecodeError, match="folder"):
        decode_file(tmp_path)


def test_truncated_jpeg_works_or_raises_typed_error(astronaut):
    data = jpeg_bytes(astronaut)
    for cut in (20, 200, len(data) // 3, len(data) // 2, len(data) - 10):
        try:
            img = decode_bytes(data[:cut], path="cut.jpg")
        except DecodeError as exc:
            assert exc.path == "cut.jpg"
        else:
            assert img.pixels.shape == astronaut.shape


def test_corrupted_bytes_never_escape_as_other_errors(astronaut):
    data = bytearray(jpeg_bytes(astronaut, quality=80))
    rng = np.random.default_rng(0)
    for _ in range(40):
        broken = bytearray(data)
        for pos in rng.integers(0, len(broken), size=20):
            broken[pos] = rng.integers(0, 256)
        try:
            decode_bytes(bytes(broken), path="broken.jpg", max_side=256)
        except DecodeError:
            pass


def test_bad_inputs_do_not_crash_a_process(tmp_path, astronaut):
    """The whole set through the CLI in a fresh process: messages, exit 1, no traceback."""
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "text.jpg").write_text("hello")
    (tmp_path / "bomb.png").write_bytes(png_header_only(40000, 40000))
    good = jpeg_bytes(astronaut)
    (tmp_path / "cut.jpg").write_bytes(good[: len(good) // 2])
    (tmp_path / "good.jpg").write_bytes(good)
    files = [str(tmp_path / n) for n in ("empty.jpg", "text.jpg", "bomb.png", "cut.jpg", "good.jpg")]
    proc = subprocess.run(
        [sys.executable, "-m", "photoface", "detect", *files], capture_output=True, text=True
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    for name in ("empty.jpg", "text.jpg", "bomb.png"):
        assert f"photoface: error: {tmp_path / name}: " in proc.stderr
    # Half a JPEG may decode (grey bottom half) or be refused; either way it is reported once.
    assert "cut.jpg" in proc.stdout + proc.stderr
    assert "good.jpg (512x512): 1 face" in proc.stdout


def _heic_bytes(rgb: np.ndarray, **save) -> bytes:
    pillow_heif = pytest.importorskip("pillow_heif", reason="pillow-heif is not installed (pip install pillow-heif)")
    buf = io.BytesIO()
    pillow_heif.from_pillow(Image.fromarray(rgb)).save(buf, quality=90, **save)
    return buf.getvalue()


def test_avif_decodes(astronaut):
    buf = io.BytesIO()
    Image.fromarray(astronaut).save(buf, format="AVIF", quality=90)
    img = decode_bytes(buf.getvalue(), path="phone.avif")
    assert img.format == "AVIF" and img.pixels.shape == astronaut.shape
    assert np.abs(img.pixels.astype(int) - astronaut).mean() < 6


def test_heic_from_a_phone_decodes_upright(astronaut):
    tall = np.ascontiguousarray(astronaut[:, :400])  # 512 x 400: a rotation shows in the shape
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways, shown rotated 90 degrees clockwise
    img = decode_bytes(_heic_bytes(tall, exif=exif.tobytes()), path="IMG_0001.HEIC")
    assert img.format == "HEIF"
    assert img.pixels.shape == (400, 512, 3) and img.original_size == (512, 400)
    plain = decode_bytes(_heic_bytes(tall), path="IMG_0002.HEIC")
    assert np.abs(plain.pixels.astype(int) - tall).mean() < 6


def test_broken_heic_is_a_clear_error(astronaut):
    data = _heic_bytes(astronaut)
    with pytest.raises(DecodeError, match="HEIC|corrupt") as info:
        decode_bytes(data[:400], path="cut.heic")
    assert "pillow-heif" not in str(info.value)  # it is installed: the file is at fault


def test_heic_without_pillow_heif_says_what_it_needs(astronaut, tmp_path):
    """Without the optional package a HEIC photo is refused with a message that names it."""
    path = tmp_path / "IMG_0003.HEIC"
    path.write_bytes(_heic_bytes(astronaut))
    code = (
        "import sys; sys.modules['pillow_heif'] = None\n"  # as if it were not installed
        "from photoface.decode import decode_file\n"
        "from photoface.errors import DecodeError\n"
        f"try:\n    decode_file({str(path)!r})\nexcept DecodeError as exc:\n    print(exc)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert f"{path}: a HEIC photo: reading it needs the optional pillow-heif package" in proc.stdout


def test_alpha_is_composited_in_eight_bits_a_band_at_a_time():
    """A 169 MP RGBA PNG took 8 GB in floats; the NumPy memory is now about the RGB result's."""
    import tracemalloc

    from PIL import Image

    from photoface.decode import _to_rgb8

    rng = np.random.default_rng(0)
    h, w = 2000, 1500
    rgba = rng.integers(0, 256, size=(h, w, 4), dtype=np.uint8)
    im = Image.fromarray(rgba, "RGBA")
    tracemalloc.start()
    out = np.asarray(_to_rgb8(im, "big.png"))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # The result, and the test's own copy of it (np.asarray); floats took about fourteen times that.
    assert peak < 2.5 * h * w * 3, f"{peak / 1e6:.0f} MB for a {h * w * 3 / 1e6:.0f} MB result"
    a = rgba[:, :, 3:4] / 255.0
    exact = rgba[:, :, :3] * a + 255 * (1 - a)
    assert np.abs(out.astype(float) - exact).max() <= 0.5 + 1e-9


def test_one_pixel_limit_whichever_check_sees_the_image():
    from photoface.decode import DEFAULT_MAX_PIXELS

    # Just above Pillow's own refusal point, and far above: the same message and limit.
    for side in (13_400, 40_000):
        with pytest.raises(DecodeError, match=f"too large to open safely.*limit {DEFAULT_MAX_PIXELS / 1e6:.0f} megapixels"):
            decode_bytes(png_header_only(side, side), path="big.png")


def test_a_large_file_that_is_not_a_photo_is_never_read_whole(tmp_path):
    import tracemalloc

    from photoface.decode import decode_file

    path = tmp_path / "video.jpg"
    with open(path, "wb") as f:  # sparse: 300 MB on paper, nothing on disk
        f.write(b"\x00\x00\x00\x20moov")
        f.truncate(300_000_000)
    tracemalloc.start()
    with pytest.raises(DecodeError, match="not an image"):
        decode_file(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 10_000_000

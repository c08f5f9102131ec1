"""The few pixel operations the app needs, in NumPy and Pillow (no OpenCV at run time).

* :func:`resize_area` – exact area averaging (what OpenCV calls ``INTER_AREA`` when shrinking):
  each output pixel is the mean of the source area it covers, fractional pixels weighted by the
  fraction covered, for any (non-integer) scale. For small images (a face's region): slower than
  Pillow's box filter, which only takes the pixels whose centres are covered.
* :func:`sample_bilinear` / :func:`sample_grid` – bilinear sampling at arbitrary points (or on
  the separable grids of axis-aligned boxes), with a constant colour outside
  the image that blends in over the last pixel (OpenCV's ``remap``/``warpAffine`` with
  ``BORDER_CONSTANT``, but in floating point rather than 1/32-pixel steps).
* :func:`warp_affine` – ``warpAffine`` on top of it: the output pixel ``(u, v)`` takes the source
  pixel ``M^-1 (u, v)``, pixel centres on integer coordinates.
* :func:`invert_affine` – the inverse of a 2x3 affine matrix.

Pillow does the rest (decoding, orientation, resizing whole photos): see :mod:`photoface.decode`.
"""

from __future__ import annotations

import numpy as np


def invert_affine(m: np.ndarray) -> np.ndarray:
    """Inverse of a 2x3 affine transform (as a 2x3 matrix)."""
    m = np.asarray(m, dtype=np.float64)
    a = m[:, :2]
    inv_a = np.linalg.inv(a)
    out = np.empty((2, 3))
    out[:, :2] = inv_a
    out[:, 2] = -inv_a @ m[:, 2]
    return out


def _area_axis(x: np.ndarray, n_out: int, axis: int) -> np.ndarray:
    """Area-average ``x`` along ``axis`` to ``n_out`` samples (n_out <= x.shape[axis]), float32.

    Output sample j covers the source interval [e_j, e_j+1), e_j = j * n_in / n_out. With
    i_j = floor(e_j) and f_j = e_j - i_j, its sum is the plain sum of samples i_j .. i_j+1 - 1,
    less f_j of sample i_j, plus f_j+1 of sample i_j+1.
    """
    n_in = x.shape[axis]
    if n_out == n_in:
        return x.astype(np.float32, copy=False)
    if n_in % n_out == 0:  # whole blocks: a plain mean
        k = n_in // n_out
        shape = x.shape[:axis] + (n_out, k) + x.shape[axis + 1 :]
        return x.reshape(shape).mean(axis=axis + 1, dtype=np.float32)
    edges = np.arange(n_out + 1, dtype=np.float64) * (n_in / n_out)
    idx = np.floor(edges).astype(np.intp)
    idx[-1] = n_in
    frac = (edges - idx).astype(np.float32)
    frac[-1] = 0.0
    out = _block_sums(x, idx, axis)
    shape = [1] * x.ndim
    shape[axis] = n_out
    lo = np.take(x, idx[:-1], axis=axis).astype(np.float32)
    lo *= frac[:-1].reshape(shape)
    out -= lo
    inner = frac[1:] > 0  # the last output never reaches past the end
    if inner.any():
        j = np.nonzero(inner)[0]
        hi = np.take(x, idx[1:][j], axis=axis).astype(np.float32)
        hi *= frac[1:][j].reshape([len(j) if a == axis else 1 for a in range(x.ndim)])
        sel = [slice(None)] * x.ndim
        sel[axis] = j
        out[tuple(sel)] += hi
    out *= np.float32(n_out / n_in)
    return out


def _block_sums(x: np.ndarray, idx: np.ndarray, axis: int) -> np.ndarray:
    """float32 sums of the blocks [idx[j], idx[j+1]) of ``x`` along ``axis`` (none empty), as
    ``np.add.reduceat(x, idx[:-1], axis, dtype=float32)`` gives them.

    reduceat loops along ``axis`` one column at a time: 6 ms for the rows of a 600x600 face's
    region. For uint8 (the image's first pass) the sums are exact in float32 in any order, so
    the blocks' k-th rows are added for all blocks at once instead (a block is a few rows):
    whole rows at a time, bit for bit the same. Floats keep reduceat, whose order of additions
    decides their rounding.
    """
    starts, lengths = idx[:-1], np.diff(idx)
    if x.dtype != np.uint8 or lengths.max() > 64:  # (64 x 255 is far inside float32's exact integers)
        return np.add.reduceat(x, starts, axis=axis, dtype=np.float32)
    out = np.take(x, starts, axis=axis).astype(np.float32)
    for k in range(1, int(lengths.max())):
        j = np.flatnonzero(lengths > k)
        if len(j) == len(starts):
            out += np.take(x, starts + k, axis=axis)
        else:
            sel = [slice(None)] * x.ndim
            sel[axis] = j
            out[tuple(sel)] += np.take(x, starts[j] + k, axis=axis)
    return out


def resize_area(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Shrink ``img`` (h x w or h x w x c, uint8) to ``size`` = (width, height) by exact area
    averaging, rounded to the nearest integer. Only for shrinking (each side <= the source's)."""
    w_out, h_out = int(size[0]), int(size[1])
    h, w = img.shape[:2]
    if w_out < 1 or h_out < 1 or w_out > w or h_out > h:
        raise ValueError(f"resize_area shrinks only: {w}x{h} -> {w_out}x{h_out}")
    if (w_out, h_out) == (w, h):
        return img.copy()
    # Rows first (whole rows are added: fast), then the columns of the transposed result.
    x = _area_axis(img, h_out, axis=0)
    x = np.ascontiguousarray(x.swapaxes(0, 1))
    x = _area_axis(x, w_out, axis=0).swapaxes(0, 1)
    x += 0.5
    np.clip(x, 0, 255, out=x)
    return x.astype(np.uint8)


_PAD = 2  # border pixels around an image to sample: a point is never more than 1 px into them


class Padded:
    """An RGB image framed by ``_PAD`` pixels of a constant colour, one uint32 per pixel (RGBX),
    ready for :func:`sample_grid` and :func:`sample_bilinear` (one 4-byte gather per neighbour)."""

    def __init__(self, image: np.ndarray, border_value: float, origin: tuple[int, int] = (0, 0)):
        """``origin``: where ``image`` sits in the frame its sample points are given in (a
        region of a larger image, framed alone: its points need not be moved)."""
        if image.ndim == 2:
            image = image[:, :, None]
        h, w, c = image.shape
        if c > 4:
            raise ValueError(f"at most 4 channels, not {c}")
        buf = np.empty((h + 2 * _PAD, w + 2 * _PAD, 4), dtype=np.uint8)
        # Only the frame takes the border colour; the rest is the image (channels past c unread).
        fill = np.uint8(border_value)
        buf[:_PAD], buf[_PAD + h :], buf[:, :_PAD], buf[:, _PAD + w :] = fill, fill, fill, fill
        if c == 3 and h * w > 1 and image.dtype == np.uint8:
            _copy_rgb_as_rgbx(np.ascontiguousarray(image), buf.view(np.uint32)[_PAD : _PAD + h, _PAD : _PAD + w, 0])
        else:
            buf[_PAD : _PAD + h, _PAD : _PAD + w, :c] = image
        self.flat = buf.reshape(-1).view(np.uint32)
        self.h, self.w, self.channels = h, w, c
        self.stride = w + 2 * _PAD
        self.origin = origin

    def indices(self, xs: np.ndarray, ys: np.ndarray):
        """Clamp points into the frame: top-left neighbour's column/row and the fractions."""
        # The origin is taken off after the padding is added: an integer subtracted from a float32
        # below 2^24 is exact, so a region samples exactly as the whole image would.
        xs = np.clip(np.asarray(xs, dtype=np.float32) + _PAD - self.origin[0], 0, self.w + _PAD)
        ys = np.clip(np.asarray(ys, dtype=np.float32) + _PAD - self.origin[1], 0, self.h + _PAD)
        x0 = np.floor(xs)
        y0 = np.floor(ys)
        return x0.astype(np.intp), y0.astype(np.intp), xs - x0, ys - y0

    def interpolate(self, i00: np.ndarray, ax: np.ndarray, ay: np.ndarray) -> np.ndarray:
        """Bilinear mix of the four neighbours of the flat indices ``i00`` -> uint8 (..., c)."""
        flat, pw, c = self.flat, self.stride, self.channels

        def get(offset: int) -> np.ndarray:
            px = flat[offset:].take(i00).view(np.uint8).reshape(*i00.shape, 4)
            return px[..., :c].astype(np.float32)

        top = get(1)
        p00 = get(0)
        top -= p00
        top *= ax
        top += p00
        bottom = get(pw + 1)
        p10 = get(pw)
        bottom -= p10
        bottom *= ax
        bottom += p10
        bottom -= top
        bottom *= ay
        bottom += top
        bottom += 0.5
        np.clip(bottom, 0, 255, out=bottom)
        return bottom.astype(np.uint8)


def _copy_rgb_as_rgbx(rgb: np.ndarray, out: np.ndarray) -> None:
    """Copy a C-contiguous RGB image (h, w, 3) into ``out``, (h, w) uint32: one pixel each.

    NumPy copies 3-byte pixels into 4-byte ones a byte at a time (15 ms for a working image).
    Read instead as uint32 from each pixel's first byte (R, G, B, then the next pixel's R,
    unread), the copy moves whole pixels (under 1 ms). The last pixel has no byte after it.
    """
    h, w, _ = rgb.shape
    if h > 1:
        out[:-1] = np.ndarray((h - 1, w), np.uint32, buffer=rgb, strides=(3 * w, 3))
    if w > 1:
        out[-1, :-1] = np.ndarray((w - 1,), np.uint32, buffer=rgb, offset=3 * w * (h - 1), strides=(3,))
    out[-1, -1:].view(np.uint8)[:3] = rgb[-1, -1]  # bytes, not a number: any byte order


def pad_for_sampling(image: np.ndarray, border_value: float = 0.0, origin: tuple[int, int] = (0, 0)) -> Padded:
    return Padded(image, border_value, origin)


def sample_span(coords: np.ndarray, size: int) -> tuple[int, int]:
    """The pixel range [lo, hi) of an image axis that bilinear samples at ``coords`` read:
    within the image, possibly empty (all samples outside it take the border colour)."""
    lo = int(min(max(np.floor(coords.min()) - 1, 0), size))
    hi = int(max(min(np.ceil(coords.max()) + 2, size), lo))
    return lo, hi


def sample_grid(padded: Padded, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Bilinear samples on separable grids: ``xs`` (m, nx) and ``ys`` (m, ny) give m grids;
    returns (m, ny, nx, channels) uint8. Pixel centres are at integer coordinates; outside the
    image the border colour, blended in over the image's outermost pixel."""
    x0, y0, ax, ay = padded.indices(xs, ys)
    i00 = (y0 * padded.stride)[:, :, None] + x0[:, None, :]
    return padded.interpolate(i00, ax[:, None, :, None], ay[:, :, None, None])


def sample_bilinear(
    image: np.ndarray | Padded, map_x: np.ndarray, map_y: np.ndarray, border_value: float = 0.0
) -> np.ndarray:
    """Bilinear samples of ``image`` (h x w x c uint8, c <= 4) at the points (map_x, map_y).

    Pixel centres are at integer coordinates. Points outside the image take ``border_value``,
    blended with the image over the one-pixel band along its edge (OpenCV's ``remap`` with
    ``BORDER_CONSTANT``). Returns uint8 with the shape of the maps plus the channels, rounded to
    the nearest integer.
    """
    padded = image if isinstance(image, Padded) else Padded(image, border_value)
    x0, y0, ax, ay = padded.indices(map_x, map_y)
    return padded.interpolate(y0 * padded.stride + x0, ax[..., None], ay[..., None])


def warp_affine(
    image: np.ndarray, m: np.ndarray, size: tuple[int, int], border_value: float = 0.0
) -> np.ndarray:
    """Bilinear affine warp: output pixel (u, v) = ``image`` at ``M^-1 (u, v)``; ``size`` is
    (width, height). Outside the image: ``border_value``."""
    inv = invert_affine(m)
    w_out, h_out = int(size[0]), int(size[1])
    u, v = np.meshgrid(np.arange(w_out, dtype=np.float64), np.arange(h_out, dtype=np.float64))
    map_x = inv[0, 0] * u + inv[0, 1] * v + inv[0, 2]
    map_y = inv[1, 0] * u + inv[1, 1] * v + inv[1, 2]
    # Only the part of the image the samples reach (and their neighbours) is framed and read.
    h, w = image.shape[:2]
    x0, x1 = sample_span(map_x, w)
    y0, y1 = sample_span(map_y, h)
    if x1 <= x0 or y1 <= y0:  # entirely outside
        shape = (h_out, w_out) + image.shape[2:]
        return np.full(shape, np.uint8(border_value), dtype=np.uint8)
    region = image[y0:y1, x0:x1]
    out = sample_bilinear(region, map_x - x0, map_y - y0, border_value)
    return out if image.ndim == 3 else out[:, :, 0]

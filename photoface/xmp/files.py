"""Where a photo's XMP lives, and its face regions in the upright frame PhotoFace keeps faces in.

Embedded: JPEG (APP1) and PNG (iTXt) are read here segment by segment (``segments``); WebP, TIFF
and HEIC through Pillow, which exposes their packet without decoding pixels. Sidecars:
``photo.jpg.xmp`` (digiKam, darktable) then ``photo.xmp`` (Lightroom, exiftool's default).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from . import segments
from .orientation import to_upright
from .packet import MAX_PACKET, Region, XmpError, regions_of


def sidecar_candidates(photo) -> list[Path]:
    p = Path(photo)
    return [p.with_name(p.name + ".xmp"), p.with_suffix(".xmp")]


def existing_sidecar(photo) -> Path | None:
    for c in sidecar_candidates(photo):
        # photo.XMP counts too: some cameras and Windows tools write the suffix in upper case.
        for name in (c, c.with_suffix(".XMP")):
            if name.is_file():
                return name
    return None


def embedded_packet(path) -> bytes | None:
    """The photo's embedded XMP packet, or None. Raises ``XmpError`` for a file it cannot read."""
    try:
        with open(path, "rb") as f:
            head = f.read(16)
            f.seek(0)
            kind = segments.kind_of(head)
            if kind in ("jpeg", "png"):
                return segments.read_packet(f, kind)
    except OSError as exc:
        raise XmpError(f"cannot read the file ({exc.strerror or exc})") from None
    except segments.SegmentError:
        return None  # a damaged photo: the scan reports its pixels, not its metadata
    return _pillow_packet(path)


def _pillow_packet(path) -> bytes | None:
    from PIL import Image

    try:
        with Image.open(path) as im:
            xmp = im.info.get("xmp") or im.info.get("XML:com.adobe.xmp")
            if not xmp and hasattr(im, "tag_v2"):
                xmp = im.tag_v2.get(700)  # TIFF's XMP tag
    except Exception:  # unreadable or unsupported here: nothing embedded to offer
        return None
    if isinstance(xmp, str):
        xmp = xmp.encode("utf-8")
    return bytes(xmp) if xmp else None


def read_sidecar(path: Path) -> bytes:
    try:
        if path.stat().st_size > MAX_PACKET:
            raise XmpError(f"{path.name} is too large to be a sidecar; ignored")
        return path.read_bytes()
    except OSError as exc:
        raise XmpError(f"cannot read {path.name} ({exc.strerror or exc})") from None


@dataclass
class PhotoRegions:
    regions: list[Region] = field(default_factory=list)  # normalised, stored frame, one per name
    problems: list[str] = field(default_factory=list)  # one line each, for the scan's report


def photo_regions(path) -> PhotoRegions:
    """The named face regions of a photo, sidecar first (the newer edit, in most workflows), then
    embedded; MWG before Microsoft. One region per name: apps that write both kinds describe the
    same face twice."""
    out = PhotoRegions()
    sources = []
    sidecar = existing_sidecar(path)
    if sidecar is not None:
        sources.append((sidecar.name, lambda: read_sidecar(sidecar)))
    sources.append(("embedded XMP", lambda: embedded_packet(path)))
    seen: set[str] = set()
    for label, load in sources:
        try:
            data = load()
            regions = regions_of(data) if data else []
        except XmpError as exc:
            out.problems.append(f"{label}: {exc}")
            continue
        for r in sorted(regions, key=lambda r: r.kind != "mwg"):
            key = r.name.casefold()
            if key not in seen:
                seen.add(key)
                out.regions.append(r)
    return out


def upright_pixels(region: Region, orientation: int, upright_size) -> tuple[float, float, float, float]:
    """A region's box in upright photo pixels (the frame of PhotoFace's face boxes)."""
    x, y, w, h = to_upright(region.box, orientation)
    W, H = upright_size
    return x * W, y * H, w * W, h * H


def orientation_of(path, data: bytes | None = None) -> int:
    """The photo's EXIF orientation; ``data``: its bytes, when the caller has read them already."""
    from ..decode import read_header

    try:
        return read_header(Path(path).read_bytes() if data is None else data, path).orientation
    except Exception:  # the scan already read it; a file that changed since keeps it upright
        return 1


"""Confirmed names -> XMP face regions other apps read (digiKam, Lightroom, Picasa-era tools).

Every confirmed face of a named person is written (suggestions are not: they are PhotoFace's
guesses, not the user's word), as MWG and Microsoft regions in the stored image's frame, with
AppliedToDimensions. Sidecars by default (``photo.jpg.xmp``, or the ``photo.xmp`` already there);
``embed=True`` rewrites the packet inside JPEG and PNG files without re-encoding them. Each file is
replaced atomically (a temporary file, then a rename), and a photo that changed since it was
scanned is left alone: its boxes may no longer fit.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from . import segments
from .files import existing_sidecar, orientation_of, read_sidecar, sidecar_candidates
from .orientation import stored_size, to_stored
from .packet import Region, XmpError, merge, parse, read_regions


@dataclass
class WriteSummary:
    written: list[str] = field(default_factory=list)  # files written (sidecars or photos)
    unchanged: int = 0  # photos whose XMP already said this
    failed: list[tuple[str, str]] = field(default_factory=list)  # (photo, one-line reason)

    def to_dict(self) -> dict:
        return {"written": self.written, "unchanged": self.unchanged,
                "failed": [{"path": p, "error": e} for p, e in self.failed]}


def named_faces(db, photo_ids=None, people=None) -> dict[int, dict]:
    """Photos (by id) with their path, size, times, upright size and confirmed named faces."""
    where, params = ["p.status = 'ok'"], []
    if photo_ids is not None:
        ids = sorted({int(i) for i in photo_ids})
        where.append(f"p.id IN ({','.join('?' * len(ids)) or 'NULL'})")
        params += ids
    if people is not None:
        ids = sorted({int(i) for i in people})
        where.append(f"p.id IN (SELECT f2.photo_id FROM faces f2 JOIN assignments a2 ON a2.face_id = f2.id "
                     f"WHERE a2.state = 'confirmed' AND a2.person_id IN ({','.join('?' * len(ids)) or 'NULL'}))")
        params += ids
    out: dict[int, dict] = {}
    for r in db.query(
        "SELECT p.id, p.path, p.size, p.mtime_ns, p.width, p.height, pe.name, f.x, f.y, f.w, f.h "
        "FROM photos p LEFT JOIN faces f ON f.photo_id = p.id AND f.ignored = 0 "
        "LEFT JOIN assignments a ON a.face_id = f.id AND a.state = 'confirmed' "
        "LEFT JOIN people pe ON pe.id = a.person_id "
        f"WHERE {' AND '.join(where)} ORDER BY p.path, f.x", params,
    ):
        photo = out.setdefault(r["id"], {"path": r["path"], "size": r["size"], "mtime_ns": r["mtime_ns"],
                                         "width": r["width"], "height": r["height"], "faces": []})
        if r["name"] is not None:
            photo["faces"].append((r["name"], (r["x"], r["y"], r["w"], r["h"])))
    return out


def regions_for(photo: dict, orientation: int) -> tuple[list[Region], tuple[int, int]]:
    """The photo's named faces as regions normalised to the stored frame, and the stored size."""
    W, H = photo["width"], photo["height"]
    regions = []
    for name, (x, y, w, h) in photo["faces"]:
        box = (max(0.0, x / W), max(0.0, y / H), min(w / W, 1.0), min(h / H, 1.0))
        regions.append(Region(name, *to_stored(box, orientation), ours=True))
    return regions, stored_size((W, H), orientation)


def atomic_write(path: Path, data: bytes, like: Path | None = None) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder: a crash leaves the
    old file or the new one, never half of one."""
    tmp = path.with_name(f".{path.name}.photoface-{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if like is not None and like.exists():
            shutil.copymode(like, tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _has_ours(packet: bytes | None) -> bool:
    if not packet:
        return False
    try:
        return any(r.ours for r in read_regions(parse(packet)))
    except XmpError:
        return False


def write_sidecar(photo_path: str, regions: list[Region], dims) -> str | None:
    """Merge ``regions`` into the photo's sidecar; returns the sidecar written, or None when it
    already said this (or there is nothing to say)."""
    target = existing_sidecar(photo_path)
    old = read_sidecar(target) if target is not None else None
    if not regions and not _has_ours(old):
        return None
    new = merge(old, regions, dims)
    if old == new:
        return None
    target = target or sidecar_candidates(photo_path)[0]
    atomic_write(target, new, like=target)
    return str(target)


def write_embedded(photo: dict, regions: list[Region], dims, data: bytes | None = None) -> str | None:
    """Merge ``regions`` into the XMP inside a JPEG or PNG (``data``: its bytes, if read already);
    every other byte is kept."""
    path = Path(photo["path"])
    if data is None:
        data = path.read_bytes()
    kind = segments.kind_of(data[:16])
    if kind is None:
        raise segments.SegmentError("only JPEG and PNG photos can have names written into them; "
                                    "leave out --embed to write a sidecar")
    old = segments.read_jpeg_packet(data) if kind == "jpeg" else segments.read_png_packet(data)
    if not regions and not _has_ours(old):
        return None
    packet = merge(old, regions, dims)
    if old == packet:
        return None
    new = segments.embed(data, packet)
    _check_image_kept(data, new, kind)
    atomic_write(path, new, like=path)
    return str(path)


def _check_image_kept(old: bytes, new: bytes, kind: str) -> None:
    """Refuse to replace a photo unless its image data came through byte for byte."""
    if kind == "jpeg":
        same = old[segments._jpeg_segments(old)[1]:] == new[segments._jpeg_segments(new)[1]:]
    else:
        def idat(d):
            return [d[s:e] for c, s, e in segments._png_chunks(d) if c == b"IDAT"]
        same = idat(old) == idat(new)
    if not same:
        raise segments.SegmentError("the image data would change; nothing written")


def _unchanged_since_scan(photo: dict) -> bool:
    try:
        st = os.stat(photo["path"])
    except OSError:
        return False
    return st.st_size == photo["size"] and st.st_mtime_ns == photo["mtime_ns"]


def write_photos(db, photo_ids=None, people=None, embed: bool = False,
                 progress: Callable[[int, int, str], None] | None = None, cancel=None) -> WriteSummary:
    """Write the names of the chosen photos (default: every photo with a named face and, for
    sidecars, every photo whose sidecar holds names PhotoFace wrote before)."""
    photos = named_faces(db, photo_ids, people)
    if photo_ids is None and people is None:
        photos = {k: v for k, v in photos.items()
                  if v["faces"] or (not embed and existing_sidecar(v["path"]) is not None)}
    summary = WriteSummary()
    items = list(photos.items())
    for i, (photo_id, photo) in enumerate(items):
        if cancel is not None and cancel.is_set():
            break
        if progress:
            progress(i, len(items), photo["path"])
        path = photo["path"]
        if not _unchanged_since_scan(photo):
            summary.failed.append((path, "missing or changed since it was scanned; scan it again first"))
            continue
        try:
            data = Path(path).read_bytes() if embed else None  # read once: orientation and rewrite
            regions, dims = regions_for(photo, orientation_of(path, data))
            written = write_embedded(photo, regions, dims, data) if embed else write_sidecar(path, regions, dims)
        except (XmpError, segments.SegmentError) as exc:
            summary.failed.append((path, str(exc)))
            continue
        except OSError as exc:
            summary.failed.append((path, f"cannot write ({exc.strerror or exc})"))
            continue
        if written is None:
            summary.unchanged += 1
            continue
        summary.written.append(written)
        if embed:
            _rescanned(db, photo_id, path)
    if progress:
        progress(len(items), len(items), "")
    return summary


def _rescanned(db, photo_id: int, path: str) -> None:
    """A photo whose metadata PhotoFace rewrote keeps its faces: record its new size, time and
    content hash, so the next scan does not analyse it again."""
    from ..analyse import file_hash

    st = os.stat(path)
    with db.transaction() as c:
        c.execute("UPDATE photos SET size = ?, mtime_ns = ?, hash = ? WHERE id = ?",
                  (st.st_size, st.st_mtime_ns, file_hash(path), photo_id))


# -- after every decision ---------------------------------------------------------------------
def touched_photos(db) -> set[int]:
    """Photos the latest decision changed names in: its faces, and every face of its people."""
    row = db.query("SELECT before FROM journal ORDER BY id DESC LIMIT 1")
    if not row:
        return set()
    before = json.loads(row[0]["before"])
    faces = [int(f) for f in before.get("faces", {})]
    people = [int(p) for p in before.get("people", {})]
    out = set()
    for chunk in range(0, len(faces), 500):
        ids = faces[chunk:chunk + 500]
        out |= {r[0] for r in db.query(f"SELECT photo_id FROM faces WHERE id IN ({','.join('?' * len(ids))})", ids)}
    if people:
        out |= {r[0] for r in db.query(
            "SELECT DISTINCT f.photo_id FROM faces f JOIN assignments a ON a.face_id = f.id "
            f"WHERE a.person_id IN ({','.join('?' * len(people))})", people)}
    return out


def after_decision(db, touched: set[int] | None = None) -> WriteSummary | None:
    """With "write names to XMP sidecars" on, rewrite the sidecars of the photos the latest
    decision touched (``touched``: computed before an undo, which removes its journal entry)."""
    from . import write_enabled

    if not write_enabled(db):
        return None
    photos = touched if touched is not None else touched_photos(db)
    return write_photos(db, photo_ids=photos) if photos else WriteSummary()

"""Find this person (by name, face or example photo) and verify two photos."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .grouping import load_embeddings
from .recognise import CHUNK, pairwise_sq_l2, turned_thresholds
from .store import Database


@dataclass
class Hit:
    photo_id: int
    path: str
    face_id: int
    box: tuple[float, float, float, float]
    distance: float  # squared L2 to the nearest example face
    person: str | None

    def to_dict(self) -> dict:
        return {
            "photo_id": self.photo_id, "path": self.path, "face_id": self.face_id,
            "box": [round(v, 1) for v in self.box], "distance": round(self.distance, 4),
            "person": self.person,
        }


def rank_photos(
    db: Database, model_version: str, examples: np.ndarray, max_distance: float,
    limit: int | None = None, exclude_faces=(), example_frontality=None, turned_scale: float = 1.0,
) -> list[Hit]:
    """Photos with a face near any of ``examples``, nearest first (one hit per photo).

    ``max_distance`` is the limit for frontal faces; a pair with a turned face (either side,
    frontality below recognise.TURNED_BELOW) must be within ``max_distance x turned_scale``, as in
    recognition: profiles look more alike across people, so the same distance says less.
    Ranking is by distance relative to the pair's limit; hits report the plain distance."""
    faces = load_embeddings(db, model_version)
    if not len(faces.ids) or not len(examples):
        return []
    examples = np.asarray(examples, np.float32)
    if example_frontality is None:
        example_frontality = [None] * len(examples)
    # A pair's limit is the stricter of its two faces' (recognise.turned_thresholds, relative).
    face_scale = turned_thresholds(1.0, faces.frontality, turned_scale)
    example_scale = turned_thresholds(1.0, example_frontality, turned_scale)
    best = np.empty(len(faces.ids), np.float32)  # distance / the pair's scale
    raw = np.empty(len(faces.ids), np.float32)
    for start in range(0, len(faces.ids), CHUNK):
        d = pairwise_sq_l2(faces.embeddings[start : start + CHUNK], examples)
        rel = d / np.minimum(face_scale[start : start + CHUNK, None], example_scale[None])
        nearest = rel.argmin(axis=1)
        rows = np.arange(len(d))
        best[start : start + CHUNK] = rel[rows, nearest]
        raw[start : start + CHUNK] = d[rows, nearest]
    skip = set(int(f) for f in exclude_faces)
    order = np.argsort(best, kind="stable")
    hits, seen = [], set()
    info = {}
    for i in order:
        if best[i] > max_distance:
            break
        fid = int(faces.ids[i])
        if fid in skip:
            continue
        if fid not in info:
            info.update(_face_info(db, [int(f) for f in faces.ids[order[len(hits): len(hits) + 256]]] + [fid]))
        row = info[fid]
        if row["photo_id"] in seen:
            continue
        seen.add(row["photo_id"])
        hits.append(Hit(row["photo_id"], row["path"], fid, (row["x"], row["y"], row["w"], row["h"]), float(raw[i]), row["name"]))
        if limit and len(hits) >= limit:
            break
    return hits


def _face_info(db: Database, face_ids) -> dict:
    marks = ",".join("?" * len(face_ids))
    rows = db.query(
        "SELECT f.id, f.photo_id, f.x, f.y, f.w, f.h, p.path, pe.name FROM faces f "
        "JOIN photos p ON p.id = f.photo_id LEFT JOIN assignments a ON a.face_id = f.id "
        f"LEFT JOIN people pe ON pe.id = a.person_id WHERE f.id IN ({marks})",
        face_ids,
    )
    return {r["id"]: r for r in rows}


@dataclass
class Together:
    """A photo with several people in it: their faces (id, box, name), left to right."""

    photo_id: int
    path: str
    faces: list

    @property
    def names(self) -> list[str]:
        return [name for _, _, name in self.faces]

    def to_dict(self) -> dict:
        return {"photo_id": self.photo_id, "path": self.path,
                "faces": [{"face_id": f, "box": [round(v, 1) for v in box], "person": name} for f, box, name in self.faces]}


def photos_together(db: Database, person_ids, only: bool = False) -> list[Together]:
    """Photos in which each of ``person_ids`` has a face (confirmed or suggested), by path.
    ``only``: and no face of anyone else (ignored faces do not count; an unnamed face does)."""
    ids = sorted({int(p) for p in person_ids})
    marks = ",".join("?" * len(ids))
    named = "a.state IN ('confirmed', 'suggested')"
    sql = (f"SELECT f.photo_id FROM faces f JOIN assignments a ON a.face_id = f.id JOIN photos p ON p.id = f.photo_id "
           f"WHERE a.person_id IN ({marks}) AND {named} AND f.ignored = 0 AND p.status = 'ok' "
           f"GROUP BY f.photo_id HAVING COUNT(DISTINCT a.person_id) = ?")
    params: list = [*ids, len(ids)]
    if only:
        sql = (f"SELECT photo_id FROM ({sql}) t WHERE NOT EXISTS (SELECT 1 FROM faces f LEFT JOIN assignments a "
               f"ON a.face_id = f.id WHERE f.photo_id = t.photo_id AND f.ignored = 0 "
               f"AND (a.person_id IS NULL OR a.person_id NOT IN ({marks})))")
        params += ids
    photos = [r[0] for r in db.query(sql, params)]
    if not photos:
        return []
    rows = db.query(
        f"SELECT f.id, f.photo_id, f.x, f.y, f.w, f.h, p.path, pe.name FROM faces f JOIN photos p ON p.id = f.photo_id "
        f"JOIN assignments a ON a.face_id = f.id JOIN people pe ON pe.id = a.person_id "
        f"WHERE f.photo_id IN ({','.join('?' * len(photos))}) AND a.person_id IN ({marks}) AND {named} "
        f"AND f.ignored = 0 ORDER BY p.path, f.x", [*photos, *ids])
    out: dict[int, Together] = {}
    for r in rows:
        t = out.setdefault(r["photo_id"], Together(r["photo_id"], r["path"], []))
        t.faces.append((r["id"], (r["x"], r["y"], r["w"], r["h"]), r["name"]))
    return list(out.values())

"""The library: what the CLI and the GUI both drive. One object per open library file.

    lib = Library.open()                 # --library / $PHOTOFACE_LIBRARY / the user data folder
    lib.scan(["~/Pictures"])             # find, embed, recognise and group faces
    lib.people.name("g3", "Alice")       # corrections live in photoface.people
    lib.find_person("Alice")             # photos ranked by distance
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import grouping
from .align import frontality
from .config import library_path, models_dir
from .detection import DetectorSettings
from .embedder import CARD_NAME, ModelCard
from .errors import UserError
from .people import People, Target, parse_face_id
from .recognise import turned_faces, turned_thresholds
from .scan import MATCH_SHARE, Scanner, ScanSummary
from .search import Hit, rank_photos
from .store import Database
from .store.records import decode_array

SETTING_MIN_FACE = "min_face_size"
# A cover face shows the person well: frontal, large and clearly a face. Frontality counts twice:
# a big profile is a worse cover than a smaller frontal face.
_COVER_ORDER = "{f}.score * {f}.w * COALESCE({f}.frontal, 0.5) * COALESCE({f}.frontal, 0.5)"
SETTING_STRICTNESS = "threshold_scale"  # the same-person threshold x this (lower = stricter)


@dataclass
class PersonSummary:
    kind: str  # "person" | "group"
    id: int
    name: str | None
    hidden: bool
    faces: int
    confirmed: int
    suggested: int
    photos: int
    cover_face_id: int | None
    created_at: float | None = None  # when the person was named (None for a group)

    @property
    def ref(self) -> str:
        return f"{self.kind[0]}{self.id}"

    def to_dict(self) -> dict:
        return {"id": self.ref, **{k: v for k, v in self.__dict__.items() if k != "id"}}


class Library:
    def __init__(self, db: Database, model_dir: Path | None = None):
        self.db = db
        self.model_dir = Path(model_dir) if model_dir else models_dir()
        self.card = ModelCard.load(self.model_dir / CARD_NAME)
        self.people = People(db, self.card.version, self.thresholds)
        self._embedder = None
        self._lock = threading.Lock()

    @classmethod
    def open(cls, path=None, model_dir=None, create: bool = True) -> "Library":
        """``create=False``: a missing library is an error (reading commands never create one)."""
        return cls(Database(library_path(path), create=create), model_dir)

    @classmethod
    def open_for_analysis(cls, path=None, model_dir=None) -> "Library":
        """The library's settings if it exists, else a library in memory: analysing a photo
        (embed, verify) never creates a library file."""
        file = library_path(path)
        return cls(Database(file if file.exists() else None), model_dir)

    @property
    def path(self) -> Path:
        return self.db.path

    def close(self) -> None:
        self.db.close()

    # -- settings ---------------------------------------------------------------------------
    # The model card's operating points, all scaled by the user's strictness: the pair threshold
    # (best accuracy for one pair: verify, find), a stricter one for naming faces by k-NN and
    # one for grouping unnamed faces: in a library every face meets many strangers, and a wrong
    # name or merge costs the user more than a missing one.
    @property
    def strictness(self) -> float:
        return float(self.db.get_setting(SETTING_STRICTNESS, "1.0"))

    @property
    def threshold(self) -> float:
        return self.card.threshold * self.strictness

    @property
    def name_threshold(self) -> float:
        return self.card.name_threshold * self.strictness

    @property
    def sure_confidence(self) -> float:
        """Suggestions at least this sure are "sure" (``ModelCard.sure_confidence``; the same at any
        strictness), to 4 places as stored."""
        return round(self.card.sure_confidence, 4)

    @property
    def group_threshold(self) -> float:
        return self.card.group_threshold * self.strictness

    @property
    def turned_group_threshold(self) -> float | None:
        t = self.card.turned_group_threshold
        return None if t is None else t * self.strictness

    @property
    def thresholds(self) -> grouping.Thresholds:
        """Everything recognition and grouping need from the card, under the user's strictness."""
        return grouping.Thresholds(
            recognise=self.name_threshold, group=self.group_threshold, pair=self.threshold, vote_radius=self.card.threshold,
            turned_scale=self.card.turned_scale, turned_group=self.turned_group_threshold,
            blending=self.card.blending(self.strictness),
        )

    def detector_settings(self) -> DetectorSettings:
        return DetectorSettings(min_face_size=int(self.db.get_setting(SETTING_MIN_FACE, "20")))

    def set_min_face_size(self, px: int) -> None:
        try:
            DetectorSettings(min_face_size=int(px))  # validates
        except ValueError as exc:
            raise UserError(f"smallest face size: {exc}") from None
        self.db.set_setting(SETTING_MIN_FACE, int(px))

    def set_strictness(self, scale: float) -> None:
        if not 0.5 <= float(scale) <= 1.5:
            raise UserError("strictness must lie between 0.5 (strict) and 1.5 (lenient)")
        self.db.set_setting(SETTING_STRICTNESS, float(scale))
        self.people.thresholds = self.thresholds

    @property
    def personalised(self) -> bool:
        return self.db.get_setting(grouping.PERSONALISE_KEY, grouping.PERSONALISE_DEFAULT) == "1"

    def set_personalised(self, on: bool) -> None:
        """Learn a metric on the confirmed faces for recognition (off by default)."""
        self.db.set_setting(grouping.PERSONALISE_KEY, "1" if on else "0")

    # -- scanning ---------------------------------------------------------------------------
    def scan(self, paths, workers=None, progress=None, cancel: threading.Event | None = None,
             group_progress=None) -> ScanSummary:
        for p in paths:
            if Path(p).expanduser().is_dir():
                self.add_folder(p)  # before scanning: a cancelled scan's folder is the library's too
        scanner = Scanner(
            self.db, self.detector_settings(), self.card.version, self.model_dir,
            workers=workers, progress=progress, cancel=cancel, match_distance=MATCH_SHARE * self.card.threshold,
        )
        summary = scanner.scan(paths)
        if not summary.interrupted:
            self.refresh(group_progress)
        return summary

    def refresh(self, progress=None) -> dict:
        """Recognise and regroup every face without a user decision."""
        return grouping.refresh(self.db, self.card.version, self.thresholds, progress)

    # -- listings ---------------------------------------------------------------------------
    def list_people(self, include_hidden: bool = False, include_groups: bool = True) -> list[PersonSummary]:
        out = []
        for r in self.db.query(
            "SELECT pe.id, pe.name, pe.hidden, pe.cover_face_id, pe.created_at, COUNT(a.face_id) AS faces, "
            "SUM(a.state = 'confirmed') AS confirmed, SUM(a.state = 'suggested') AS suggested, "
            "COUNT(DISTINCT f.photo_id) AS photos FROM people pe "
            "LEFT JOIN assignments a ON a.person_id = pe.id LEFT JOIN faces f ON f.id = a.face_id "
            "GROUP BY pe.id ORDER BY pe.name COLLATE NOCASE"
        ):
            if r["hidden"] and not include_hidden:
                continue
            cover = r["cover_face_id"] or self._best_face("a.person_id = ? AND a.state = 'confirmed'", r["id"])
            out.append(PersonSummary("person", r["id"], r["name"], bool(r["hidden"]), r["faces"],
                                     r["confirmed"] or 0, r["suggested"] or 0, r["photos"], cover, r["created_at"]))
        if include_groups:
            for r in self.db.query(
                "SELECT a.group_id, COUNT(*) AS faces, COUNT(DISTINCT f.photo_id) AS photos, "
                "(SELECT f2.id FROM assignments a2 JOIN faces f2 ON f2.id = a2.face_id "
                f" WHERE a2.group_id = a.group_id ORDER BY {_COVER_ORDER.format(f='f2')} DESC LIMIT 1) AS cover "
                "FROM assignments a JOIN faces f ON f.id = a.face_id WHERE a.group_id IS NOT NULL "
                "GROUP BY a.group_id ORDER BY faces DESC, a.group_id"
            ):
                out.append(PersonSummary("group", r["group_id"], None, False, r["faces"], 0, 0, r["photos"], r["cover"]))
        return out

    def _best_face(self, where: str, *params) -> int | None:
        return self.db.scalar(
            f"SELECT f.id FROM faces f JOIN assignments a ON a.face_id = f.id WHERE {where} "
            f"ORDER BY {_COVER_ORDER.format(f='f')} DESC LIMIT 1", params,
        )

    def list_faces(self, target: Target | None = None, photo_id: int | None = None,
                   face_ids=None, ignored: bool | None = None) -> list[dict]:
        """``ignored``: only the ignored faces (True) or none of them (False)."""
        where, params = ["1"], []
        if ignored is not None:
            where.append("f.ignored = ?")
            params.append(int(ignored))
        if face_ids is not None:
            ids = [int(f) for f in face_ids]
            where.append(f"f.id IN ({','.join('?' * len(ids)) or 'NULL'})")
            params.extend(ids)
        if target is not None:
            where.append("a.person_id = ?" if target.kind == "person" else "a.group_id = ?")
            params.append(target.id)
        if photo_id is not None:
            where.append("f.photo_id = ?")
            params.append(photo_id)
        rows = self.db.query(
            "SELECT f.id, f.photo_id, p.path, p.missing_since, f.x, f.y, f.w, f.h, f.landmarks, f.score, f.ignored, "
            "a.person_id, pe.name, a.group_id, a.state, a.confidence FROM faces f "
            "JOIN photos p ON p.id = f.photo_id LEFT JOIN assignments a ON a.face_id = f.id "
            f"LEFT JOIN people pe ON pe.id = a.person_id WHERE {' AND '.join(where)} "
            "ORDER BY (a.state = 'confirmed') DESC, a.confidence DESC, p.path, f.x",
            params,
        )
        cut = self.sure_confidence
        return [_face_dict(r, cut) for r in rows]

    def photo_errors(self) -> list[dict]:
        return [dict(r) for r in self.db.query("SELECT path, error FROM photos WHERE status = 'error' ORDER BY path")]

    def missing_photos(self) -> list[dict]:
        """Photos whose folder was gone, empty or unreadable at the last scan: kept, with their
        faces and names, until they are found again or forgotten."""
        return [dict(r) for r in self.db.query(
            "SELECT p.path, p.missing_since, COUNT(f.id) AS faces, "
            "SUM(a.state = 'confirmed') AS named FROM photos p LEFT JOIN faces f ON f.photo_id = p.id "
            "LEFT JOIN assignments a ON a.face_id = f.id WHERE p.missing_since IS NOT NULL "
            "GROUP BY p.id ORDER BY p.path")]

    def forget_missing(self, under=None) -> int:
        """Remove the missing photos (those under the folders ``under``, if given) with their
        faces: the user says they are gone for good. Returns how many."""
        rows = self.db.query("SELECT id, path FROM photos WHERE missing_since IS NOT NULL")
        if under:
            roots = [str(Path(u).expanduser().resolve()) for u in under]  # as scans store paths
            rows = [r for r in rows if any(r["path"] == root or r["path"].startswith(root.rstrip(os.sep) + os.sep)
                                           for root in roots)]
        with self.db.transaction() as c:
            c.executemany("DELETE FROM photos WHERE id = ?", [(r["id"],) for r in rows])
        return len(rows)

    def stats(self) -> dict:
        q = self.db.scalar
        return {
            "photos": q("SELECT COUNT(*) FROM photos WHERE status = 'ok'"),
            "missing": q("SELECT COUNT(*) FROM photos WHERE missing_since IS NOT NULL"),
            "unreadable": q("SELECT COUNT(*) FROM photos WHERE status = 'error'"),
            "faces": q("SELECT COUNT(*) FROM faces WHERE ignored = 0"),
            "people": q("SELECT COUNT(*) FROM people"),
            "groups": q("SELECT COUNT(DISTINCT group_id) FROM assignments WHERE group_id IS NOT NULL"),
        }

    # -- folders and photos -------------------------------------------------------------------
    def folders(self) -> list[dict]:
        """The library's folders (a scanned folder is one; one inside another is not): path,
        whether it is there now, its photos and how many of them are missing."""
        paths = [r[0] for r in self.db.query("SELECT path FROM folders ORDER BY path")]
        if not paths and self.db.scalar("SELECT 1 FROM photos LIMIT 1"):
            # A library scanned before folders were kept: the folders its photos lie in, kept
            # from now on (where the library can be written: a listing never fails for that).
            for d in sorted({os.path.dirname(r[0]) for r in self.db.query("SELECT path FROM photos")}, key=len):
                if not any(d == p or d.startswith(p.rstrip(os.sep) + os.sep) for p in paths):
                    paths.append(d)
            paths.sort()
            try:
                for p in paths:
                    self.add_folder(p, resolve=False)
            except sqlite3.Error:
                pass
        out = []
        for path in paths:
            counts = self.db.query(
                "SELECT COUNT(*) AS photos, COUNT(missing_since) AS missing FROM photos "
                "WHERE path = ? OR substr(path, 1, ?) = ?", (path, len(path) + 1, path.rstrip(os.sep) + os.sep))[0]
            out.append({"path": path, "exists": os.path.isdir(path), "photos": counts["photos"],
                        "missing": counts["missing"]})
        return out

    def add_folder(self, folder, resolve: bool = True) -> str:
        """Make a folder one of the library's (scanned by "rescan all"); one inside a library
        folder is already covered, and library folders inside this one are replaced by it."""
        path = str(Path(folder).expanduser().resolve()) if resolve else str(folder)
        if resolve and not Path(path).is_dir():
            raise UserError(f"{folder}: not a folder")
        with self.db.transaction() as c:
            known = [r[0] for r in c.execute("SELECT path FROM folders")]
            if any(path == k or path.startswith(k.rstrip(os.sep) + os.sep) for k in known):
                return path
            c.executemany("DELETE FROM folders WHERE path = ?",
                          [(k,) for k in known if k.startswith(path.rstrip(os.sep) + os.sep)])
            c.execute("INSERT INTO folders(path, added_at) VALUES (?, ?)", (path, time.time()))
        return path

    def remove_folder(self, folder) -> int:
        """Take a folder out of the library with its photos, their faces and names (the files are
        not touched). Not undoable. Returns how many photos were removed."""
        path = str(folder)
        if not self.db.scalar("SELECT 1 FROM folders WHERE path = ?", (path,)):
            path = str(Path(folder).expanduser().resolve())
        prefix = path.rstrip(os.sep) + os.sep
        with self.db.transaction() as c:
            if not c.execute("SELECT 1 FROM folders WHERE path = ?", (path,)).fetchone():
                raise UserError(f"{folder} is not one of the library's folders")
            n = c.execute("DELETE FROM photos WHERE path = ? OR substr(path, 1, ?) = ?",
                          (path, len(prefix), prefix)).rowcount
            c.execute("DELETE FROM folders WHERE path = ?", (path,))
        return n

    def list_photos(self) -> list[dict]:
        """Every readable photo by folder, then date (the file's time), with the names of the
        people in it."""
        rows = self.db.query(
            "SELECT p.id, p.path, p.mtime_ns, p.missing_since, COUNT(f.id) AS faces, "
            "GROUP_CONCAT(pe.name, '\x1f') AS names FROM photos p "
            "LEFT JOIN faces f ON f.photo_id = p.id AND f.ignored = 0 "
            "LEFT JOIN assignments a ON a.face_id = f.id AND a.state = 'confirmed' "
            "LEFT JOIN people pe ON pe.id = a.person_id WHERE p.status = 'ok' GROUP BY p.id")
        out = [{"id": r["id"], "path": r["path"], "folder": os.path.dirname(r["path"]),
                "time": r["mtime_ns"] / 1e9, "missing": r["missing_since"] is not None, "faces": r["faces"],
                "names": sorted(set((r["names"] or "").split("\x1f")) - {""}, key=str.casefold)} for r in rows]
        out.sort(key=lambda p: (p["folder"], p["time"], p["path"]))
        return out

    def unnamed_faces(self, limit: int = 500) -> list[dict]:
        """Faces in unnamed groups to review one at a time: the biggest groups first (naming one
        of their faces teaches the most), the clearest face of each first."""
        rows = self.db.query(
            "SELECT f.id FROM faces f JOIN assignments a ON a.face_id = f.id JOIN photos p ON p.id = f.photo_id "
            "JOIN (SELECT group_id, COUNT(*) AS n FROM assignments WHERE group_id IS NOT NULL GROUP BY group_id) g "
            "ON g.group_id = a.group_id WHERE a.state = 'auto' AND f.ignored = 0 AND p.missing_since IS NULL "
            f"ORDER BY g.n DESC, a.group_id, {_COVER_ORDER.format(f='f')} DESC LIMIT ?", (int(limit),))
        ids = [r[0] for r in rows]
        order = {fid: i for i, fid in enumerate(ids)}
        return sorted(self.list_faces(face_ids=ids), key=lambda f: order[f["id"]]) if ids else []

    def add_face(self, photo_id: int, box, name: str):
        """A face drawn by hand on a photo (the detector missed it): embedded from the box as a
        face read from another app's metadata is, then named. Returns (face id, person)."""
        from .xmp.importer import MIN_REGION_PX, landmarks_in

        row = self.db.query("SELECT path, width, height FROM photos WHERE id = ? AND status = 'ok'", (int(photo_id),))
        if not row:
            raise UserError("that photo is not in the library")
        path, width, height = row[0]["path"], row[0]["width"], row[0]["height"]
        x, y, w, h = (float(v) for v in box)
        x0, y0 = max(0.0, x), max(0.0, y)
        x1, y1 = min(float(width or x + w), x + w), min(float(height or y + h), y + h)
        box = (x0, y0, x1 - x0, y1 - y0)
        if min(box[2:]) < MIN_REGION_PX:
            raise UserError(f"draw a larger box: a face needs at least {MIN_REGION_PX} pixels each way")
        marks = landmarks_in(box)
        embedding = self.embedder.reembed(path, [marks])[0]
        return self.people.add_face(photo_id, box, marks, np.asarray(embedding, np.float32), frontality(marks), name)

    def find_together(self, who, only: bool = False):
        """Photos with all of ``who`` (names or p<ID>) in them; ``only``: nobody else in them."""
        from .search import photos_together

        people = []
        for w in who:
            t = w if isinstance(w, Target) else self.people.resolve(w)
            if t.kind != "person":
                raise UserError("only named people can be found together: name the group first")
            people.append(t.id)
        if not people:
            raise UserError("name at least one person")
        return photos_together(self.db, people, only=only)

    # -- embeddings ---------------------------------------------------------------------------
    @property
    def embedder(self):
        with self._lock:
            if self._embedder is None:
                from .analyse import Analyser

                self._embedder = Analyser(self.detector_settings(), self.model_dir)
            return self._embedder

    def analyse_photo(self, path):
        """Faces and embeddings of a photo that need not be in the library."""
        p = Path(path).expanduser()
        if not p.is_file():  # a regular file: a FIFO or a device would block the read
            raise UserError(f"{path}: no such file" if not p.exists() else f"{path}: not a regular file")
        result = self.embedder.analyse(str(p))
        if result.error:
            raise UserError(f"{path}: {result.error}")
        return result

    def _stored_face(self, face_id) -> tuple[np.ndarray, float | None]:
        """A face's embedding (by this model) and frontality."""
        fid = parse_face_id(face_id)
        row = self.db.query("SELECT embedding, model_version, frontal FROM faces WHERE id = ?", (fid,))
        if not row:
            raise UserError(f"no face f{fid}")
        if row[0]["model_version"] != self.card.version or row[0]["embedding"] is None:
            raise UserError(f"face f{fid} was embedded by another model: scan its folder again")
        return decode_array(row[0]["embedding"]), row[0]["frontal"]

    # -- find and verify --------------------------------------------------------------------
    def find_person(self, target, limit=None, max_distance=None) -> list[Hit]:
        t = target if isinstance(target, Target) else self.people.resolve(target)
        state = "a.person_id = ? AND a.state = 'confirmed'" if t.kind == "person" else "a.group_id = ?"
        examples = grouping.load_embeddings(self.db, self.card.version, state, (t.id,))
        if not len(examples.ids) and t.kind == "person":
            examples = grouping.load_embeddings(self.db, self.card.version, "a.person_id = ?", (t.id,))
        return self._rank(examples.embeddings, examples.frontality, max_distance, limit)

    def find_face(self, face_id, limit=None, max_distance=None) -> list[Hit]:
        emb, frontal = self._stored_face(face_id)
        return self._rank(emb[None], [frontal], max_distance, limit)

    def find_photo(self, path, face: int = 0, limit=None, max_distance=None) -> list[Hit]:
        result = self.analyse_photo(path)
        if not result.faces:
            raise UserError(f"{path}: no face found")
        chosen = _choose_face(result.faces, face, path)
        return self._rank(chosen.embedding[None], [frontality(chosen.landmarks)], max_distance, limit)

    def _rank(self, examples, example_frontality, max_distance, limit) -> list[Hit]:
        """``max_distance`` (default: the naming threshold) holds for frontal faces; pairs with a
        turned face need the card's stricter turned threshold, as in recognition."""
        return rank_photos(self.db, self.card.version, examples, max_distance or self.threshold, limit,
                           example_frontality=example_frontality, turned_scale=self.card.turned_scale)

    def verify(self, a, b) -> dict:
        """Are the (largest) faces of two photos the same person? When either face is turned the
        card's turned threshold applies: same-person answers are then as trustworthy as for two
        frontal faces (on held-out CFP people, different-person frontal-profile pairs were
        accepted 10.0% of the time at the pair threshold, 6.3% at the turned one, like frontal pairs)."""
        fa, fb = (_choose_face(self.analyse_photo(p).faces, 0, p) for p in (a, b))
        d = float(np.sum((fa.embedding - fb.embedding) ** 2))
        pair = [frontality(fa.landmarks), frontality(fb.landmarks)]
        turned = bool(turned_faces(pair).any())
        threshold = float(turned_thresholds(self.threshold, pair, self.card.turned_scale).min())
        return {"a": str(a), "b": str(b), "distance": round(d, 4), "threshold": round(threshold, 4),
                "turned": turned, "same_person": d < threshold}

    # -- export -----------------------------------------------------------------------------
    def export(self) -> dict:
        return {
            "library": str(self.path),
            "model_version": self.card.version,
            "people": [p.to_dict() for p in self.list_people(include_hidden=True, include_groups=False)],
            "faces": self.list_faces(),
            "rejections": [dict(r) for r in self.db.query("SELECT face_id, person_id, created_at FROM rejections")],
            "decisions": self.people.history(limit=1_000_000),
        }


def _choose_face(faces, index: int, path):
    if not faces:
        raise UserError(f"{path}: no face found")
    by_size = sorted(faces, key=lambda f: -f.box[2] * f.box[3])
    if not 0 <= index < len(by_size):
        raise UserError(f"{path}: has {len(by_size)} faces; --face must be 0..{len(by_size) - 1}")
    return by_size[index]


def _face_dict(r, sure_confidence: float) -> dict:
    marks = decode_array(r["landmarks"], (5, 2))
    return {
        "id": r["id"], "photo_id": r["photo_id"], "path": r["path"],
        "missing": r["missing_since"] is not None,  # its folder was gone at the last scan
        "box": [round(r[k], 1) for k in ("x", "y", "w", "h")],
        "landmarks": [[round(float(x), 1), round(float(y), 1)] for x, y in marks],
        "score": round(r["score"], 4),
        "person_id": r["person_id"], "person": r["name"],
        "group": r["group_id"], "state": r["state"] or ("ignored" if r["ignored"] else "ungrouped"),
        "confidence": r["confidence"],
        # a suggestion close enough that few such are wrong, strangers counted (``sure_confidence``)
        "sure": r["state"] == "suggested" and r["confidence"] is not None and r["confidence"] >= sure_confidence,
    }

"""The user's decisions about people: name, merge, split, reject, confirm, hide, ignore, undo.

Every decision is one transaction and one journal entry holding the before-image of every row it
changed, so ``undo()`` restores exactly what was there (the GUI's Ctrl+Z, ``photoface undo``).
Names are never lost: a person is only ever removed by undoing the decision that created it.
"""

from __future__ import annotations

import base64
import json
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from .errors import UserError
from .grouping import Thresholds, new_group_id, suggest, write_suggestions
from .store import Database

IMPORT_ACTION = "import"  # names read from photos' metadata on a scan
_BLOBS = ("landmarks", "embedding")  # face columns kept as base64 in a redo entry


@dataclass(frozen=True)
class Target:
    """A person (``p12`` or a name) or an unnamed group (``g3``)."""

    kind: str  # "person" | "group"
    id: int

    def __str__(self) -> str:
        return f"{self.kind[0]}{self.id}"


MAX_ID = 2**63 - 1  # SQLite's largest integer: no row has a larger id


def parse_face_id(text) -> int:
    s = str(text).strip().lower()
    s = s[1:] if s.startswith("f") else s
    if not s.isascii() or not s.isdigit():
        raise UserError(f"{text!r} is not a face id (like f123 or 123)")
    if int(s) > MAX_ID:
        raise UserError(f"no face f{s}")
    return int(s)


def _id_like(text: str) -> bool:
    """``p12``, ``g3`` or ``f7``: how the commands name people, groups and faces by id."""
    low = text.strip().lower()
    return len(low) > 1 and low[0] in "pgf" and low[1:].isascii() and low[1:].isdigit()


class _Change:
    """Collects the before-image of rows as an operation touches them (first capture wins)."""

    def __init__(self, conn):
        self.c = conn
        self.faces: dict[int, dict] = {}
        self.people: dict[int, dict | None] = {}
        self.created_faces: list[int] = []  # faces the decision added (names read from metadata)

    def faces_(self, ids) -> None:
        for fid in ids:
            fid = int(fid)
            if fid in self.faces:
                continue
            a = self.c.execute("SELECT * FROM assignments WHERE face_id = ?", (fid,)).fetchone()
            ign = self.c.execute("SELECT ignored FROM faces WHERE id = ?", (fid,)).fetchone()
            rej = self.c.execute("SELECT * FROM rejections WHERE face_id = ?", (fid,)).fetchall()
            self.faces[fid] = {
                "assignment": dict(a) if a else None,
                "ignored": ign[0] if ign else 0,
                "rejections": [dict(r) for r in rej],
            }

    def person(self, pid: int) -> None:
        if pid not in self.people:
            row = self.c.execute("SELECT * FROM people WHERE id = ?", (pid,)).fetchone()
            self.people[pid] = dict(row) if row else None

    def created(self, pid: int) -> None:
        self.people.setdefault(pid, None)

    def to_json(self) -> str:
        data = {"faces": self.faces, "people": self.people}
        if self.created_faces:
            data["created_faces"] = self.created_faces
        return json.dumps(data)


class People:
    """Corrections on a library. Recognition runs after each decision that teaches it a face."""

    def __init__(self, db: Database, model_version: str, thresholds: Thresholds):
        self.db = db
        self.model_version = model_version
        self.thresholds = thresholds  # the library's, under the user's strictness

    # -- looking things up ------------------------------------------------------------------
    def resolve(self, text) -> Target:
        s = str(text).strip()
        low = s.lower()
        if _id_like(s) and low[0] in "pg":
            kind, num = ("person" if low[0] == "p" else "group"), int(low[1:])
            found = num <= MAX_ID and (
                self.db.scalar("SELECT 1 FROM people WHERE id = ?", (num,)) if kind == "person"
                else self.db.scalar("SELECT 1 FROM assignments WHERE group_id = ?", (num,)))
            if found:
                return Target(kind, num)
            # A person named like an id before such names were refused stays reachable by name.
            pid = self.db.scalar("SELECT id FROM people WHERE name = ?", (s,))
            if pid is not None:
                return Target("person", pid)
            raise UserError(f"no {kind} {s}")
        pid = self.db.scalar("SELECT id FROM people WHERE name = ?", (s,))
        if pid is None:
            raise UserError(f"no person or group {s!r} (use a name, p<ID> or g<ID>)")
        return Target("person", pid)

    def person_by_name(self, name: str) -> int | None:
        return self.db.scalar("SELECT id FROM people WHERE name = ?", (name,))

    def _faces_of(self, c, target: Target) -> list[int]:
        col = "person_id" if target.kind == "person" else "group_id"
        return [r[0] for r in c.execute(f"SELECT face_id FROM assignments WHERE {col} = ?", (target.id,))]

    def _check_faces(self, c, face_ids) -> list[int]:
        ids = [int(f) for f in face_ids]
        if not ids:
            raise UserError("no faces given")
        for fid in ids:
            if not c.execute("SELECT 1 FROM faces WHERE id = ?", (fid,)).fetchone():
                raise UserError(f"no face f{fid}")
        return ids

    # -- the journal ------------------------------------------------------------------------
    def _record(self, c, change: _Change, action: str, summary: str, text: str | None = None) -> None:
        """Journal a decision: ``summary`` for the command line (ids), ``text`` for the window
        (names, in words). A new decision ends what could be redone."""
        c.execute(
            "INSERT INTO journal(action, summary, before, created_at, text) VALUES (?, ?, ?, ?, ?)",
            (action, summary, change.to_json(), time.time(), text),
        )
        c.execute("DELETE FROM redo")

    def undo(self) -> str:
        """Undo the latest decision; returns what was undone."""
        return self.undo_entry()["summary"]

    def undo_entry(self) -> dict:
        """Undo the latest decision; ``{"summary", "text"}`` of what was undone. What it changed
        is kept for ``redo``."""
        with self.db.transaction() as c:
            row = c.execute("SELECT * FROM journal ORDER BY id DESC LIMIT 1").fetchone()
            if row is None:
                raise UserError("nothing to undo")
            before = json.loads(row["before"])
            after = _image_of(c, before, keep_face_rows=True)
            gone = self._restore(c, before, row["action"])
            c.execute("DELETE FROM journal WHERE id = ?", (row["id"],))
            c.execute("INSERT INTO redo(action, summary, text, after, created_at) VALUES (?, ?, ?, ?, ?)",
                      (row["action"], row["summary"], row["text"], json.dumps(after), time.time()))
        return _said(row, gone, len(before["faces"]))

    def redo(self) -> str:
        """Redo the decision undone last (until a new decision is made); returns what was redone."""
        return self.redo_entry()["summary"]

    def redo_entry(self) -> dict:
        with self.db.transaction() as c:
            row = c.execute("SELECT * FROM redo ORDER BY id DESC LIMIT 1").fetchone()
            if row is None:
                raise UserError("nothing to redo")
            after = json.loads(row["after"])
            before = _image_of(c, after)
            gone = self._restore(c, after, row["action"])
            c.execute("DELETE FROM redo WHERE id = ?", (row["id"],))
            c.execute("INSERT INTO journal(action, summary, before, created_at, text) VALUES (?, ?, ?, ?, ?)",
                      (row["action"], row["summary"], json.dumps(before), time.time(), row["text"]))
        return _said(row, gone, len(after["faces"]))

    def can_redo(self) -> bool:
        return self.db.scalar("SELECT 1 FROM redo LIMIT 1") is not None

    def _restore(self, c, image: dict, action: str) -> int:
        """Put back the rows of a before- or after-image; returns how many of its faces are gone
        (their photos removed since: face ids are never reused, so they stay gone)."""
        if image.get("face_rows"):
            # Redoing a decision that added faces (drawn by hand, read from metadata): the same
            # rows, where their photo is still in the library.
            for f in image["face_rows"]:
                if c.execute("SELECT 1 FROM photos WHERE id = ?", (f["photo_id"],)).fetchone():
                    f = {k: (base64.b64decode(v) if k in _BLOBS and v is not None else v) for k, v in f.items()}
                    c.execute(f"INSERT OR IGNORE INTO faces({', '.join(f)}) VALUES ({', '.join('?' * len(f))})",
                              list(f.values()))
            added = set()
        else:
            # Faces the decision added (from a photo's metadata, drawn by hand) go with it.
            added = {int(f) for f in image.get("created_faces", [])}
            c.executemany("DELETE FROM faces WHERE id = ?", [(f,) for f in added])
        people = {int(k): v for k, v in image["people"].items()}
        for pid, prow in people.items():
            if prow is not None:
                cols = ", ".join(prow)
                marks = ", ".join("?" for _ in prow)
                # The cover may point at a face that no longer exists: drop it then.
                if prow.get("cover_face_id") and not c.execute(
                    "SELECT 1 FROM faces WHERE id = ?", (prow["cover_face_id"],)
                ).fetchone():
                    prow = {**prow, "cover_face_id": None}
                if c.execute("SELECT 1 FROM people WHERE id = ?", (pid,)).fetchone():
                    # UPDATE, never INSERT OR REPLACE: REPLACE deletes the row first, and the
                    # ON DELETE CASCADE would take the person's faces and rejections with it.
                    sets = ", ".join(f"{k} = ?" for k in prow if k != "id")
                    c.execute(f"UPDATE people SET {sets} WHERE id = ?",
                              [v for k, v in prow.items() if k != "id"] + [pid])
                else:
                    c.execute(f"INSERT INTO people({cols}) VALUES ({marks})", list(prow.values()))
        gone = 0
        for fid, state in image["faces"].items():
            fid = int(fid)
            if not c.execute("SELECT 1 FROM faces WHERE id = ?", (fid,)).fetchone():
                gone += fid not in added  # one the decision added is meant to go
                continue
            c.execute("DELETE FROM assignments WHERE face_id = ?", (fid,))
            c.execute("DELETE FROM rejections WHERE face_id = ?", (fid,))
            c.execute("UPDATE faces SET ignored = ? WHERE id = ?", (state["ignored"], fid))
            if state["assignment"]:
                a = state["assignment"]
                c.execute(
                    "INSERT INTO assignments(face_id, person_id, group_id, state, confidence, pinned) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (fid, a["person_id"], a["group_id"], a["state"], a["confidence"], a.get("pinned", 0)),
                )
            elif action == IMPORT_ACTION and not state["ignored"]:
                # A face named as its photo was scanned had no group yet: give it one, so it
                # stays in view until the next scan regroups.
                c.execute("INSERT INTO assignments(face_id, group_id, state) VALUES (?, ?, 'auto')",
                          (fid, new_group_id(self.db)))
            for r in state["rejections"]:
                c.execute(
                    "INSERT OR IGNORE INTO rejections(face_id, person_id, created_at) VALUES (?, ?, ?)",
                    (fid, r["person_id"], r["created_at"]),
                )
        for pid, prow in people.items():
            if prow is None:
                # Not there on this side of the decision: faces recognised as it since go back to grouping.
                orphans = self._faces_of(c, Target("person", pid))
                c.execute("DELETE FROM people WHERE id = ?", (pid,))
                if orphans:
                    gid = new_group_id(self.db)
                    for fid in orphans:
                        c.execute(
                            "INSERT OR REPLACE INTO assignments(face_id, group_id, state) VALUES (?, ?, 'auto')",
                            (fid, gid),
                        )
        return gone

    def history(self, limit: int = 20) -> list[dict]:
        rows = self.db.query("SELECT id, action, summary, created_at FROM journal ORDER BY id DESC LIMIT ?", (limit,))
        return [dict(r) for r in rows]

    # -- decisions --------------------------------------------------------------------------
    def name(self, target, name: str) -> Target:
        """Name a group (it becomes, or joins, that person) or rename a person (an existing name
        merges the two). Returns the person."""
        name = _clean_name(name)
        target = target if isinstance(target, Target) else self.resolve(target)
        with self.db.transaction() as c:
            change = _Change(c)
            existing = self.person_by_name(name)
            if target.kind == "person":
                if existing is not None and existing != target.id:
                    old = _who(c, target)
                    self._merge_people(c, change, existing, [target.id])
                    summary = f"merged p{target.id} into {name}"
                    text = f"Merged {old} into {name}"
                    result = Target("person", existing)
                else:
                    change.person(target.id)
                    old = c.execute("SELECT name FROM people WHERE id = ?", (target.id,)).fetchone()[0]
                    c.execute("UPDATE people SET name = ? WHERE id = ?", (name, target.id))
                    summary = f"renamed {old} to {name}"
                    text = f"Renamed {old} to {name}"
                    result = target
            else:
                pid = existing if existing is not None else self._create_person(c, change, name)
                faces = self._faces_of(c, target)
                self._assign(c, change, faces, pid)
                summary = f"named {target} ({len(faces)} faces) {name}"
                text = f"Named {plural(len(faces), 'face')} {name}"
                result = Target("person", pid)
            self._learn(c, change)
            self._record(c, change, "name", summary, text)
        return result

    def merge(self, targets) -> Target:
        """Merge people and groups into one. The first person among them keeps its name (the
        others' faces become confirmed faces of it); groups alone merge into the first group."""
        targets = [t if isinstance(t, Target) else self.resolve(t) for t in targets]
        if len({(t.kind, t.id) for t in targets}) < 2:
            raise UserError("merge needs at least two different people or groups")
        with self.db.transaction() as c:
            change = _Change(c)
            names = [_who(c, t) for t in targets]
            people = [t for t in targets if t.kind == "person"]
            groups = [t for t in targets if t.kind == "group"]
            if people:
                into = people[0].id
                self._merge_people(c, change, into, [t.id for t in people[1:] if t.id != into])
                for g in groups:
                    self._assign(c, change, self._faces_of(c, g), into)
                result = Target("person", into)
            else:
                # The user's group from now on: regrouping keeps it whole (``pinned``).
                into = groups[0].id
                for g in groups:
                    faces = self._faces_of(c, g)
                    change.faces_(faces)
                    c.executemany("UPDATE assignments SET group_id = ?, pinned = 1 WHERE face_id = ?",
                                  [(into, f) for f in faces])
                result = groups[0]
            self._learn(c, change)
            self._record(c, change, "merge", f"merged {', '.join(map(str, targets[1:]))} into {targets[0]}",
                         f"Merged {_and(names[1:])} into {names[0]}")
        return result

    def move(self, face_ids, to=None, new_name: str | None = None) -> Target:
        """Split: move faces to another person (``to``), a new person (``new_name``), or, with
        neither, into a new unnamed group of their own."""
        with self.db.transaction() as c:
            faces = self._check_faces(c, face_ids)
            change = _Change(c)
            if new_name is not None:
                name = _clean_name(new_name)
                pid = self.person_by_name(name)
                if pid is None:
                    pid = self._create_person(c, change, name)
                result = Target("person", pid)
            elif to is not None:
                result = to if isinstance(to, Target) else self.resolve(to)
            else:
                result = Target("group", new_group_id(self.db))
            if result.kind == "person":
                self._assign(c, change, faces, result.id)
            else:
                # Faces moved into a group, and the groups they left, are the user's groups from
                # now on: regrouping keeps each whole and apart from the others (``pinned``).
                left = {r[0] for f in faces for r in c.execute(
                    "SELECT group_id FROM assignments WHERE face_id = ? AND group_id IS NOT NULL", (f,))}
                stay = [r[0] for g in left | {result.id} for r in c.execute(
                    "SELECT face_id FROM assignments WHERE group_id = ?", (g,))]
                change.faces_(faces)
                change.faces_(stay)
                c.executemany("UPDATE assignments SET pinned = 1 WHERE face_id = ?", [(f,) for f in stay])
                for f in faces:
                    c.execute(
                        "INSERT OR REPLACE INTO assignments(face_id, person_id, group_id, state, confidence, pinned) "
                        "VALUES (?, NULL, ?, 'auto', NULL, 1)", (f, result.id),
                    )
                    c.execute("UPDATE faces SET ignored = 0 WHERE id = ?", (f,))
            self._learn(c, change)
            where = (_who(c, result) if result.kind == "person" or to is not None else "a group of their own")
            self._record(c, change, "move", f"moved {len(faces)} faces to {result}",
                         f"Moved {plural(len(faces), 'face')} to {where}")
        return result

    def reject(self, face_ids) -> int:
        """"Not this person": remembered, so the face is never suggested to them again. The face
        goes to whoever else it is recognised as, or to a group of its own. Returns the count."""
        with self.db.transaction() as c:
            faces = self._check_faces(c, face_ids)
            change = _Change(c)
            change.faces_(faces)
            now = time.time()
            rejected, was = [], set()
            for f in faces:
                a = c.execute("SELECT person_id, group_id FROM assignments WHERE face_id = ?", (f,)).fetchone()
                if a is None:
                    continue
                was.add(_who(c, Target("person", a["person_id"])) if a["person_id"] is not None else "their group")
                if a["person_id"] is not None:
                    c.execute(
                        "INSERT OR IGNORE INTO rejections(face_id, person_id, created_at) VALUES (?, ?, ?)",
                        (f, a["person_id"], now),
                    )
                    c.execute("UPDATE people SET cover_face_id = NULL WHERE id = ? AND cover_face_id = ?", (a["person_id"], f))
                c.execute("DELETE FROM assignments WHERE face_id = ?", (f,))
                rejected.append(f)
            placeholders = ",".join("?" * len(rejected))
            _, matches = (suggest(self.db, self.model_version, self.thresholds, f"f.id IN ({placeholders})", rejected)
                          if rejected else (None, {}))
            write_suggestions(c, matches)
            for f in rejected:
                if f not in matches:
                    c.execute("INSERT INTO assignments(face_id, group_id, state) VALUES (?, ?, 'auto')", (f, new_group_id(self.db)))
            self._record(c, change, "reject", f"rejected {len(rejected)} faces",
                         f"Marked {plural(len(rejected), 'face')} as not {_and(sorted(was)) or 'anyone'}")
        return len(rejected)

    def confirm(self, face_ids=None, person=None, min_confidence: float | None = None) -> int:
        """Confirm suggestions: the given faces, or every suggestion of ``person`` (those at least
        ``min_confidence`` sure, if given: ``Library.sure_confidence`` for the sure ones)."""
        with self.db.transaction() as c:
            if person is not None:
                target = person if isinstance(person, Target) else self.resolve(person)
                if target.kind != "person":
                    raise UserError("only a person's suggestions can be confirmed; name the group instead")
                faces = [r[0] for r in c.execute(
                    "SELECT face_id FROM assignments WHERE person_id = ? AND state = 'suggested' "
                    "AND (? IS NULL OR confidence >= ?)", (target.id, min_confidence, min_confidence))]
            else:
                faces = self._check_faces(c, face_ids or [])
            change = _Change(c)
            change.faces_(faces)
            n = 0
            for f in faces:
                n += c.execute(
                    "UPDATE assignments SET state = 'confirmed', confidence = NULL "
                    "WHERE face_id = ? AND state = 'suggested'", (f,),
                ).rowcount
            self._learn(c, change)
            self._record(c, change, "confirm", f"confirmed {n} faces", f"Confirmed {plural(n, 'face')}")
        return n

    def hide(self, target, hidden: bool = True) -> None:
        target = target if isinstance(target, Target) else self.resolve(target)
        if target.kind != "person":
            raise UserError("only a named person can be hidden")
        with self.db.transaction() as c:
            change = _Change(c)
            change.person(target.id)
            c.execute("UPDATE people SET hidden = ? WHERE id = ?", (int(hidden), target.id))
            self._record(c, change, "hide", f"{'hid' if hidden else 'showed'} {target}",
                         f"{'Hid' if hidden else 'Showed'} {_who(c, target)}")

    def ignore(self, face_ids, ignored: bool = True) -> None:
        """Ignore faces (a poster, a stranger): out of every person, group and search."""
        with self.db.transaction() as c:
            faces = self._check_faces(c, face_ids)
            change = _Change(c)
            change.faces_(faces)
            for f in faces:
                c.execute("UPDATE faces SET ignored = ? WHERE id = ?", (int(ignored), f))
                if ignored:
                    c.execute("DELETE FROM assignments WHERE face_id = ?", (f,))
                elif not c.execute("SELECT 1 FROM assignments WHERE face_id = ?", (f,)).fetchone():
                    c.execute("INSERT INTO assignments(face_id, group_id, state) VALUES (?, ?, 'auto')", (f, new_group_id(self.db)))
            self._record(c, change, "ignore", f"{'ignored' if ignored else 'restored'} {len(faces)} faces",
                         f"{'Ignored' if ignored else 'Brought back'} {plural(len(faces), 'face')}")

    def add_face(self, photo_id: int, box, landmarks, embedding, frontal, name: str) -> tuple[int, Target]:
        """A face the detector missed, drawn by hand and embedded by the caller: stored and named
        in one decision (undo removes the face). Score 0: never chosen as a cover over a detected
        face. Returns the face id and the person."""
        from .store.records import encode_array

        name = _clean_name(name)
        with self.db.transaction() as c:
            if not c.execute("SELECT 1 FROM photos WHERE id = ? AND status = 'ok'", (int(photo_id),)).fetchone():
                raise UserError("that photo is not in the library")
            x, y, w, h = (float(v) for v in box)
            fid = c.execute(
                "INSERT INTO faces(photo_id, x, y, w, h, landmarks, score, embedding, model_version, frontal) "
                "VALUES (?, ?, ?, ?, ?, ?, 0.0, ?, ?, ?)",
                (int(photo_id), x, y, w, h, encode_array(landmarks), encode_array(embedding), self.model_version,
                 frontal),
            ).lastrowid
            change = _Change(c)
            pid = self.person_by_name(name)
            if pid is None:
                pid = self._create_person(c, change, name)
            self._assign(c, change, [fid], pid)
            change.created_faces = [fid]
            self._learn(c, change)
            self._record(c, change, "draw", f"added face f{fid} drawn by hand as {name}", f"Added a face of {name}")
        return fid, Target("person", pid)

    def set_cover(self, target, face_id) -> None:
        target = target if isinstance(target, Target) else self.resolve(target)
        fid = parse_face_id(face_id)
        if target.kind != "person":
            raise UserError("only a named person has a cover face")
        with self.db.transaction() as c:
            owner = c.execute("SELECT person_id FROM assignments WHERE face_id = ?", (fid,)).fetchone()
            if owner is None or owner[0] != target.id:
                raise UserError(f"face f{fid} is not a face of {target}")
            change = _Change(c)
            change.person(target.id)
            c.execute("UPDATE people SET cover_face_id = ? WHERE id = ?", (fid, target.id))
            self._record(c, change, "cover", f"set the cover of {target}", f"Set the cover of {_who(c, target)}")

    def import_names(self, c, pairs, created_faces, source: str) -> int:
        """Names read from a photo's metadata (``photoface.xmp``), inside the scan's transaction
        ``c``: each (face id, name) is confirmed as that person (created if new) unless the user
        decided otherwise about the face (confirmed, ignored, rejected that person, or kept it in
        a group of their own). Journaled like any decision; undoing it also removes
        ``created_faces``. Recognition is left to the scan's refresh. Returns how many were named."""
        change = _Change(c)
        named = 0
        for fid, raw in pairs:
            try:
                name = _clean_name(raw)
            except UserError:
                continue
            a = c.execute("SELECT state, pinned FROM assignments WHERE face_id = ?", (fid,)).fetchone()
            if (a is not None and (a["state"] == "confirmed" or a["pinned"])) or c.execute(
                    "SELECT ignored FROM faces WHERE id = ?", (fid,)).fetchone()[0]:
                continue
            pid = c.execute("SELECT id FROM people WHERE name = ?", (name,)).fetchone()
            pid = pid[0] if pid else None
            if pid is not None and c.execute(
                    "SELECT 1 FROM rejections WHERE face_id = ? AND person_id = ?", (fid, pid)).fetchone():
                continue
            if pid is None:
                pid = self._create_person(c, change, name)
            self._assign(c, change, [fid], pid)
            named += 1
        change.created_faces = [int(f) for f in created_faces]
        if named or change.created_faces:
            self._record(c, change, IMPORT_ACTION, f"named {named} faces from the metadata of {source}",
                         f"Named {plural(named, 'face')} from the metadata of {Path(source).name}")
        return named

    def squash_imports(self, after_id: int, summary: str) -> None:
        """Join the import entries journaled after ``after_id`` into one, so that one undo takes
        back a scan's imported names; left as they are if any other decision came between."""
        with self.db.transaction() as c:
            rows = c.execute("SELECT id, action, before FROM journal WHERE id > ? ORDER BY id", (after_id,)).fetchall()
            if len(rows) < 2 or any(r["action"] != IMPORT_ACTION for r in rows):
                return
            faces, people, created = {}, {}, []
            for r in rows:  # the earliest before-image of each row is the one to restore
                b = json.loads(r["before"])
                for k, v in b["faces"].items():
                    faces.setdefault(k, v)
                for k, v in b["people"].items():
                    people.setdefault(k, v)
                created += b.get("created_faces", [])
            c.execute("DELETE FROM journal WHERE id > ?", (after_id,))
            c.execute("INSERT INTO journal(action, summary, before, created_at) VALUES (?, ?, ?, ?)",
                      (IMPORT_ACTION, summary, json.dumps({"faces": faces, "people": people, "created_faces": created}),
                       time.time()))

    # -- helpers ----------------------------------------------------------------------------
    def _create_person(self, c, change: _Change, name: str) -> int:
        pid = c.execute("INSERT INTO people(name, created_at) VALUES (?, ?)", (name, time.time())).lastrowid
        change.created(pid)
        return pid

    def _assign(self, c, change: _Change, faces, pid: int) -> None:
        change.faces_(faces)
        for f in faces:
            c.execute("DELETE FROM rejections WHERE face_id = ? AND person_id = ?", (f, pid))
            c.execute(
                "INSERT OR REPLACE INTO assignments(face_id, person_id, group_id, state, confidence) "
                "VALUES (?, ?, NULL, 'confirmed', NULL)", (f, pid),
            )
            c.execute("UPDATE faces SET ignored = 0 WHERE id = ?", (f,))

    def _merge_people(self, c, change: _Change, into: int, others) -> None:
        for other in others:
            change.person(into)
            change.person(other)
            faces = self._faces_of(c, Target("person", other))
            rejected = [r[0] for r in c.execute("SELECT face_id FROM rejections WHERE person_id = ?", (other,))]
            change.faces_(faces + rejected)
            # Suggestions stay suggestions; confirmed faces stay confirmed, now of ``into``.
            c.executemany("UPDATE assignments SET person_id = ? WHERE face_id = ?", [(into, f) for f in faces])
            c.executemany(
                "INSERT OR IGNORE INTO rejections(face_id, person_id, created_at) VALUES (?, ?, ?)",
                [(f, into, time.time()) for f in rejected],
            )
            c.execute("DELETE FROM people WHERE id = ?", (other,))

    def _learn(self, c, change: _Change) -> None:
        """After a decision adds confirmed faces, recognise the faces nobody has decided on yet,
        suggestions included: a suggestion made when fewer people were named (the only named
        person is "clearly nearest" to everyone) gives way to a better match now."""
        _, matches = suggest(self.db, self.model_version, self.thresholds,
                             "a.state IS NULL OR a.state IN ('auto', 'suggested')")
        change.faces_(matches)
        write_suggestions(c, matches)


def _clean_name(name: str) -> str:
    name = " ".join(str(name).split())  # tabs and line breaks become spaces
    if not name:
        raise UserError("a name cannot be empty")
    if len(name) > 200:
        raise UserError("a name can be at most 200 characters")
    # Terminal escapes and bells would be echoed raw by every listing.
    if any(unicodedata.category(ch) == "Cc" for ch in name):
        raise UserError("a name cannot contain control characters (escapes, bells)")
    if _id_like(name):
        raise UserError(f"{name!r} looks like an id (p12, g3, f7): the commands would take it for one; "
                        "choose another name")
    return name


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _image_of(c, image: dict, keep_face_rows: bool = False) -> dict:
    """The rows ``image`` (a before- or after-image) names, as they are now. With
    ``keep_face_rows``, the faces the decision added are kept whole, to be put back by redo."""
    change = _Change(c)
    change.faces_(int(f) for f in image["faces"])
    for pid in image["people"]:
        change.person(int(pid))
    out = {"faces": change.faces, "people": change.people}
    created = [int(f) for f in image.get("created_faces", [])]
    if created:
        out["created_faces"] = created
        if keep_face_rows:
            rows = c.execute(f"SELECT * FROM faces WHERE id IN ({','.join('?' * len(created))})", created).fetchall()
            out["face_rows"] = [{k: (base64.b64encode(r[k]).decode() if k in _BLOBS and r[k] is not None else r[k])
                                 for k in r.keys()} for r in rows]
    return out


def _said(row, gone: int, total: int) -> dict:
    """What an undone or redone entry did, for the command line and for the window."""
    summary, text = row["summary"], row["text"] or row["summary"]
    if gone:
        note = f" ({gone} of its {total} faces are gone with their photos and stay gone)"
        summary, text = summary + note, text + note
    return {"summary": summary, "text": text}


def _who(c, target: Target) -> str:
    """A person's name, or "an unnamed group": what the window says instead of an id."""
    if target.kind == "person":
        row = c.execute("SELECT name FROM people WHERE id = ?", (target.id,)).fetchone()
        if row is not None:
            return row[0]
    return "an unnamed group"


def _and(names) -> str:
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1] if names else ""

"""The library file: created, migrated, refused when it is not ours or is newer."""

from __future__ import annotations

import sqlite3

import pytest

from photoface.errors import LibraryError
from photoface.store import SCHEMA_VERSION, Database


def test_new_library_has_current_schema_and_wal(tmp_path):
    db = Database(tmp_path / "sub" / "lib.sqlite3")
    assert db.scalar("PRAGMA user_version") == SCHEMA_VERSION
    assert db.scalar("PRAGMA journal_mode") == "wal"
    tables = {r[0] for r in db.query("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"photos", "faces", "people", "assignments", "rejections", "journal", "settings"} <= tables


def test_failed_transaction_changes_nothing(tmp_path):
    db = Database(tmp_path / "lib.sqlite3")
    with pytest.raises(RuntimeError):
        with db.transaction() as c:
            c.execute("INSERT INTO people(name, created_at) VALUES ('Ann', 0)")
            raise RuntimeError("crash in the middle")
    assert db.scalar("SELECT COUNT(*) FROM people") == 0


def test_names_are_unique_ignoring_case(tmp_path):
    db = Database(tmp_path / "lib.sqlite3")
    db.execute("INSERT INTO people(name, created_at) VALUES ('Ann', 0)")
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("INSERT INTO people(name, created_at) VALUES ('ann', 0)")


def test_newer_library_is_refused_with_a_clear_message(tmp_path):
    path = tmp_path / "lib.sqlite3"
    Database(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(LibraryError, match="newer PhotoFace"):
        Database(path)


def test_a_file_that_is_not_a_library_is_refused(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("my shopping list\n" * 10)
    with pytest.raises(LibraryError, match="not a PhotoFace library"):
        Database(path)
    assert path.read_text().startswith("my shopping list")  # untouched


def test_settings_persist(tmp_path):
    db = Database(tmp_path / "lib.sqlite3")
    db.set_setting("min_face_size", 40)
    db.close()
    assert Database(tmp_path / "lib.sqlite3").get_setting("min_face_size") == "40"


def _library_at_version(path, version: int) -> sqlite3.Connection:
    """A library file made by the first ``version`` migrations, as an older PhotoFace left it."""
    from photoface.store.migrations import MIGRATIONS, _statements

    conn = sqlite3.connect(path, isolation_level=None)
    conn.create_function("face_frontality", 1, lambda blob: 1.0)
    for script in MIGRATIONS[:version]:
        for statement in _statements(script):
            conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {version}")
    return conn


def test_a_version_1_library_gains_frontality_for_its_faces(tmp_path):
    """Migration 2 adds how frontal each face is, computed from the stored landmarks."""
    import numpy as np

    from photoface.store.records import encode_array

    path = tmp_path / "old.sqlite3"
    conn = _library_at_version(path, 1)
    conn.execute("INSERT INTO photos(path, size, mtime_ns, status, scanned_at) VALUES ('/a.jpg', 1, 1, 'ok', 0)")
    frontal = [[30, 40], [70, 40], [50, 55], [35, 75], [65, 75]]
    profile = [[30, 40], [70, 40], [68, 55], [50, 75], [72, 75]]
    for marks in (frontal, profile):
        conn.execute("INSERT INTO faces(photo_id, x, y, w, h, landmarks, score, embedding, model_version) "
                     "VALUES (1, 0, 0, 100, 100, ?, 1.0, ?, 'm')",
                     (encode_array(np.array(marks, np.float32)), encode_array(np.zeros(128))))
    conn.close()
    db = Database(path)
    assert db.scalar("PRAGMA user_version") == SCHEMA_VERSION
    values = [r[0] for r in db.query("SELECT frontal FROM faces ORDER BY id")]
    assert values[0] == pytest.approx(1.0) and values[1] < 0.2


def test_a_version_2_library_keeps_its_groups_as_automatic_ones(tmp_path):
    """Migration 3 marks the groups the user made; a library from before has none."""
    path = tmp_path / "old.sqlite3"
    conn = _library_at_version(path, 2)
    conn.execute("INSERT INTO photos(path, size, mtime_ns, status, scanned_at) VALUES ('/a.jpg', 1, 1, 'ok', 0)")
    conn.execute("INSERT INTO faces(photo_id, x, y, w, h, landmarks, score) VALUES (1, 0, 0, 9, 9, x'00', 1.0)")
    conn.execute("INSERT INTO assignments(face_id, group_id, state) VALUES (1, 4, 'auto')")
    conn.close()
    db = Database(path)
    assert db.scalar("PRAGMA user_version") == SCHEMA_VERSION
    assert [tuple(r) for r in db.query("SELECT face_id, group_id, pinned FROM assignments")] == [(1, 4, 0)]


def test_a_version_3_library_keeps_its_faces_and_never_hands_out_an_id_again(tmp_path):
    """Migration 4 gives faces AUTOINCREMENT ids (copying the table) without losing a row that
    refers to them; ids the undo journal remembers stay taken. Migration 5 marks no photo missing."""
    import json

    path = tmp_path / "old.sqlite3"
    conn = _library_at_version(path, 3)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("INSERT INTO photos(path, size, mtime_ns, status, scanned_at) VALUES ('/a.jpg', 1, 1, 'ok', 0)")
    for _ in range(2):
        conn.execute("INSERT INTO faces(photo_id, x, y, w, h, landmarks, score) VALUES (1, 0, 0, 9, 9, x'00', 1.0)")
    conn.execute("INSERT INTO people(name, cover_face_id, created_at) VALUES ('Ann', 2, 0)")
    conn.execute("INSERT INTO assignments(face_id, person_id, state) VALUES (2, 1, 'confirmed')")
    conn.execute("INSERT INTO rejections(face_id, person_id, created_at) VALUES (1, 1, 0)")
    # A decision on face 7, whose photo was removed since: id 7 must never name another face.
    conn.execute("INSERT INTO journal(action, summary, before, created_at) VALUES ('reject', 'r', ?, 0)",
                 (json.dumps({"faces": {"7": {"assignment": None, "ignored": 0, "rejections": []}}, "people": {}}),))
    conn.close()
    db = Database(path)
    assert db.scalar("PRAGMA user_version") == SCHEMA_VERSION
    assert db.scalar("PRAGMA foreign_keys") == 1
    assert [tuple(r) for r in db.query("SELECT face_id, person_id, state FROM assignments")] == [(2, 1, "confirmed")]
    assert [tuple(r) for r in db.query("SELECT face_id, person_id FROM rejections")] == [(1, 1)]
    assert db.scalar("SELECT cover_face_id FROM people") == 2
    assert db.scalar("SELECT COUNT(*) FROM photos WHERE missing_since IS NOT NULL") == 0
    db.execute("DELETE FROM faces WHERE id = 2")
    new = db.execute("INSERT INTO faces(photo_id, x, y, w, h, landmarks, score) VALUES (1, 0, 0, 9, 9, x'00', 1.0)").lastrowid
    assert new == 8
    assert db.scalar("PRAGMA integrity_check") == "ok"

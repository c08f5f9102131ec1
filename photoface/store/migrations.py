"""The library's schema, as an ordered list of migrations (``PRAGMA user_version`` counts them).

A migration is appended, never edited: a library written by version N of the app is brought up
to date by running migrations N+1.. in one transaction. A library newer than the app is refused
(see ``Database``), so an old app never misreads data it does not understand.
"""

from __future__ import annotations

import sqlite3

MIGRATIONS: list[str] = [
    # 1: photos, faces, people, assignments, rejections, the undo journal, settings.
    """
    CREATE TABLE photos (
        id          INTEGER PRIMARY KEY,
        path        TEXT NOT NULL UNIQUE,
        size        INTEGER NOT NULL,
        mtime_ns    INTEGER NOT NULL,
        hash        TEXT,
        width       INTEGER,
        height      INTEGER,
        status      TEXT NOT NULL CHECK (status IN ('ok', 'error')),
        error       TEXT,
        scanned_at  REAL NOT NULL
    );
    CREATE INDEX photos_hash ON photos(hash);

    CREATE TABLE people (
        id             INTEGER PRIMARY KEY,
        name           TEXT NOT NULL UNIQUE COLLATE NOCASE,
        hidden         INTEGER NOT NULL DEFAULT 0,
        cover_face_id  INTEGER REFERENCES faces(id) ON DELETE SET NULL,
        created_at     REAL NOT NULL
    );

    CREATE TABLE faces (
        id             INTEGER PRIMARY KEY,
        photo_id       INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
        x REAL NOT NULL, y REAL NOT NULL, w REAL NOT NULL, h REAL NOT NULL,
        landmarks      BLOB NOT NULL,          -- 5 x 2 float32, original photo pixels
        score          REAL NOT NULL,
        embedding      BLOB,                   -- float32, unit length
        model_version  TEXT,
        ignored        INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX faces_photo ON faces(photo_id);

    -- Who a face is: a person (suggested by recognition or confirmed by the user) or an
    -- unnamed group (automatic). A face without a row is waiting to be grouped.
    CREATE TABLE assignments (
        face_id     INTEGER PRIMARY KEY REFERENCES faces(id) ON DELETE CASCADE,
        person_id   INTEGER REFERENCES people(id) ON DELETE CASCADE,
        group_id    INTEGER,
        state       TEXT NOT NULL CHECK (state IN ('auto', 'suggested', 'confirmed')),
        confidence  REAL,
        CHECK ((person_id IS NULL) != (group_id IS NULL)),
        CHECK ((state = 'auto') = (group_id IS NOT NULL))
    );
    CREATE INDEX assignments_person ON assignments(person_id);
    CREATE INDEX assignments_group ON assignments(group_id);

    -- "This face is not X": never suggested to X again.
    CREATE TABLE rejections (
        face_id     INTEGER NOT NULL REFERENCES faces(id) ON DELETE CASCADE,
        person_id   INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
        created_at  REAL NOT NULL,
        PRIMARY KEY (face_id, person_id)
    );

    -- User decisions with what they changed, so that each can be undone.
    CREATE TABLE journal (
        id          INTEGER PRIMARY KEY,
        action      TEXT NOT NULL,
        summary     TEXT NOT NULL,
        before      TEXT NOT NULL,             -- JSON before-image of the rows it changed
        created_at  REAL NOT NULL
    );

    CREATE TABLE settings (
        key    TEXT PRIMARY KEY,
        value  TEXT NOT NULL
    );
    """,
    # 2: how frontal each face is (0..1, from its landmarks), to choose cover faces that show the
    # person well; face_frontality() is the SQL function Database registers on its connection.
    """
    ALTER TABLE faces ADD COLUMN frontal REAL;
    UPDATE faces SET frontal = face_frontality(landmarks);
    """,
    # 3: unnamed groups the user made (a merge, faces split off into a group): 1 on their faces'
    # rows, so that regrouping keeps such a group whole and apart from the user's other groups.
    """
    ALTER TABLE assignments ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;
    """,
    # 4: face ids are never handed out twice (AUTOINCREMENT): the undo journal and the user's
    # memory ("f12") name faces by id, and a reused id would put a decision on a stranger. SQLite
    # cannot add AUTOINCREMENT in place: the table is copied (``migrate`` turns foreign keys off
    # meanwhile, so that dropping the old table cascades to nothing). Ids the journal or a cover
    # still remembers may lie above today's highest: none of those is handed out again either.
    """
    CREATE TABLE faces_new (
        id             INTEGER PRIMARY KEY AUTOINCREMENT,
        photo_id       INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
        x REAL NOT NULL, y REAL NOT NULL, w REAL NOT NULL, h REAL NOT NULL,
        landmarks      BLOB NOT NULL,
        score          REAL NOT NULL,
        embedding      BLOB,
        model_version  TEXT,
        ignored        INTEGER NOT NULL DEFAULT 0,
        frontal        REAL
    );
    INSERT INTO faces_new(id, photo_id, x, y, w, h, landmarks, score, embedding, model_version, ignored, frontal)
        SELECT id, photo_id, x, y, w, h, landmarks, score, embedding, model_version, ignored, frontal FROM faces;
    DROP TABLE faces;
    ALTER TABLE faces_new RENAME TO faces;
    CREATE INDEX faces_photo ON faces(photo_id);
    DELETE FROM sqlite_sequence WHERE name = 'faces';
    INSERT INTO sqlite_sequence(name, seq) SELECT 'faces', MAX(
        COALESCE((SELECT MAX(id) FROM faces), 0),
        COALESCE((SELECT MAX(CAST(j.key AS INTEGER)) FROM journal, json_each(journal.before, '$.faces') AS j), 0),
        COALESCE((SELECT MAX(cover_face_id) FROM people), 0));
    """,
    # 5: a photo whose folder was missing, empty or unreadable at a scan (an unmounted drive) is
    # kept, with its faces and names, and marked missing since then; a scan that finds it again
    # clears the mark, ``forget-missing`` removes it.
    """
    ALTER TABLE photos ADD COLUMN missing_since REAL;
    """,
    # 6: redo, the library's folders, and each decision described for the window. ``redo`` holds
    # what undo took back (after-images), emptied by the next decision; ``folders`` the folders the
    # user added (a scan adds its own), so "rescan" covers the whole library; ``journal.text`` says
    # what a decision did in words, with names instead of ids.
    """
    CREATE TABLE redo (
        id          INTEGER PRIMARY KEY,
        action      TEXT NOT NULL,
        summary     TEXT NOT NULL,
        text        TEXT,
        after       TEXT NOT NULL,             -- JSON after-image of the rows the decision changed
        created_at  REAL NOT NULL
    );
    CREATE TABLE folders (
        path      TEXT PRIMARY KEY,
        added_at  REAL NOT NULL
    );
    ALTER TABLE journal ADD COLUMN text TEXT;
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the schema up to ``SCHEMA_VERSION``; returns the version found before."""
    found = conn.execute("PRAGMA user_version").fetchone()[0]
    if found >= SCHEMA_VERSION:
        return found
    # A table is rebuilt by copying it (4): with foreign keys on, dropping the old one would
    # delete every row that refers to it. Checked before committing instead.
    keys_on = conn.execute("PRAGMA foreign_keys").fetchone()[0]
    conn.execute("PRAGMA foreign_keys = OFF")
    conn.execute("BEGIN IMMEDIATE")
    try:
        # Another process may have migrated while this one waited for the write lock.
        found = conn.execute("PRAGMA user_version").fetchone()[0]
        for version in range(found + 1, SCHEMA_VERSION + 1):
            for statement in _statements(MIGRATIONS[version - 1]):
                conn.execute(statement)
        broken = conn.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise sqlite3.IntegrityError(f"migration left {len(broken)} rows pointing nowhere")
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    finally:
        conn.execute(f"PRAGMA foreign_keys = {'ON' if keys_on else 'OFF'}")
    return found


def _statements(script: str) -> list[str]:
    # executescript() would commit the open transaction; split and run statements one by one.
    parts, buf = [], []
    for line in script.splitlines():
        buf.append(line)
        if sqlite3.complete_statement("\n".join(buf)):
            parts.append("\n".join(buf).strip())
            buf = []
    return [p for p in parts if p]

"""Core features the window relies on: redo, the library's folders, photos with several people
together, the review queue's unnamed faces, the photo list, and decisions described in words."""

from __future__ import annotations

import time

import numpy as np
import pytest

from photoface.errors import UserError

from .library_fixtures import add_faces, assignment, identities, open_library


@pytest.fixture
def lib(tmp_path):
    library = open_library(tmp_path / "lib.sqlite3")
    yield library
    library.close()


@pytest.fixture
def three_people(lib):
    embs, labels = identities(3, [4, 3, 2])
    ids = add_faces(lib, embs)
    lib.refresh()
    return ids, labels


def groups(lib):
    return [p for p in lib.list_people() if p.kind == "group"]


def snapshot(lib):
    return (lib.db.query("SELECT face_id, person_id, group_id, state FROM assignments ORDER BY face_id"),
            lib.db.query("SELECT id, name, hidden FROM people ORDER BY id"),
            lib.db.query("SELECT id FROM faces ORDER BY id"))


def rows(snap):
    return [[tuple(r) for r in part] for part in snap]


def test_redo_puts_back_each_undone_decision_until_a_new_one(lib, three_people):
    ids, _ = three_people
    states = [rows(snapshot(lib))]
    g = groups(lib)
    lib.people.name(g[0].ref, "Ann")
    states.append(rows(snapshot(lib)))
    lib.people.merge(["Ann", g[1].ref])
    states.append(rows(snapshot(lib)))
    lib.people.ignore([ids[-1]])
    states.append(rows(snapshot(lib)))
    for expected in reversed(states[:-1]):
        lib.people.undo()
        assert rows(snapshot(lib)) == expected
    for expected in states[1:]:
        assert lib.people.can_redo()
        lib.people.redo()
        assert rows(snapshot(lib)) == expected
    with pytest.raises(UserError, match="nothing to redo"):
        lib.people.redo()
    lib.people.undo()
    assert lib.people.can_redo()
    lib.people.hide("Ann")  # a new decision: what was undone cannot come back over it
    assert not lib.people.can_redo()


def test_undo_and_redo_say_what_they_did_in_words_not_ids(lib, three_people):
    ids, _ = three_people
    g = groups(lib)
    lib.people.name(g[0].ref, "Ann")
    lib.people.move([ids[-1]], new_name="Bob")
    undone = lib.people.undo_entry()
    assert undone["text"] == "Moved 1 face to Bob"
    assert undone["summary"].startswith("moved 1 faces to p")  # the command line's, with ids
    assert lib.people.redo_entry()["text"] == "Moved 1 face to Bob"
    assert lib.people.undo_entry()["text"] == "Moved 1 face to Bob"
    assert lib.people.undo_entry()["text"] == "Named 4 faces Ann"


def test_a_face_drawn_by_hand_is_named_and_undo_redo_remove_and_restore_it(lib, three_people):
    photo = lib.db.scalar("SELECT id FROM photos ORDER BY id LIMIT 1")
    marks = np.array([[30, 40], [70, 40], [50, 55], [35, 75], [65, 75]], np.float32)
    emb = identities(1, 1, seed=7)[0][0]
    fid, person = lib.people.add_face(photo, (5, 5, 40, 40), marks, emb, 0.9, "Cleo")
    assert assignment(lib, fid)["name"] == "Cleo" and assignment(lib, fid)["state"] == "confirmed"
    assert lib.people.undo_entry()["text"] == "Added a face of Cleo"  # no "faces are gone" note
    assert lib.db.scalar("SELECT COUNT(*) FROM faces WHERE id = ?", (fid,)) == 0
    assert lib.people.person_by_name("Cleo") is None
    lib.people.redo()
    assert assignment(lib, fid)["name"] == "Cleo"
    box = lib.db.query("SELECT x, y, w, h FROM faces WHERE id = ?", (fid,))[0]
    assert tuple(box) == (5, 5, 40, 40)


def test_scanned_folders_become_library_folders_and_removing_one_removes_its_photos(lib, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    (a / "inner").mkdir(parents=True)
    b.mkdir()
    lib.add_folder(a / "inner")
    lib.add_folder(a)  # replaces the folder inside it
    lib.add_folder(a / "inner")  # already covered
    lib.add_folder(b)
    add_faces(lib, identities(1, 2)[0], prefix=f"{a}/inner/img")
    add_faces(lib, identities(1, 1)[0], prefix=f"{b}/img")
    b.rmdir()
    folders = {f["path"]: f for f in lib.folders()}
    assert list(folders) == [str(a), str(b)]
    assert folders[str(a)]["exists"] and folders[str(a)]["photos"] == 2
    assert not folders[str(b)]["exists"] and folders[str(b)]["photos"] == 1
    assert lib.remove_folder(str(b)) == 1
    assert [f["path"] for f in lib.folders()] == [str(a)]
    assert lib.db.scalar("SELECT COUNT(*) FROM photos") == 2
    with pytest.raises(UserError):
        lib.remove_folder(str(tmp_path / "elsewhere"))


def test_a_library_from_before_folders_were_kept_lists_the_folders_of_its_photos(lib):
    add_faces(lib, identities(1, 2)[0], prefix="/photos/2020/img")
    add_faces(lib, identities(1, 1)[0], prefix="/photos/2020/trip/img")
    add_faces(lib, identities(1, 1)[0], prefix="/other/img")
    assert [f["path"] for f in lib.folders()] == ["/other", "/photos/2020"]


def test_photos_with_several_people_together_and_only_them(lib):
    embs, _ = identities(3, [1, 1, 1])
    with lib.db.transaction() as c:
        now = time.time()
        photos = [c.execute("INSERT INTO photos(path, size, mtime_ns, hash, status, scanned_at) "
                            "VALUES (?, 1, 1, ?, 'ok', ?)", (f"/p/{n}.jpg", n, now)).lastrowid
                  for n in ("ann_bob", "ann_bob_cleo", "ann", "bob")]
    faces = {}
    for photo, who in zip(photos, ("AB", "ABC", "A", "B")):
        for i, letter in enumerate(who):
            with lib.db.transaction() as c:
                faces[(photo, letter)] = c.execute(
                    "INSERT INTO faces(photo_id, x, y, w, h, landmarks, score, embedding, model_version) "
                    "VALUES (?, ?, 0, 10, 10, ?, 0.9, ?, ?)",
                    (photo, 20 * i, np.zeros((5, 2), np.float32).tobytes(),
                     embs["ABC".index(letter)].astype(np.float32).tobytes(), lib.card.version)).lastrowid
    for letter, name in zip("ABC", ("Ann", "Bob", "Cleo")):
        lib.people.move([f for (_, l), f in faces.items() if l == letter], new_name=name)
    found = lib.find_together(["Ann", "Bob"])
    assert [t.path for t in found] == ["/p/ann_bob.jpg", "/p/ann_bob_cleo.jpg"]
    assert found[0].names == ["Ann", "Bob"]
    only = lib.find_together(["Ann", "Bob"], only=True)
    assert [t.path for t in only] == ["/p/ann_bob.jpg"]
    assert [t.path for t in lib.find_together(["Cleo"], only=True)] == []
    with pytest.raises(UserError):
        lib.find_together(["Nobody"])


def test_unnamed_faces_come_biggest_group_first_and_photos_list_their_names(lib, three_people):
    ids, labels = three_people
    queue = lib.unnamed_faces()
    assert len(queue) == len(ids)
    sizes = [sum(1 for f in queue if f["group"] == q["group"]) for q in queue]
    assert sizes == sorted(sizes, reverse=True)
    lib.people.name(groups(lib)[0].ref, "Ann")
    assert all(f["person"] is None for f in lib.unnamed_faces())
    photos = lib.list_photos()
    assert len(photos) == len(ids)
    assert sum(p["names"] == ["Ann"] for p in photos) == 4
    assert lib.list_faces(ignored=True) == []
    lib.people.ignore([ids[-1]])
    assert [f["id"] for f in lib.list_faces(ignored=True)] == [ids[-1]]

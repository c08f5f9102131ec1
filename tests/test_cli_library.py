"""The library commands end to end, as a user types them: JSON everywhere, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

import cv2
import pytest

from photoface.cli import main


@pytest.fixture
def photos(tmp_path, astronaut):
    root = tmp_path / "photos"
    root.mkdir()
    bgr = cv2.cvtColor(astronaut, cv2.COLOR_RGB2BGR)
    cv2.imwrite(str(root / "a.jpg"), bgr)
    cv2.imwrite(str(root / "b.png"), cv2.flip(bgr, 1))
    (root / "bad.jpg").write_bytes(b"garbage")
    return root


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_scan_name_find_verify_export(tmp_path, photos, capsys):
    lib = tmp_path / "lib.sqlite3"
    code, out, err = run(capsys, "scan", "--library", lib, "--json", "--workers", "1", photos)
    assert code == 0
    summary = json.loads(out)
    assert summary["new"] == 2 and summary["faces"] == 2
    assert summary["failed"][0]["path"].endswith("bad.jpg")

    code, out, _ = run(capsys, "people", "--library", lib, "--json")
    (group,) = json.loads(out)
    assert group["id"].startswith("g") and group["faces"] == 2

    assert run(capsys, "name", "--library", lib, group["id"], "Eileen Collins")[0] == 0
    code, out, _ = run(capsys, "faces", "--library", lib, "--json")
    faces = json.loads(out)
    assert {f["person"] for f in faces} == {"Eileen Collins"}
    assert {"id", "path", "box", "landmarks", "score", "group", "state"} <= set(faces[0])

    code, out, _ = run(capsys, "find", "--library", lib, "--person", "Eileen Collins", "--json")
    hits = json.loads(out)
    assert len(hits) == 2 and hits[0]["distance"] <= hits[1]["distance"]
    code, out, _ = run(capsys, "find", "--library", lib, "--photo", photos / "a.jpg", "--json")
    assert json.loads(out)[0]["path"].endswith("a.jpg")

    code, out, _ = run(capsys, "verify", "--library", lib, photos / "a.jpg", photos / "b.png", "--json")
    assert json.loads(out)["same_person"] is True

    code, out, _ = run(capsys, "export", "--library", lib)
    data = json.loads(out)
    assert data["people"][0]["name"] == "Eileen Collins" and len(data["faces"]) == 2
    assert data["decisions"][0]["action"] == "name"

    code, out, _ = run(capsys, "reject", "--library", lib, faces[0]["id"])
    assert code == 0
    code, out, _ = run(capsys, "undo", "--library", lib)
    assert code == 0 and "rejected" in out


def test_embed_prints_boxes_landmarks_and_unit_embeddings(photos, tmp_path, capsys):
    code, out, _ = run(capsys, "embed", "--library", tmp_path / "l.sqlite3", "--json", photos / "a.jpg")
    (item,) = json.loads(out)
    face = item["faces"][0]
    assert len(face["landmarks"]) == 5 and len(face["box"]) == 4
    assert abs(sum(v * v for v in face["embedding"]) - 1) < 1e-3


@pytest.mark.parametrize(
    "argv, message",
    [
        (["name", "g42", "Ann"], "no group g42"),
        (["merge", "Ann", "Bob"], "no person or group 'Ann'"),
        (["reject", "f77"], "no face f77"),
        (["find", "--person", "p9"], "no person p9"),
        (["verify", "/nope/a.jpg", "/nope/b.jpg"], "no such file"),
        (["scan", "/nope/folder"], "no such file or folder"),
        (["undo"], "nothing to undo"),
        (["settings", "--strictness", "3"], "strictness must lie between"),
    ],
)
def test_user_errors_are_one_line_without_traceback(tmp_path, argv, message):
    from photoface.store import Database

    Database(tmp_path / "lib.sqlite3").close()  # an empty library (reading commands create none)
    proc = subprocess.run(
        [sys.executable, "-m", "photoface", *argv, "--library", str(tmp_path / "lib.sqlite3")],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    assert message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_unreadable_and_newer_libraries_are_refused(tmp_path):
    import sqlite3

    bad = tmp_path / "bad.sqlite3"
    bad.write_text("hello")
    newer = tmp_path / "newer.sqlite3"
    conn = sqlite3.connect(newer)
    conn.execute("PRAGMA user_version = 999")
    conn.close()
    for path, message in [(bad, "not a PhotoFace library"), (newer, "newer PhotoFace")]:
        proc = subprocess.run([sys.executable, "-m", "photoface", "people", "--library", str(path)],
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 1 and message in proc.stderr and "Traceback" not in proc.stderr


def test_settings_are_shown_changed_and_kept(tmp_path, capsys):
    lib = tmp_path / "lib.sqlite3"
    code, out, _ = run(capsys, "settings", "--json", "--library", lib)
    before = json.loads(out)
    assert code == 0 and before["strictness"] == 1.0 and before["personalise"] is False
    assert before["group_threshold"] < before["pair_threshold"]  # grouping is the stricter point
    assert before["name_threshold"] <= before["pair_threshold"]  # and naming is never laxer
    run(capsys, "settings", "--strictness", "0.8", "--personalise", "on", "--min-face-size", "40", "--library", lib)
    code, out, _ = run(capsys, "settings", "--json", "--library", lib)
    after = json.loads(out)
    assert after["strictness"] == 0.8 and after["personalise"] is True and after["min_face_size"] == 40
    assert abs(after["pair_threshold"] - 0.8 * before["pair_threshold"]) < 1e-3
    assert abs(after["name_threshold"] - 0.8 * before["name_threshold"]) < 1e-3


def test_library_may_come_before_the_command(tmp_path, photos, capsys):
    lib = tmp_path / "lib.sqlite3"
    assert run(capsys, "--library", lib, "scan", "--workers", "1", photos)[0] == 0
    code, out, _ = run(capsys, "--library", lib, "people", "--json")
    assert code == 0 and json.loads(out)[0]["faces"] == 2
    # Given after the command too, that one wins.
    other = tmp_path / "other.sqlite3"
    assert run(capsys, "settings", "--library", other, "--min-face-size", "20")[0] == 0
    code, out, _ = run(capsys, "--library", lib, "people", "--library", other, "--json")
    assert code == 0 and json.loads(out) == []


def test_output_cut_short_by_a_pipe_is_not_an_error(tmp_path, photos):
    # `photoface embed ... | head -c 1`: the reader leaves after one byte, while there is more
    # than a pipe holds (64 KB) still to write.
    images = " ".join(f'"{photos / "a.jpg"}"' for _ in range(40))
    proc = subprocess.run(
        f'"{sys.executable}" -m photoface embed --library "{tmp_path / "lib.sqlite3"}" --json {images} | head -c 1',
        shell=True, capture_output=True, text=True, timeout=300,
    )
    assert proc.stdout == "["
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr


def test_confirm_person_takes_the_sure_suggestions_unless_asked_for_all(tmp_path, capsys, monkeypatch):
    import numpy as np

    from .library_fixtures import add_faces, at, open_library, synthetic_models

    monkeypatch.setattr("photoface.library.models_dir", synthetic_models)  # the CLI's library too
    path = tmp_path / "lib.sqlite3"
    lib = open_library(path)
    card = lib.card
    e0, e1, e2 = np.eye(128, dtype=np.float32)[:3]
    ids = add_faces(lib, [e0, at(e0, card.sure_threshold * 0.8, e1), at(e0, (card.sure_threshold + card.name_threshold) / 2, e2)])
    lib.people.move([ids[0]], new_name="Ann")
    lib.refresh()
    lib.close()
    code, out, _ = run(capsys, "confirm", "--library", path, "--person", "Ann", "--json")
    assert code == 0 and json.loads(out)["confirmed"] == 1
    code, out, _ = run(capsys, "faces", "--library", path, "--json")
    faces = json.loads(out)
    assert sorted((f["state"], f["sure"]) for f in faces) == [("confirmed", False)] * 2 + [("suggested", False)]
    code, out, _ = run(capsys, "confirm", "--library", path, "--person", "Ann", "--less-sure-too", "--json")
    assert code == 0 and json.loads(out)["confirmed"] == 1

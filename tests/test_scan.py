"""Scanning: incremental, moves keep names, bad files are reported, crashes lose nothing."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

import cv2
import numpy as np
import pytest

from photoface.library import Library


def write_photo(path, rgb, quality=92):
    path.parent.mkdir(parents=True, exist_ok=True)
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    params = [cv2.IMWRITE_JPEG_QUALITY, quality] if path.suffix == ".jpg" else []
    assert cv2.imwrite(str(path), bgr, params)
    return path


@pytest.fixture
def album(tmp_path, astronaut):
    root = tmp_path / "album"
    for i, ext in enumerate([".jpg", ".png", ".webp", ".bmp", ".tiff"]):
        write_photo(root / f"astro{i}{ext}", astronaut)
    write_photo(root / "sub" / "deeper" / "astro_small.jpg", cv2.resize(astronaut, (256, 256)))
    (root / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not really a JPEG")
    (root / "notes.txt").write_text("not a photo")
    (root / ".hidden").mkdir()
    write_photo(root / ".hidden" / "thumb.jpg", astronaut)
    return root


@pytest.fixture
def lib(tmp_path):
    lib = Library.open(tmp_path / "lib.sqlite3")
    yield lib
    lib.close()


def test_scan_finds_faces_in_every_format_and_reports_bad_files(lib, album):
    s = lib.scan([album], workers=2)
    assert s.found == 7 and s.new == 6 and not s.interrupted
    assert [os.path.basename(p) for p, _ in s.failed] == ["broken.jpg"]
    assert lib.stats()["photos"] == 6 and lib.stats()["faces"] == 6
    assert lib.photo_errors()[0]["path"].endswith("broken.jpg")
    # All six are the same face: one group.
    assert [p.faces for p in lib.list_people()] == [6]


def test_photos_from_phones_are_scanned(lib, tmp_path, astronaut):
    """AVIF always; HEIC (an iPhone's default, upper-case suffix too) with pillow-heif."""
    pillow_heif = pytest.importorskip("pillow_heif", reason="pillow-heif is not installed (pip install pillow-heif)")
    from PIL import Image

    root = tmp_path / "phone"
    root.mkdir()
    Image.fromarray(astronaut).save(root / "a.avif", quality=90)
    pillow_heif.from_pillow(Image.fromarray(astronaut)).save(root / "IMG_0001.HEIC", quality=90)
    s = lib.scan([root], workers=1)
    assert s.found == 2 and s.failed == []
    assert lib.stats()["faces"] == 2
    assert [p.faces for p in lib.list_people()] == [2]


def test_rescan_skips_unchanged_files(lib, album):

    lib.scan([album], workers=1)
    s = lib.scan([album], workers=1)
    assert (s.new, s.changed, s.unchanged, s.faces) == (0, 0, 7, 0)


def test_moved_and_renamed_photos_keep_their_faces_and_names(lib, album, tmp_path):
    lib.scan([album], workers=1)
    group = lib.list_people()[0]
    lib.people.name(group.ref, "Eileen")
    face_ids = {f["id"] for f in lib.list_faces()}
    # Rename one file, move another to a new folder outside the album, then scan both.
    os.rename(album / "astro0.jpg", album / "renamed.jpg")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.move(str(album / "astro1.png"), elsewhere / "moved.png")
    s = lib.scan([album, elsewhere], workers=1)
    assert s.moved == 2 and s.new == 0 and s.removed == 0
    assert {f["id"] for f in lib.list_faces()} == face_ids
    assert {f["person"] for f in lib.list_faces()} == {"Eileen"}
    assert any(f["path"].endswith("moved.png") for f in lib.list_faces())


def _as_if_embedded_by_an_older_model(lib):
    lib.db.execute("UPDATE faces SET model_version = 'an-older-model', embedding = NULL")


def test_a_new_model_re_embeds_known_faces_and_keeps_their_names(lib, album):
    lib.scan([album], workers=1)
    lib.people.name(lib.list_people()[0].ref, "Eileen")
    _as_if_embedded_by_an_older_model(lib)
    s = lib.scan([album], workers=1)
    assert s.reembedded == 6 and s.new == 0 and s.faces == 0
    assert [f for f in s.failed if not f[0].endswith("broken.jpg")] == []
    assert lib.db.scalar("SELECT COUNT(*) FROM faces WHERE model_version IS NOT ? OR embedding IS NULL",
                         (lib.card.version,)) == 0
    assert {f["person"] for f in lib.list_faces()} == {"Eileen"}
    assert [p.faces for p in lib.list_people() if p.name == "Eileen"] == [6]


def test_a_new_model_re_embeds_photos_that_were_touched_but_not_changed(lib, album):
    # Restored from a backup, or copied back: new times, same content. Their faces keep their ids
    # and names, and must still get the new model's embedding in this scan, not the next one.
    lib.scan([album], workers=1)
    lib.people.name(lib.list_people()[0].ref, "Eileen")
    _as_if_embedded_by_an_older_model(lib)
    for path in album.rglob("*"):
        if path.is_file():
            os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    s = lib.scan([album], workers=1)
    assert s.reembedded == 6 and s.new == 0 and s.changed == 0
    assert lib.db.scalar("SELECT COUNT(*) FROM faces WHERE model_version IS NOT ? OR embedding IS NULL",
                         (lib.card.version,)) == 0
    assert [p.faces for p in lib.list_people() if p.name == "Eileen"] == [6]


def test_a_photo_that_cannot_be_re_embedded_is_reported_and_loses_nothing(lib, album, monkeypatch):
    from photoface.analyse import Analyser
    from photoface.errors import PhotoFaceError

    lib.scan([album], workers=1)
    lib.people.name(lib.list_people()[0].ref, "Eileen")
    _as_if_embedded_by_an_older_model(lib)
    real = Analyser.reembed

    def fails_on_one(self, path, landmarks):
        if path.endswith("astro2.webp"):
            raise PhotoFaceError(f"{path}: cannot read file (a disk error)")
        return real(self, path, landmarks)

    monkeypatch.setattr(Analyser, "reembed", fails_on_one)
    s = lib.scan([album], workers=1)
    assert s.reembedded == 5
    [(path, reason)] = [f for f in s.failed if not f[0].endswith("broken.jpg")]
    assert path.endswith("astro2.webp") and "a disk error" in reason and "not re-embedded" in reason
    assert not reason.startswith(path)
    assert {f["person"] for f in lib.list_faces()} == {"Eileen"} and lib.stats()["faces"] == 6
    monkeypatch.setattr(Analyser, "reembed", real)
    assert lib.scan([album], workers=1).reembedded == 1  # the next scan finishes the job
    assert [p.faces for p in lib.list_people() if p.name == "Eileen"] == [6]


def test_deleted_photos_lose_their_faces_but_names_stay(lib, album):
    lib.scan([album], workers=1)
    lib.people.name(lib.list_people()[0].ref, "Eileen")
    for p in album.rglob("astro*"):
        p.unlink()
    s = lib.scan([album], workers=1)
    # sub/deeper is empty now (as an unmounted drive would be): its photo is only missing.
    assert (s.removed, s.missing) == (5, 1) and lib.stats()["faces"] == 1
    assert lib.forget_missing([album / "sub"]) == 1 and lib.stats()["faces"] == 0
    assert [p.name for p in lib.list_people()] == ["Eileen"]


def test_an_edited_photo_keeps_its_face_and_name(lib, album, astronaut):
    lib.scan([album], workers=1)
    lib.people.name(lib.list_people()[0].ref, "Eileen")
    target = album / "astro0.jpg"
    before = [f for f in lib.list_faces() if f["path"] == str(target)][0]
    brighter = np.clip(astronaut.astype(int) + 12, 0, 255).astype(np.uint8)
    write_photo(target, brighter)
    s = lib.scan([album], workers=1)
    assert s.changed == 1
    after = [f for f in lib.list_faces() if f["path"] == str(target)][0]
    assert after["id"] == before["id"] and after["person"] == "Eileen"


@pytest.mark.parametrize("edit", ["crop", "mirror"])
def test_a_cropped_or_mirrored_photo_keeps_its_face_and_name(lib, album, astronaut, edit):
    # The face's box moves, so it no longer overlaps its old box: it is the same face by its
    # embedding, and keeps its id and the user's confirmed name instead of becoming a new face.
    lib.scan([album], workers=1)
    lib.people.name(lib.list_people()[0].ref, "Eileen")
    target = album / "astro0.jpg"
    before = [f for f in lib.list_faces() if f["path"] == str(target)][0]
    write_photo(target, astronaut[40:400, 120:480] if edit == "crop" else astronaut[:, ::-1])
    s = lib.scan([album], workers=1)
    assert s.changed == 1
    [after] = [f for f in lib.list_faces() if f["path"] == str(target)]
    assert after["id"] == before["id"] and after["person"] == "Eileen"
    assert after["state"] == "confirmed"
    assert after["box"][:2] != before["box"][:2]  # where the face now is


def test_scanning_a_missing_folder_is_a_clear_error(lib, tmp_path):
    from photoface.errors import UserError

    with pytest.raises(UserError, match="no such file or folder"):
        lib.scan([tmp_path / "nope"])


def _many_photos(root, astronaut, n):
    rng = np.random.default_rng(0)
    for i in range(n):
        img = np.clip(astronaut.astype(int) + rng.integers(-20, 20), 0, 255).astype(np.uint8)
        write_photo(root / f"p{i:03d}.jpg", img)


def _scan_cmd(lib_path, root):
    return [sys.executable, "-m", "photoface", "scan", "--library", str(lib_path), "--workers", "2", str(root)]


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(c) for c in f.read().split()]
    except OSError:
        return []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_kill_9_mid_scan_then_rescan_leaves_no_duplicates_and_keeps_names(tmp_path, astronaut):
    root = tmp_path / "photos"
    _many_photos(root, astronaut, 6)
    lib_path = tmp_path / "lib.sqlite3"
    subprocess.run(_scan_cmd(lib_path, root), check=True, capture_output=True, timeout=300)
    lib = Library.open(lib_path)
    lib.people.name(lib.list_people()[0].ref, "Eileen")
    lib.close()
    _many_photos(root / "more", astronaut, 40)
    proc = subprocess.Popen(_scan_cmd(lib_path, root), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    lib = Library.open(lib_path)
    while time.time() < deadline and lib.stats()["photos"] < 12:  # killed part-way through
        time.sleep(0.05)
    workers = _children(proc.pid)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    gone_by = time.time() + 5
    while time.time() < gone_by and any(os.path.exists(f"/proc/{w}") for w in workers):
        time.sleep(0.1)
    assert workers and not any(os.path.exists(f"/proc/{w}") for w in workers), "workers outlived the scan"
    done = lib.stats()["photos"]
    assert 6 < done < 46, "the kill should land mid-scan"
    lib.close()
    subprocess.run(_scan_cmd(lib_path, root), check=True, capture_output=True, timeout=300)
    lib = Library.open(lib_path)
    assert lib.db.scalar("SELECT COUNT(*) FROM photos") == 46
    assert lib.db.scalar("SELECT COUNT(DISTINCT path) FROM photos") == 46
    assert lib.db.scalar("SELECT COUNT(*) FROM faces") == 46
    assert lib.db.scalar("PRAGMA integrity_check") == "ok"
    assert [p.name for p in lib.list_people(include_groups=False)] == ["Eileen"]
    assert lib.list_people(include_groups=False)[0].confirmed == 6


def _stored_photos(lib_path) -> int:
    import sqlite3

    if not lib_path.exists():
        return 0
    try:
        con = sqlite3.connect(f"file:{lib_path}?mode=ro", uri=True, timeout=1)
        try:
            return con.execute("SELECT COUNT(*) FROM photos WHERE status = 'ok'").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:  # not created yet, or mid-migration
        return 0


def _ctrl_c_as_in_a_terminal() -> None:
    # A shell starts background jobs (``make test &``, nohup) with SIGINT ignored, and Python then
    # leaves it ignored: the scan would never see the Ctrl-C this test sends. In a terminal it is
    # at its default, as set here.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.skipif(sys.platform == "win32", reason="sends SIGINT to a child process (POSIX)")
def test_ctrl_c_keeps_what_was_scanned(tmp_path, astronaut):
    root = tmp_path / "photos"
    _many_photos(root, astronaut, 120)
    lib_path = tmp_path / "lib.sqlite3"
    proc = subprocess.Popen(_scan_cmd(lib_path, root), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_ctrl_c_as_in_a_terminal)
    deadline = time.time() + 120
    while time.time() < deadline:
        # Poll the file with plain SQL (no Library: its model card and checks are slow to open).
        if _stored_photos(lib_path) >= 3:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    lib = Library.open(lib_path)
    kept = lib.stats()["photos"]
    assert kept >= 3
    s = lib.scan([root], workers=1)
    assert s.unchanged >= kept and lib.stats()["photos"] == 120


def test_faces_of_an_edited_photo_are_matched_to_their_own_old_faces_by_embedding():
    from types import SimpleNamespace

    from photoface.scan import _match_by_embedding
    from photoface.store.records import encode_array

    rng = np.random.default_rng(0)
    a, b, c = (v / np.linalg.norm(v) for v in rng.normal(size=(3, 128)).astype(np.float32))
    near = lambda v: (v + 0.01 * rng.normal(size=128)).astype(np.float32) / np.linalg.norm(v)  # noqa: E731
    old = [{"id": 1, "embedding": encode_array(a), "model_version": "m"},
           {"id": 2, "embedding": encode_array(b), "model_version": "m"},
           {"id": 3, "embedding": encode_array(c), "model_version": "an older model"}]
    new = [SimpleNamespace(embedding=e) for e in (near(b), near(a), near(c), rng.normal(size=128).astype(np.float32))]
    matches = [None, None, None, None]
    _match_by_embedding(new, matches, old, "m", 0.044)
    # Each to its own; not to a face of another model (distances mean nothing across models),
    # and a face that looks like none of them is new.
    assert matches == [2, 1, None, None]
    matches = [1, None, None, None]  # the box already matched face 1: it is not given out twice
    _match_by_embedding(new, matches, old, "m", 0.044)
    assert matches == [1, None, None, None]

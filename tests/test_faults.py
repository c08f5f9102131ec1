"""The library under faults, concurrency and hostile files: nothing lost, nothing hangs, and a
fault is one clear line, not a traceback."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from photoface.cli import main
from photoface.errors import LibraryError
from photoface.store import Database

ROOT = Path(__file__).resolve().parent.parent
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def in_other_process(lib_path, code: str) -> None:
    """Run ``code`` with ``db`` open on the library in a separate process (this checkout's code)."""
    script = f"import sys\nfrom photoface.store import Database\ndb = Database(sys.argv[1])\n{code}\ndb.close()\n"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", script, str(lib_path)], check=True, env=env, timeout=60)


def cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@contextlib.contextmanager
def small_tmpfs(tmp_path, size="2m"):
    """A small file system of its own (full disks, read-only and unmounted drives)."""
    if not sys.platform.startswith("linux") or not IS_ROOT:
        pytest.skip("mounting a tmpfs needs Linux and root")
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mnt)],
                      capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here (no CAP_SYS_ADMIN)")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def remount(mnt, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(mnt)], check=True)


# -- the library file ------------------------------------------------------------------------
def test_two_processes_on_one_library_lose_no_write(tmp_path):
    """The window holds two connections; the CLI writes meanwhile. Opening the second connection
    must not drop the first one's locks (which let the CLI delete the WAL under the window)."""
    path = tmp_path / "lib.sqlite3"
    a1 = Database(path)
    a2 = Database(path)
    a1.query("SELECT COUNT(*) FROM people")
    in_other_process(path, "db.query('SELECT COUNT(*) FROM people')")
    a1.execute("INSERT INTO people(name, created_at) VALUES ('window 1', 0)")
    in_other_process(path, "db.execute(\"INSERT INTO people(name, created_at) VALUES ('command line', 0)\")")
    a1.execute("INSERT INTO people(name, created_at) VALUES ('window 2', 0)")
    names = [r[0] for r in a2.query("SELECT name FROM people ORDER BY id")]
    a1.close()
    a2.close()
    assert names == ["window 1", "command line", "window 2"]
    db = Database(path)
    assert db.scalar("PRAGMA integrity_check") == "ok"
    assert db.scalar("SELECT COUNT(*) FROM people") == 3


def test_another_applications_sqlite_file_is_refused_untouched(tmp_path):
    path = tmp_path / "notes.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
    conn.execute("INSERT INTO notes(text) VALUES ('milk')")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(LibraryError, match="not a PhotoFace library"):
        Database(path)
    assert path.read_bytes() == before
    assert not Path(f"{path}-wal").exists()


def test_a_new_library_is_its_owners_alone(tmp_path):
    path = tmp_path / "new" / "deeper" / "lib.sqlite3"
    db = Database(path)
    db.set_setting("x", 1)  # a write: the -wal and -shm exist now
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p
    for folder in (path.parent, path.parent.parent):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    db.close()


def test_reading_commands_create_no_library(tmp_path, capsys, astronaut):
    import cv2

    photo = tmp_path / "a.jpg"
    cv2.imwrite(str(photo), cv2.cvtColor(astronaut, cv2.COLOR_RGB2BGR))
    typo = tmp_path / "typo.sqlite3"
    for argv in (["people"], ["faces"], ["export"], ["errors"], ["find", "--person", "Ann"], ["undo"]):
        code, _, err = cli(capsys, argv[0], "--library", typo, *argv[1:])
        assert code == 1 and "no library here" in err and "Traceback" not in err
        assert not typo.exists()
    code, out, _ = cli(capsys, "embed", "--library", typo, "--json", photo)
    assert code == 0 and not typo.exists()


def test_a_read_only_library_is_one_line_and_leaves_nothing_behind(tmp_path, capsys):
    if IS_ROOT:
        with small_tmpfs(tmp_path) as mnt:
            path = mnt / "lib.sqlite3"
            Database(path).close()
            remount(mnt, "ro")
            code, _, err = cli(capsys, "people", "--library", path)
            assert code == 1 and "read-only" in err and "Traceback" not in err
            assert sorted(p.name for p in mnt.iterdir()) == ["lib.sqlite3"]
        return
    path = tmp_path / "lib.sqlite3"
    Database(path).close()
    path.chmod(0o400)
    code, _, err = cli(capsys, "people", "--library", path)
    assert code == 1 and "read-only" in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lib.sqlite3"]  # no read-only -wal/-shm


def test_a_library_in_a_read_only_folder_says_so(tmp_path, capsys):
    if IS_ROOT:
        with small_tmpfs(tmp_path) as mnt:
            Database(mnt / "lib.sqlite3").close()
            remount(mnt, "ro")
            # The file is read-only too here; a new library in the folder cannot be created.
            code, _, err = cli(capsys, "scan", "--library", mnt / "new.sqlite3", tmp_path)
            assert code == 1 and "cannot create the library" in err and "Traceback" not in err
        return
    folder = tmp_path / "ro"
    folder.mkdir()
    Database(folder / "lib.sqlite3").close()
    folder.chmod(0o500)
    try:
        code, _, err = cli(capsys, "people", "--library", folder / "lib.sqlite3")
        assert code == 1 and "folder is read-only" in err and "not a readable library" not in err
    finally:
        folder.chmod(0o700)


# -- folders that vanish ---------------------------------------------------------------------
@pytest.fixture
def drive(tmp_path, astronaut):
    """A folder of three photos of one face, scanned and named."""
    import cv2

    root = tmp_path / "drive"
    (root / "trip").mkdir(parents=True)
    bgr = cv2.cvtColor(astronaut, cv2.COLOR_RGB2BGR)
    for i, name in enumerate(["a.jpg", "b.png", "trip/c.jpg"]):
        cv2.imwrite(str(root / name), cv2.flip(bgr, 1) if i == 1 else bgr)
    return root


def _scan_and_name(capsys, lib, root):
    import json

    code, out, err = cli(capsys, "scan", "--library", lib, "--workers", "1", "--quiet", "--json", root)
    assert code == 0, err
    code, out, _ = cli(capsys, "people", "--library", lib, "--json")
    (group,) = json.loads(out)
    assert cli(capsys, "name", "--library", lib, group["id"], "Eileen")[0] == 0


def _named_faces(capsys, lib) -> int:
    import json

    out = cli(capsys, "faces", "--library", lib, "--json")[1]
    return sum(f["person"] == "Eileen" and f["state"] == "confirmed" for f in json.loads(out))


def test_an_emptied_folder_keeps_its_photos_and_names_as_missing(tmp_path, capsys, drive):
    """An unmounted drive leaves an empty mount point: its photos are missing, not deleted."""
    import json

    lib = tmp_path / "lib.sqlite3"
    _scan_and_name(capsys, lib, drive)
    away = tmp_path / "away"
    drive.rename(away)
    drive.mkdir()  # the empty mount point
    code, out, _ = cli(capsys, "scan", "--library", lib, "--workers", "1", "--quiet", drive)
    assert code == 0 and "0 removed" in out and "3 photos missing" in out
    assert _named_faces(capsys, lib) == 3
    missing = json.loads(cli(capsys, "missing", "--library", lib, "--json")[1])
    assert sorted(Path(m["path"]).name for m in missing) == ["a.jpg", "b.png", "c.jpg"]
    drive.rmdir()
    away.rename(drive)  # mounted again
    code, out, _ = cli(capsys, "scan", "--library", lib, "--workers", "1", "--quiet", "--json", drive)
    summary = json.loads(out)
    assert (summary["unchanged"], summary["new"], summary["missing"]) == (3, 0, 0)
    assert json.loads(cli(capsys, "missing", "--library", lib, "--json")[1]) == []
    assert _named_faces(capsys, lib) == 3


def test_an_unreadable_subfolder_keeps_its_photos(tmp_path, capsys, drive, monkeypatch):
    lib = tmp_path / "lib.sqlite3"
    _scan_and_name(capsys, lib, drive)
    real_scandir = os.scandir
    trip = str(drive / "trip")

    def scandir(path="."):  # chmod 000 would not stop root: refuse the folder as the OS would
        if os.fspath(path) == trip:
            raise PermissionError(13, "Permission denied", trip)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    code, out, _ = cli(capsys, "scan", "--library", lib, "--workers", "1", "--quiet", drive)
    assert code == 0 and "0 removed" in out and "1 photos missing" in out
    assert _named_faces(capsys, lib) == 3
    # A photo deleted from a folder that still holds photos is removed, as the user meant.
    monkeypatch.setattr(os, "scandir", real_scandir)
    (drive / "b.png").unlink()
    code, out, _ = cli(capsys, "scan", "--library", lib, "--workers", "1", "--quiet", drive)
    assert "1 removed" in out and _named_faces(capsys, lib) == 2


def test_forget_missing_removes_only_the_missing(tmp_path, capsys, drive):
    import shutil

    lib = tmp_path / "lib.sqlite3"
    _scan_and_name(capsys, lib, drive)
    shutil.rmtree(drive / "trip")
    cli(capsys, "scan", "--library", lib, "--workers", "1", "--quiet", drive)
    assert _named_faces(capsys, lib) == 3
    code, out, _ = cli(capsys, "forget-missing", "--library", lib)
    assert code == 0 and "1 missing photos forgotten" in out
    assert _named_faces(capsys, lib) == 2


# -- ids -------------------------------------------------------------------------------------
def test_undo_never_lands_on_a_newcomer_with_a_reused_id(tmp_path, capsys, synthetic_card):
    """Reject the newest face of a named person, remove its photo, add a stranger's face: undo
    must say the face is gone and leave the stranger alone."""
    import numpy as np

    from photoface.library import Library

    from .library_fixtures import add_faces, assignment, identities

    path = tmp_path / "lib.sqlite3"
    lib = Library.open(path)
    embs, _ = identities(2, [3, 1])
    ids = add_faces(lib, embs[:3])
    lib.refresh()
    lib.people.name(f"g{assignment(lib, ids[-1])['group_id']}", "Bystander")
    lib.people.reject([ids[-1]])
    lib.db.execute("DELETE FROM photos WHERE id = (SELECT photo_id FROM faces WHERE id = ?)", (ids[-1],))
    (newcomer,) = add_faces(lib, embs[3:], prefix="/later/img")
    lib.refresh()
    assert newcomer not in ids
    before = assignment(lib, newcomer)
    lib.close()
    code, out, _ = cli(capsys, "undo", "--library", path)
    assert code == 0 and "1 of its 1 faces are gone" in out
    lib = Library.open(path)
    assert assignment(lib, newcomer) == before and before["name"] != "Bystander"
    assert np.all([assignment(lib, f)["name"] == "Bystander" for f in ids[:2]])


# -- hostile files ---------------------------------------------------------------------------
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_fifos_sockets_odd_names_and_link_loops_are_skipped_and_reported(tmp_path, capsys, drive):
    import json
    import socket

    os.mkfifo(drive / "a fifo.jpg")  # would block a reader forever
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(drive / "sock.jpg"))
    os.symlink("loop2.jpg", drive / "loop1.jpg")
    os.symlink("loop1.jpg", drive / "loop2.jpg")
    os.symlink("..", drive / "trip" / "up")  # a folder link back up
    odd = os.fsencode(drive) + b"/caf\xe9.jpg"  # Latin-1, not UTF-8
    with open(odd, "wb") as f:
        f.write((drive / "a.jpg").read_bytes())
    lib = tmp_path / "lib.sqlite3"
    for _ in range(2):  # and every later scan of the folder
        # In a process of its own: a scan that opens the FIFO hangs, and fails here instead.
        proc = subprocess.run([sys.executable, "-m", "photoface", "scan", "--library", str(lib), "--workers", "1",
                               "--quiet", "--json", str(drive)], capture_output=True, text=True, timeout=120,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
        summary = json.loads(proc.stdout)
        reasons = {Path(s["path"]).name: s["reason"] for s in summary["skipped"]}
        assert "FIFO" in reasons["a fifo.jpg"] and "socket" in reasons["sock.jpg"]
        assert "loop" in reasons["loop1.jpg"] and "loop" in reasons["loop2.jpg"] and "loop" in reasons["up"]
        assert "not valid UTF-8" in reasons["caf\\xe9.jpg"]
        assert summary["library"]["photos"] == 3
    code, out, _ = cli(capsys, "scan", "--library", lib, "--workers", "1", "--quiet", drive)
    assert "caf\\xe9.jpg: the file name is not valid UTF-8" in out  # printable, one line
    sock.close()


# -- concurrency -----------------------------------------------------------------------------
def test_two_scans_of_one_folder_at_once_both_finish(tmp_path, drive):
    from photoface.library import Library

    path = tmp_path / "lib.sqlite3"
    first, second = Library.open(path), Library.open(path)
    ran = []

    def meanwhile(progress):  # the first scan has planned; the second stores every photo now
        if progress.phase == "analysing" and progress.total and not ran:
            ran.append(second.scan([drive], workers=1))

    s = first.scan([drive], workers=1, progress=meanwhile)
    assert ran and ran[0].new == 3 and not s.interrupted
    assert first.db.scalar("SELECT COUNT(*) FROM photos") == 3
    assert first.db.scalar("SELECT COUNT(*) FROM faces") == 3
    assert first.db.scalar("PRAGMA integrity_check") == "ok"


def test_naming_while_a_scan_regroups_keeps_the_name_and_groups_the_rest(tmp_path, monkeypatch, synthetic_card):
    import photoface.cluster as cluster
    from photoface.library import Library

    from .library_fixtures import add_faces, assignment, identities

    path = tmp_path / "lib.sqlite3"
    scanning, window = Library.open(path), Library.open(path)
    embs, labels = identities(2, [4, 3])
    ids = add_faces(scanning, embs)
    scanning.refresh()
    real = cluster.group_faces
    named = []

    def group_faces(*args, **kwargs):  # the user names a group while the scan clusters
        if not named:
            named.append(window.people.name(f"g{assignment(window, ids[0])['group_id']}", "Ann"))
        return real(*args, **kwargs)

    monkeypatch.setattr(cluster, "group_faces", group_faces)
    more, _ = identities(2, [0, 2], seed=0)
    new = add_faces(scanning, more, prefix="/later/img")
    scanning.refresh()
    assert named
    for f in ids[:4]:
        assert (assignment(scanning, f)["name"], assignment(scanning, f)["state"]) == ("Ann", "confirmed")
    for f in ids[4:] + new:
        assert assignment(scanning, f)["group_id"] is not None


# -- one line, not a traceback ---------------------------------------------------------------
@pytest.fixture
def small_library(tmp_path, synthetic_card):
    from photoface.library import Library

    from .library_fixtures import add_faces, identities

    path = tmp_path / "lib.sqlite3"
    lib = Library.open(path)
    add_faces(lib, identities(2, [3, 2])[0])
    lib.refresh()
    lib.people.name(lib.list_people()[0].ref, "Ann")
    lib.close()
    return path


@pytest.mark.parametrize("argv", [
    ["reject", "f9223372036854775808"], ["name", "g9223372036854775808", "Bo"],
    ["merge", "Ann", "p99999999999999999999"], ["cover", "Ann", "f18446744073709551616"],
    ["find", "--face", "f9223372036854775808"], ["faces", "g9223372036854775808"],
])
def test_huge_ids_are_unknown_ids(small_library, capsys, argv):
    code, _, err = cli(capsys, argv[0], "--library", small_library, *argv[1:])
    assert code == 1 and err.startswith("photoface: error: no ") and len(err.splitlines()) == 1


@pytest.mark.parametrize("command", ["scan", "settings"])
@pytest.mark.parametrize("size", ["0", "-5"])
def test_a_smallest_face_below_one_pixel_is_refused(tmp_path, capsys, command, size):
    argv = [command, "--library", tmp_path / "lib.sqlite3", "--min-face-size", size]
    with pytest.raises(SystemExit) as info:
        main([str(a) for a in argv + ([tmp_path] if command == "scan" else [])])
    err = capsys.readouterr().err
    assert info.value.code == 2 and "must be at least 1" in err and "Traceback" not in err
    assert not (tmp_path / "lib.sqlite3").exists()


def test_workers_are_capped_at_the_cores():
    from photoface.detection import DetectorSettings
    from photoface.scan import Scanner

    scanner = Scanner(None, DetectorSettings(), "m", workers=64)  # no library needed to plan workers
    assert scanner.workers == (os.cpu_count() or 1)


def test_a_full_disk_is_one_line_and_loses_nothing(tmp_path, capsys, drive):
    import shutil

    with small_tmpfs(tmp_path, size="3m") as mnt:
        lib = mnt / "lib.sqlite3"
        _scan_and_name(capsys, lib, drive)
        more = tmp_path / "more"
        shutil.copytree(drive, more)
        filler = mnt / "filler"
        with contextlib.suppress(OSError), open(filler, "wb") as f:
            while True:  # until the disk is full
                f.write(b"\0" * 4096)
                f.flush()
        code, _, err = cli(capsys, "scan", "--library", lib, "--workers", "1", "--quiet", more)
        assert code == 1 and "disk is full" in err and len(err.splitlines()) == 1
        code, _, err = cli(capsys, "name", "--library", lib, "Ann", "Eileen B")
        assert code == 1 and "Traceback" not in err
        filler.unlink()
        assert _named_faces(capsys, lib) == 3
        db = Database(lib)
        assert db.scalar("PRAGMA integrity_check") == "ok"
        db.close()


# -- names -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name, message", [
    ("\x1b[31mAnn\x1b[0m", "control characters"), ("Ann\x07", "control characters"), ("g46", "looks like an id"),
])
def test_names_that_would_corrupt_a_terminal_or_hide_behind_an_id_are_refused(small_library, capsys, name, message):
    code, out, err = cli(capsys, "name", "--library", small_library, "Ann", name)
    assert code == 1 and message in err and "\x1b" not in err and "\x07" not in err
    out = cli(capsys, "people", "--library", small_library)[1]
    assert "Ann" in out and "\x1b" not in out


def test_a_person_already_named_like_an_id_stays_reachable(small_library, capsys):
    db = Database(small_library)
    db.execute("UPDATE people SET name = 'g46' WHERE name = 'Ann'")  # named before the rule
    db.close()
    code, out, _ = cli(capsys, "faces", "--library", small_library, "g46")
    assert code == 0 and out.count("g46") == 3

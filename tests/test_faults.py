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

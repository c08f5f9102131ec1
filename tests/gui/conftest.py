"""GUI test fixtures: Qt offscreen, settings isolated in tmp_path, a window on a temporary library.

``QT_QPA_PLATFORM=offscreen`` is set here, before pytest-qt creates the QApplication, so the tests
run without a display and never open a window on the developer's screen. Every test gets its own
QSettings folder and library file: the user's recent folders, window geometry and library are never
read or written. Tests that need the album are skipped, with the reason, when the shared data set
is absent (see ``tests/conftest.py``).
"""

from __future__ import annotations

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"  # before Qt loads (pytest-qt makes the app lazily)

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

pytest.importorskip("PySide6", reason="the window needs PySide6 (pip install PySide6-Essentials)")
pytest.importorskip("pytestqt", reason="the GUI tests need pytest-qt")

from ..conftest import DATA, data_dir  # noqa: E402,F401

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
SCAN_WORKERS = 1  # in-process: the models load once per test run; this machine has 2 cores
TIMEOUT_MS = 60_000  # a scan of album-mini takes a few seconds; this is only a safety net


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path, monkeypatch, qapp):
    """QSettings (default-constructed or not) live in tmp_path; the library env points there too."""
    from PySide6.QtCore import QSettings

    folder = tmp_path / "qsettings"
    folder.mkdir()
    for fmt in (QSettings.NativeFormat, QSettings.IniFormat):
        for scope in (QSettings.UserScope, QSettings.SystemScope):
            QSettings.setPath(fmt, scope, str(folder))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(folder))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("PHOTOFACE_LIBRARY", str(tmp_path / "default-library.sqlite3"))
    qapp.setOrganizationName("PhotoFace")
    qapp.setApplicationName("PhotoFace")
    return folder


@pytest.fixture
def app_settings(tmp_path):
    from PySide6.QtCore import QSettings

    from photoface.gui.settings import AppSettings

    return AppSettings(QSettings(str(tmp_path / "photoface.ini"), QSettings.IniFormat))


@pytest.fixture
def make_window(qtbot, tmp_path, app_settings):
    """``make_window(library=None)``: a shown main window on a library file (new in tmp_path by
    default), idle once the library has loaded. Closed (and its threads stopped) after the test."""

    def make(library=None, settings=None):
        from photoface.gui.main_window import MainWindow

        window = MainWindow(library or tmp_path / "library.sqlite3", settings or app_settings,
                            scan_workers=SCAN_WORKERS)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        window.activateWindow()
        wait_idle(qtbot, window)
        return window

    return make


def wait_idle(qtbot, window, timeout=TIMEOUT_MS) -> None:
    """Until no scan runs and no library call is queued (results delivered to the views)."""
    qtbot.waitUntil(window.is_idle, timeout=timeout)


def album(*parts) -> Path:
    return data_dir("album-mini", *parts)


@pytest.fixture(scope="session")
def named_library(tmp_path_factory) -> Path:
    """album-mini/train scanned and named by folder, then album-mini/test scanned (suggestions),
    built once through the Library API (the session test does the same through the window)."""
    from collections import Counter

    from photoface.library import Library

    train, test = album("train"), album("test")
    path = tmp_path_factory.mktemp("named") / "library.sqlite3"
    lib = Library.open(path)
    try:
        lib.scan([train], workers=SCAN_WORKERS)
        # Naming one group can turn another group of the same person into suggestions for the
        # name: look again after each decision, as the window does.
        while groups := [g for g in lib.list_people() if g.kind == "group"]:
            faces = lib.list_faces(lib.people.resolve(groups[0].ref))
            lib.people.name(groups[0].ref, Counter(Path(f["path"]).parent.name for f in faces).most_common(1)[0][0])
        lib.scan([test], workers=SCAN_WORKERS)
    finally:
        lib.close()
    return path


@pytest.fixture
def library_copy(named_library, tmp_path) -> Path:
    """A copy of ``named_library`` this test may change."""
    import shutil

    copy = tmp_path / "library.sqlite3"
    shutil.copyfile(named_library, copy)
    return copy

"""A whole session in a real main window, driven like a user would (keys, the menu, a drop):
open album-mini/train, wait for the scan, name every group, open album-mini/test, see the right
names suggested, find a person, reject a face, undo."""

from __future__ import annotations

import csv
import warnings
from collections import Counter
from pathlib import Path

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QFileDialog, QLineEdit

from photoface.gui.models import SummaryRole, plural

from .conftest import TIMEOUT_MS, album, wait_idle

PEOPLE = {"obama", "biden", "kit_harington", "rose_leslie", "alex_lacamoire"}


def expected_suggestions() -> dict[str, set[str]]:
    """test_expected.csv as {person: {file names of test/ photos they are in}}."""
    out: dict[str, set[str]] = {}
    with open(album("test_expected.csv")) as f:
        for row in csv.DictReader(f):
            for name in row["identities_left_to_right"].split(";"):
                out.setdefault(name, set()).add(Path(row["file"]).name)
    return out


def people_rows(window) -> list:
    """What the people grid shows, top to bottom: (title, PersonSummary)."""
    proxy = window.people_view.proxy
    return [(proxy.index(r, 0).data(), proxy.index(r, 0).data(SummaryRole)) for r in range(proxy.rowCount())]


def drop_folder(widget, folder) -> None:
    """Drag a folder from a file manager and drop it on ``widget`` (enter, move, drop)."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(folder))])
    pos = QPointF(widget.width() / 2, widget.height() / 2)
    with warnings.catch_warnings():  # the QPoint constructors are deprecated in PySide6 6.12
        warnings.simplefilter("ignore", DeprecationWarning)
        enter = QDragEnterEvent(pos.toPoint(), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
        move = QDragMoveEvent(pos.toPoint(), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(widget, enter)
    assert enter.isAccepted(), "the window refused a dragged folder"
    QApplication.sendEvent(widget, move)
    QApplication.sendEvent(widget, QDropEvent(pos, Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier))


def activate(qtbot, window) -> None:
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)


def open_tile(qtbot, window, row: int) -> None:
    grid = window.people_view.grid
    grid.setFocus()
    grid.setCurrentIndex(window.people_view.proxy.index(row, 0))
    qtbot.keyClick(grid, Qt.Key_Return)
    assert window.pages.currentWidget() is window.person_view
    wait_idle(qtbot, window)


def test_whole_session(qtbot, make_window, monkeypatch):
    window = make_window()
    assert window.windowTitle() == "PhotoFace"
    assert not window.windowIcon().isNull()
    assert window.people_view.pages.currentWidget() is window.people_view.empty  # "No people yet"

    # -- open album-mini/train with Ctrl+O (the folder dialog answers at once) ------------------
    train = album("train")
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(lambda *a, **k: str(train)))
    qtbot.keyClick(window, Qt.Key_O, Qt.ControlModifier)
    assert window.controller.scanning, "Ctrl+O did not start a scan"
    assert window.scan_panel.isVisible() and window.scan_panel.cancel.isEnabled()
    assert "Scanning train" in window.statusBar().currentMessage()
    wait_idle(qtbot, window)
    assert not window.scan_panel.isVisible()
    assert window.statusBar().currentMessage().startswith("Scanned train: 9 photos")
    assert window.settings.recent_folders() == [str(train.resolve())]
    assert window.windowTitle() == "PhotoFace — train"

    # Groups of a single face are out of the grid until "Show all": here they are album-mini's people.
    view = window.people_view
    assert view.show_all.isVisible() and "not shown" in view.counts.text()
    qtbot.mouseClick(view.show_all, Qt.LeftButton)
    rows = people_rows(window)
    assert rows and all(title == "Unnamed" and p.kind == "group" for title, p in rows)
    assert sum(p.faces for _, p in rows) >= 9  # a face in each of the 9 photos (and maybe more)
    assert window.stats_label.text().startswith("9 photos · ")
    assert [p.faces for _, p in rows] == sorted((p.faces for _, p in rows), reverse=True)  # by size

    # -- name each group after the folder its faces come from (what the person view shows) --------
    while True:
        groups = [i for i, (_, p) in enumerate(people_rows(window)) if p.kind == "group"]
        if not groups:
            break
        row = groups[0]
        open_tile(qtbot, window, row)
        folders = Counter(Path(f["path"]).parent.name for f in window.person_view.model.faces())
        assert len(folders) == 1, f"a group mixes people: {folders}"
        name = folders.most_common(1)[0][0]
        qtbot.keyClick(window.person_view.grid, Qt.Key_Escape)  # back to the people
        assert window.pages.currentWidget() is window.people_view

        existing = name in window.controller.names()
        grid = window.people_view.grid
        grid.setFocus()
        grid.setCurrentIndex(window.people_view.proxy.index(row, 0))
        qtbot.keyClick(grid, Qt.Key_F2)
        editor = QApplication.focusWidget()
        assert isinstance(editor, QLineEdit), "F2 did not open the name editor"
        qtbot.keyClicks(editor, name)
        qtbot.keyClick(editor, Qt.Key_Return)  # the delegate commits on the next event loop turn
        qtbot.waitUntil(lambda: grid.state() != grid.State.EditingState)
        # The rename is queued once the commit arrives: the window can look idle just before it
        # (seen once in a full run), so wait for the name to show, then for the rest to settle.
        # This timed out about one run in six until 2026-12-02: a cover thumbnail arriving while
        # the name was typed reset the editor to the old (empty) name, so the rename did nothing
        # (fixed in TileDelegate.setEditorData; test_editing.py checks it on its own).
        try:
            qtbot.waitUntil(lambda: name in [t for t, _ in people_rows(window)], timeout=TIMEOUT_MS)
        except qtbot.TimeoutError:
            raise AssertionError(f"renaming a group {name!r} did not show: people "
                                 f"{[t for t, _ in people_rows(window)]}, status "
                                 f"{window.statusBar().currentMessage()!r}, idle {window.is_idle()}") from None
        wait_idle(qtbot, window)
        activate(qtbot, window)  # the completer's popup took the focus (offscreen gives none back)
        titles = [t for t, _ in people_rows(window)]
        assert titles.count(name) == 1, (titles, window.statusBar().currentMessage())
        if existing:
            assert "Added the group to" in window.statusBar().currentMessage()

    rows = people_rows(window)
    assert {t for t, _ in rows} == PEOPLE
    assert all(p.kind == "person" for _, p in rows)

    # -- review: naming can make a person's other train/ photos suggestions; confirm them (Ctrl+Enter)
    for name in sorted(PEOPLE):
        window.people_view.filter.setText(name)
        open_tile(qtbot, window, 0)
        view = window.person_view
        for face in [f for f in view.model.faces() if f["state"] == "suggested"]:
            assert Path(face["path"]).parent.name == name, "a wrong suggestion"
            view.select_face(face["id"])
            qtbot.keyClick(view.grid, Qt.Key_Return, Qt.ControlModifier)
            wait_idle(qtbot, window)
        qtbot.keyClick(view.grid, Qt.Key_Escape)
    window.people_view.filter.setText("")

    # -- open album-mini/test by dropping the folder on the window ------------------------------
    drop_folder(window.people_view.grid.viewport(), album("test"))
    assert window.controller.scanning, "dropping a folder did not start a scan"
    wait_idle(qtbot, window)
    assert window.statusBar().currentMessage().startswith("Scanned test: 6 photos")

    # -- the right names are suggested: each person's page lists their test photos as suggestions
    expected = expected_suggestions()
    for name in sorted(PEOPLE):
        window.people_view.filter.setText(name)
        assert [t for t, _ in people_rows(window)] == [name]
        open_tile(qtbot, window, 0)
        view = window.person_view
        test_dir = str(album("test").resolve())
        suggested = {Path(f["path"]).name for f in view.model.faces()
                     if f["state"] == "suggested" and f["path"].startswith(test_dir)}
        assert suggested == expected.get(name, set()), name
        train = {Path(f["path"]).parent.name for f in view.model.faces() if not f["path"].startswith(test_dir)}
        assert train == {name}  # every face from train/ shown here is of this person
        window.show_people()
    window.people_view.filter.clear()


    # -- find a person by name: Ctrl+F, type, Enter ----------------------------------------------
    activate(qtbot, window)
    qtbot.keyClick(window, Qt.Key_F, Qt.ControlModifier)
    find = window.find_view
    assert window.pages.currentWidget() is find and QApplication.focusWidget() is find.search
    qtbot.keyClicks(find.search, "obama")
    qtbot.keyClick(find.search, Qt.Key_Return)
    wait_idle(qtbot, window)
    hits = find.model.hits()
    obama_photos = expected["obama"] | {p.name for p in album("train", "obama").iterdir()}
    # Every photo of him is found, and ranked above any other photo within the threshold (a
    # model with a loose pair threshold lets Biden's photo in at the end of the list).
    names = [Path(h.path).name for h in hits]
    assert set(names[: len(obama_photos)]) == obama_photos, names
    assert [h.distance for h in hits] == sorted(h.distance for h in hits)  # most similar first
    assert find.heading.text() == f"{len(hits)} photos of obama"
    # The similarity slider: at its strictest only the most similar photos stay (all of his, with
    # a model that keeps everyone else far away).
    find.slider.setValue(find.slider.minimum())
    qtbot.waitUntil(lambda: not find._debounce.isActive())
    wait_idle(qtbot, window)
    close = {Path(h.path).name for h in find.model.hits()}
    assert close and close <= {Path(h.path).name for h in hits} and obama_photos & close
    assert find.heading.text() == f"{plural(len(close), 'photo')} of obama"

    # -- "Find this person" on one face (person view, Ctrl+Shift+F): photos like that face --------
    window.show_people()
    window.people_view.filter.setText("biden")
    open_tile(qtbot, window, 0)
    view = window.person_view
    face = next(f for f in view.model.faces() if f["state"] == "confirmed")
    assert view.select_face(face["id"])
    assert view.actions["find"].isEnabled()
    qtbot.keyClick(view.grid, Qt.Key_F, Qt.ControlModifier | Qt.ShiftModifier)
    assert window.pages.currentWidget() is find
    wait_idle(qtbot, window)
    assert find.heading.text().endswith("with a face like this one")
    found = find.model.hits()
    assert found[0].face_id == face["id"] and found[0].distance < 1e-5  # itself (float rounding)
    assert {h.person for h in found} == {"biden"}
    window.people_view.filter.clear()

    # -- reject a suggested face ("Not this person", Delete), then undo it (Ctrl+Z) -------------
    window.show_people()
    window.people_view.filter.setText("obama")
    open_tile(qtbot, window, 0)
    view = window.person_view

    def obama_files(state="suggested"):
        return {Path(f["path"]).name for f in view.model.faces() if f["state"] == state}

    before = obama_files()
    face = next(f for f in view.model.faces() if Path(f["path"]).name == "obama1.jpg")  # in test/
    assert face["state"] == "suggested"
    assert view.select_face(face["id"])
    assert view.actions["reject"].isEnabled() and view.actions["reject"].text() == "Not this person"
    qtbot.keyClick(view.grid, Qt.Key_Delete)
    wait_idle(qtbot, window)
    assert obama_files() == before - {"obama1.jpg"}
    assert window.statusBar().currentMessage() == "1 face marked as not obama. Ctrl+Z undoes it."
    # Remembered: a rescan (F5) and regrouping never suggests it to him again.
    qtbot.keyClick(window, Qt.Key_F5)
    wait_idle(qtbot, window)
    # Every folder of the library, not only the one opened last.
    assert window.statusBar().currentMessage().startswith("Scanned test, train: 15 photos")
    assert "obama1.jpg" not in obama_files() | obama_files("confirmed")

    qtbot.keyClick(view.grid, Qt.Key_Z, Qt.ControlModifier)
    wait_idle(qtbot, window)
    assert window.statusBar().currentMessage().startswith("Undid: Marked 1 face as not obama")
    assert obama_files() == before

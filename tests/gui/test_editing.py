"""The fragile parts, each on its own: renaming to an existing name (chosen from the completer)
merges, merging by selection and by drag-and-drop, moving faces, confirming, correcting a face
in the photo viewer, undo of each, settings, the unreadable-photos panel, cancelling a scan, the
library staying off the GUI thread, and a grid of 10,000 groups loading only what is on screen."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication, QLineEdit, QMessageBox

from photoface.gui.models import SubtitleRole, SummaryRole, TargetRole
from photoface.gui.settings import AppSettings, SettingsDialog, resolve_library_path
from photoface.library import PersonSummary

from .conftest import album, wait_idle


def rows(window) -> list[tuple[str, PersonSummary]]:
    # album-mini's unnamed groups are single faces, out of the grid by default: these tests use them.
    window.people_view.show_all.setChecked(True)
    proxy = window.people_view.proxy
    return [(proxy.index(r, 0).data(), proxy.index(r, 0).data(SummaryRole)) for r in range(proxy.rowCount())]


def row_of(window, title: str) -> int:
    """The row of a named person, or with "Unnamed" of the biggest unnamed group."""
    return next(i for i, (t, _) in enumerate(rows(window)) if t == title)


def faces_by_ref(window) -> dict[str, int]:
    return {p.ref: p.faces for _, p in rows(window)}


def with_suggestions(window) -> str:
    """The named person with the most suggestions to check (the album has some)."""
    best = max((p for _, p in rows(window) if p.kind == "person"), key=lambda p: p.suggested)
    assert best.suggested, "no person has suggestions to check"
    return best.name


def activate(qtbot, window) -> None:
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)


def undo(qtbot, window) -> str:
    activate(qtbot, window)
    qtbot.keyClick(window, Qt.Key_Z, Qt.ControlModifier)
    wait_idle(qtbot, window)
    message = window.statusBar().currentMessage()
    assert message.startswith("Undid: "), message
    return message


def test_rename_to_an_existing_name_from_the_completer_merges_and_undo_splits(qtbot, make_window, library_copy):
    window = make_window(library_copy)
    before = faces_by_ref(window)
    biden = rows(window)[row_of(window, "biden")][1].ref
    group_row = row_of(window, "Unnamed")
    group = rows(window)[group_row][1].ref
    grid = window.people_view.grid
    grid.setFocus()
    grid.setCurrentIndex(window.people_view.proxy.index(group_row, 0))
    qtbot.keyClick(grid, Qt.Key_F2)
    editor = QApplication.focusWidget()
    assert isinstance(editor, QLineEdit) and editor.text() == ""
    qtbot.keyClicks(editor, "bid")
    popup = editor.completer().popup()
    assert popup.isVisible(), "no name completion offered"
    assert [popup.model().index(r, 0).data() for r in range(popup.model().rowCount())] == ["biden"]
    qtbot.keyClick(popup, Qt.Key_Down)
    qtbot.keyClick(popup, Qt.Key_Return)
    assert editor.text() == "biden"
    qtbot.keyClick(editor, Qt.Key_Return)
    qtbot.waitUntil(lambda: grid.state() != grid.State.EditingState)
    wait_idle(qtbot, window)
    after = faces_by_ref(window)
    assert group not in after and after[biden] == before[biden] + before[group]
    assert window.statusBar().currentMessage() == "Added the group to biden. Ctrl+Z undoes it."

    undo(qtbot, window)
    assert faces_by_ref(window) == before


def test_a_thumbnail_arriving_while_a_name_is_typed_keeps_the_typing(qtbot, make_window, library_copy):
    # A tile's data changing (its cover thumbnail loaded) makes the view reload an open editor
    # from the model: that erased what the user had typed, and the rename then did nothing
    # (seen as the whole-session test failing about one run in six).
    window = make_window(library_copy)
    group_row = row_of(window, "Unnamed")
    grid = window.people_view.grid
    grid.setFocus()
    index = window.people_view.proxy.index(group_row, 0)
    grid.setCurrentIndex(index)
    qtbot.keyClick(grid, Qt.Key_F2)
    editor = QApplication.focusWidget()
    assert isinstance(editor, QLineEdit)
    qtbot.keyClicks(editor, "Someone new")
    model = window.people_view.proxy
    model.dataChanged.emit(index, index, [Qt.DecorationRole])  # as a loaded thumbnail does
    assert editor.text() == "Someone new"
    qtbot.keyClick(editor, Qt.Key_Return)
    qtbot.waitUntil(lambda: grid.state() != grid.State.EditingState)
    wait_idle(qtbot, window)
    assert "Someone new" in [t for t, _ in rows(window)]


def test_merge_selected_with_ctrl_m_and_by_dropping_a_tile(qtbot, make_window, library_copy):
    window = make_window(library_copy)
    before = faces_by_ref(window)
    view = window.people_view
    alex = rows(window)[row_of(window, "alex_lacamoire")][1].ref
    group = rows(window)[row_of(window, "Unnamed")][1].ref
    sel = view.grid.selectionModel()
    for title in ("alex_lacamoire", "Unnamed"):
        sel.select(view.proxy.index(row_of(window, title), 0), QItemSelectionModel.Select)
    assert window.merge_action.isEnabled()
    activate(qtbot, window)
    qtbot.keyClick(window, Qt.Key_M, Qt.ControlModifier)
    wait_idle(qtbot, window)
    assert window.statusBar().currentMessage() == "Merged 1 person and 1 unnamed group into one. Ctrl+Z undoes it."
    merged = faces_by_ref(window)
    assert group not in merged and merged[alex] == before[alex] + before[group]
    undo(qtbot, window)
    assert faces_by_ref(window) == before

    # Drag rose_leslie's tile onto kit_harington's: the grid's model gets the drop.
    proxy = view.proxy
    rose = rows(window)[row_of(window, "rose_leslie")][1].ref
    kit = rows(window)[row_of(window, "kit_harington")][1].ref
    mime = proxy.mimeData([proxy.index(row_of(window, "rose_leslie"), 0)])
    onto = proxy.index(row_of(window, "kit_harington"), 0)
    assert proxy.canDropMimeData(mime, Qt.MoveAction, -1, -1, onto)
    proxy.dropMimeData(mime, Qt.MoveAction, -1, -1, onto)
    wait_idle(qtbot, window)
    merged = faces_by_ref(window)
    assert rose not in merged and merged[kit] == before[kit] + before[rose]
    assert undo(qtbot, window) == "Undid: Merged rose_leslie into kit_harington. Ctrl+Shift+Z redoes it."
    assert faces_by_ref(window) == before  # both people whole again


def open_person(qtbot, window, name):
    window.people_view.filter.setText(name)
    grid = window.people_view.grid
    grid.setFocus()
    grid.setCurrentIndex(window.people_view.proxy.index(0, 0))
    qtbot.keyClick(grid, Qt.Key_Return)
    wait_idle(qtbot, window)
    view = window.person_view
    assert window.pages.currentWidget() is view and view.title.text() == name
    return view


def test_person_view_confirm_move_cover_and_undo(qtbot, make_window, library_copy, monkeypatch):
    window = make_window(library_copy)
    name = with_suggestions(window)
    view = open_person(qtbot, window, name)
    states = {f["id"]: f["state"] for f in view.model.faces()}
    suggested = [fid for fid, s in states.items() if s == "suggested"]
    confirmed = [fid for fid, s in states.items() if s == "confirmed"]
    assert suggested and confirmed

    # Confirm a suggestion (Ctrl+Enter).
    view.select_face(suggested[0])
    qtbot.keyClick(view.grid, Qt.Key_Return, Qt.ControlModifier)
    wait_idle(qtbot, window)
    assert {f["id"]: f["state"] for f in view.model.faces()}[suggested[0]] == "confirmed"
    assert window.statusBar().currentMessage() == "Confirmed 1 face. Ctrl+Z undoes it."
    # A second confirmed face can bring more suggestions for the person (recognition reruns).
    after_confirm = {f["id"] for f in view.model.faces()}

    # Set it as the cover: the badge moves to it.
    view.select_face(suggested[0])
    assert view.actions["cover"].isEnabled()
    view.actions["cover"].trigger()
    wait_idle(qtbot, window)
    assert window.statusBar().currentMessage() == "Cover face set. Ctrl+Z undoes it."
    assert view.model.cover_face_id == suggested[0]
    row = [f["id"] for f in view.model.faces()].index(suggested[0])
    assert view.model.index(row).data(Qt.ItemDataRole.UserRole + 4) == "cover"  # BadgeRole

    # Move a confirmed face to a new person (the name dialog answers "Somebody Else").
    monkeypatch.setattr("photoface.gui.person_view.ask_name", lambda *a, **k: "Somebody Else")
    view.select_face(confirmed[0])
    assert [f["id"] for f in view.selected_faces()] == [confirmed[0]]
    view.actions["move"].trigger()
    wait_idle(qtbot, window)
    assert confirmed[0] not in {f["id"] for f in view.model.faces()}
    assert "Somebody Else" in window.controller.names()

    assert undo(qtbot, window) == "Undid: Moved 1 face to Somebody Else. Ctrl+Shift+Z redoes it."
    assert suggested[1] in {f["id"] for f in view.model.faces()}
    assert "Somebody Else" not in window.controller.names()
    assert undo(qtbot, window) == f"Undid: Set the cover of {name}. Ctrl+Shift+Z redoes it."
    assert {f["id"] for f in view.model.faces()} == after_confirm, "undoing the cover lost faces"
    assert undo(qtbot, window) == "Undid: Confirmed 1 face. Ctrl+Shift+Z redoes it."
    assert {f["id"]: f["state"] for f in view.model.faces()} == states


def test_photo_viewer_click_a_face_to_correct_it(qtbot, make_window, library_copy, monkeypatch):
    window = make_window(library_copy)
    name = with_suggestions(window)
    view = open_person(qtbot, window, name)
    face = next(f for f in view.model.faces() if f["state"] == "suggested")
    view.select_face(face["id"])
    view.actions["open"].trigger()
    viewer = window.photo_viewer
    wait_idle(qtbot, window)
    canvas = viewer.canvas
    qtbot.waitUntil(lambda: canvas.image is not None and any(f["id"] == face["id"] for f in canvas.faces))
    shown = next(f for f in canvas.faces if f["id"] == face["id"])

    # A click on the face opens its menu (exec is replaced: offscreen menus would block).
    opened = []
    monkeypatch.setattr(viewer, "_face_menu", lambda f, pos: opened.append(f))
    canvas.faceActivated.disconnect()
    canvas.faceActivated.connect(viewer._face_menu)
    qtbot.mouseClick(canvas, Qt.LeftButton, pos=canvas.face_rect(shown).center().toPoint())
    assert [f["id"] for f in opened] == [face["id"]]
    menu = viewer.face_menu(shown)
    texts = [a.text() for a in menu.actions()]
    assert f"Yes, this is {name}" in texts and f"Not {name}" in texts and "Find this person" in texts
    next(a for a in menu.actions() if a.text() == f"Yes, this is {name}").trigger()
    wait_idle(qtbot, window)
    assert next(f for f in canvas.faces if f["id"] == face["id"])["state"] == "confirmed"

    # Someone else…: a new name for the face.
    monkeypatch.setattr("photoface.gui.photo_viewer.ask_name", lambda *a, **k: "Barry")
    next(a for a in viewer.face_menu(shown).actions() if a.text() == "Someone else…").trigger()
    wait_idle(qtbot, window)
    assert next(f for f in canvas.faces if f["id"] == face["id"])["person"] == "Barry"
    undo(qtbot, window)
    assert next(f for f in canvas.faces if f["id"] == face["id"])["person"] == name


def test_settings_are_persisted(qtbot, make_window, library_copy, tmp_path, app_settings, monkeypatch):
    window = make_window(library_copy)
    other = tmp_path / "other.sqlite3"

    def answer():
        dlg = QApplication.activeModalWidget()
        if not isinstance(dlg, SettingsDialog):
            QTimer.singleShot(20, answer)
            return
        assert dlg.min_face.value() == 20 and dlg.strictness.value() == 100
        dlg.min_face.setValue(40)
        dlg.strictness.setValue(80)
        dlg.accept()

    QTimer.singleShot(0, answer)
    window.settings_action.trigger()
    qtbot.waitUntil(lambda: hasattr(window, "settings_dialog") and not window.settings_dialog.isVisible())
    wait_idle(qtbot, window)
    assert window.statusBar().currentMessage() == "Settings saved; faces regrouped with the new strictness"
    got = {}
    window.controller.read_settings(got.update)
    wait_idle(qtbot, window)
    assert got["min_face_size"] == 40 and got["strictness"] == 0.8

    # Another library file: remembered for the next start.
    def answer_library():
        dlg = QApplication.activeModalWidget()
        if not isinstance(dlg, SettingsDialog):
            QTimer.singleShot(20, answer_library)
            return
        dlg.library.setText(str(other))
        dlg.accept()

    QTimer.singleShot(0, answer_library)
    window.settings_action.trigger()
    qtbot.waitUntil(lambda: window.controller.library_path == other)
    wait_idle(qtbot, window)
    assert window.people_view.pages.currentWidget() is window.people_view.empty  # a new, empty library
    app_settings.sync()
    again = AppSettings(QSettings(app_settings.store.fileName(), QSettings.IniFormat))
    assert again.library_path() == str(other)
    monkeypatch.delenv("PHOTOFACE_LIBRARY")
    assert resolve_library_path(None, again) == other


def test_unreadable_photos_are_listed_in_a_dismissable_panel(qtbot, make_window, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ("obama.jpg", "obama2.jpg"):
        shutil.copy(album("train", "obama", name), folder / name)
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not a photo")
    window = make_window()
    window.open_folder(str(folder))
    wait_idle(qtbot, window)
    bar = window.errors_bar
    assert bar.isVisible()
    assert bar.message.text() == "1 photo could not be read; the rest were scanned."
    assert not bar.details.isVisible()
    qtbot.mouseClick(bar.toggle, Qt.LeftButton)
    assert bar.details.isVisible() and bar.details.count() == 1
    assert bar.details.item(0).text().startswith(str(folder / "broken.jpg"))
    assert not any(isinstance(w, QMessageBox) and w.isVisible() for w in QApplication.topLevelWidgets())
    assert "1 unreadable" in window.statusBar().currentMessage()
    qtbot.mouseClick(bar.close_button, Qt.LeftButton)
    assert not bar.isVisible()
    assert rows(window)  # the readable photos were scanned


def test_photos_of_an_emptied_folder_are_shown_missing_and_forgotten_on_request(qtbot, make_window, tmp_path,
                                                                               monkeypatch):
    folder = tmp_path / "drive"
    folder.mkdir()
    for name in ("obama.jpg", "obama2.jpg"):
        shutil.copy(album("train", "obama", name), folder / name)
    window = make_window()
    window.open_folder(str(folder))
    wait_idle(qtbot, window)
    faces = sum(s.faces for _, s in rows(window))
    assert faces >= 2
    away = tmp_path / "away"
    folder.rename(away)
    folder.mkdir()  # the drive is unmounted: an empty mount point
    window.open_folder(str(folder))
    wait_idle(qtbot, window)
    assert "2 missing" in window.statusBar().currentMessage()
    assert sum(s.faces for _, s in rows(window)) == faces  # nothing lost
    window.missing_action.trigger()
    wait_idle(qtbot, window)
    bar = window.errors_bar
    assert bar.isVisible() and bar.message.text().startswith("2 photos missing")
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.Yes)
    window.forget_missing_action.trigger()
    qtbot.waitUntil(lambda: not rows(window), timeout=10_000)


def test_cancel_keeps_what_was_scanned_and_reopening_resumes(qtbot, make_window, tmp_path):
    folder = tmp_path / "album"
    folder.mkdir()
    photos = sorted(album("train").rglob("*.jpg")) + sorted(album("test").glob("*.jpg"))
    for i, p in enumerate(photos):
        (folder / f"{i:02d}_{p.name}").symlink_to(p)
    window = make_window()
    window.open_folder(str(folder))
    panel = window.scan_panel
    qtbot.waitUntil(lambda: panel.bar.maximum() > 0 and panel.bar.value() >= 1, timeout=30_000)
    assert "photos" in panel.label.text() and "faces" in panel.label.text()
    qtbot.mouseClick(panel.cancel, Qt.LeftButton)
    wait_idle(qtbot, window)
    message = window.statusBar().currentMessage()
    assert message.startswith("Scan of album stopped; what was scanned is kept"), message
    kept = int(window.stats_label.text().split()[0])
    assert 1 <= kept < len(photos)
    assert rows(window), "the faces scanned before the cancel are grouped and shown"

    window.open_folder(str(folder))  # incremental: only what was not scanned yet
    wait_idle(qtbot, window)
    message = window.statusBar().currentMessage()
    assert message.startswith(f"Scanned album: {len(photos)} photos, {len(photos) - kept} new or changed"), message


def test_library_work_runs_off_the_gui_thread(qtbot, make_window):
    window = make_window()
    got = []
    window.controller.run(lambda lib: threading.get_ident(), got.append)
    wait_idle(qtbot, window)
    assert got and got[0] != threading.get_ident()


def test_ten_thousand_groups_load_only_what_is_on_screen(qtbot, make_window):
    window = make_window()
    photo = str(album("train", "obama", "obama.jpg"))
    people = [PersonSummary("group", i, None, False, 2, 0, 0, 1, i) for i in range(1, 10_001)]
    covers = {i: (photo, (300.0, 100.0, 200.0, 250.0)) for i in range(1, 10_001)}
    asked = []
    images = window.controller.images
    real = images._request
    monkeypatch_request = lambda key, make: (asked.append(key), real(key, make))  # noqa: E731
    images._request = monkeypatch_request
    t = time.perf_counter()
    window.controller.people_model.set_people(people, covers)
    window.grab()
    first = time.perf_counter() - t
    grid = window.people_view.grid
    assert window.people_view.counts.text() == "0 people · 10000 unnamed groups"
    on_screen = len({i.row() for i in (grid.indexAt(grid.viewport().rect().center()),)})
    assert on_screen
    assert 0 < len(set(asked)) < 200, f"{len(set(asked))} thumbnails asked for at once"
    t = time.perf_counter()
    for _ in range(10):
        grid.verticalScrollBar().setValue(grid.verticalScrollBar().value() + grid.viewport().height())
        window.grab()
    page = (time.perf_counter() - t) / 10
    grid.scrollToBottom()
    window.grab()
    assert len(set(asked)) < 1000
    # Generous bounds (a shared 2-core machine): what matters above is that nothing scales with
    # the 10,000 rows; a full-window render per page is far below these on an idle machine.
    assert first < 1.0 and page < 0.3, f"showing 10,000 groups took {first:.2f} s, a page {page:.3f} s"


def test_ctrl_z_in_the_filter_box_undoes_typing_first_then_the_last_decision(qtbot, make_window, library_copy):
    window = make_window(library_copy)
    activate(qtbot, window)
    before = faces_by_ref(window)
    group = rows(window)[row_of(window, "Unnamed")][1].ref
    # A decision to undo: the group joins biden (as the rename test does, through the controller).
    proxy = window.people_view.proxy
    window.controller.rename(proxy.index(row_of(window, "Unnamed"), 0).data(TargetRole), "biden")
    qtbot.waitUntil(lambda: group not in faces_by_ref(window))
    box = window.people_view.filter
    box.setFocus()  # where the focus is when the window opens
    qtbot.keyClicks(box, "bi")
    qtbot.keyClick(box, Qt.Key_Z, Qt.ControlModifier)  # undoes the typing
    wait_idle(qtbot, window)
    assert group not in faces_by_ref(window)
    while box.isUndoAvailable():
        qtbot.keyClick(box, Qt.Key_Z, Qt.ControlModifier)
    assert box.text() == ""
    qtbot.keyClick(box, Qt.Key_Z, Qt.ControlModifier)  # nothing left to type-undo: the decision
    qtbot.waitUntil(lambda: faces_by_ref(window) == before)
    assert window.statusBar().currentMessage().startswith("Undid: ")


def test_confirm_sure_suggestions_leaves_the_less_sure_ones_to_check(qtbot, make_window, library_copy, monkeypatch):
    from photoface.library import Library

    # A sure cut between album-mini's obama suggestions' confidences: a card may call every
    # suggestion sure (the bundled one names no stranger at its naming threshold).
    lib = Library.open(library_copy)
    confidences = sorted(f["confidence"] for f in lib.list_faces()
                         if f["person"] == "obama" and f["state"] == "suggested")
    lib.close()
    assert len(confidences) >= 2 and confidences[0] < confidences[-1], "album-mini's obama has suggestions"
    cut = (confidences[0] + confidences[-1]) / 2
    monkeypatch.setattr(Library, "sure_confidence", property(lambda self: cut))
    window = make_window(library_copy)
    view = open_person(qtbot, window, "obama")
    faces = view.model.faces()
    sure = [f["id"] for f in faces if f["sure"]]
    less_sure = [f["id"] for f in faces if f["state"] == "suggested" and not f["sure"]]
    assert sure and less_sure
    assert "of them sure" in view.info.text()
    assert view.confirm_all_button.isEnabled() and view.confirm_all_button.text() == "Confirm sure suggestions"
    subtitles = {f["id"]: view.model.index(r).data(SubtitleRole) for r, f in enumerate(faces)}
    assert {subtitles[i] for i in sure} == {"suggested · sure"} and {subtitles[i] for i in less_sure} == {"suggested"}

    qtbot.mouseClick(view.confirm_all_button, Qt.LeftButton)
    wait_idle(qtbot, window)
    states = {f["id"]: f["state"] for f in view.model.faces()}
    assert all(states[i] == "confirmed" for i in sure)
    assert not any(states.get(i) == "confirmed" for i in less_sure)
    s = "" if len(sure) == 1 else "s"
    assert window.statusBar().currentMessage() == (
        f"Confirmed {len(sure)} sure suggestion{s}; {len(less_sure)} less sure left to check. Ctrl+Z undoes it.")
    assert undo(qtbot, window).startswith("Undid: Confirmed")
    assert {f["id"]: f["state"] for f in view.model.faces()} == {f["id"]: f["state"] for f in faces}

"""What got in the way of a new user, each fixed and checked as they would notice it: F5 rescans
every library folder, Redo, the keyboard focus after a change of page, Find starting afresh, no
ids or wrong plurals in what the window says, the grid filling during a first scan, missing X11
libraries named with their packages, and face crops at a photo's edge."""

from __future__ import annotations

import re
import shutil

import numpy as np
from PIL import Image
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import QApplication, QLineEdit

from photoface.gui.models import BadgeRole, SubtitleRole, SummaryRole, TargetRole

from .conftest import album, wait_idle

ID = re.compile(r"\b[pgf]\d+\b")


def titles(window) -> list[str]:
    proxy = window.people_view.proxy
    return [proxy.index(r, 0).data() for r in range(proxy.rowCount())]


def row_of(window, title: str) -> int:
    return titles(window).index(title)


def activate(qtbot, window) -> None:
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)


def copy_photos(folder, *names):
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        src = next(album("train").rglob(name))
        shutil.copy(src, folder / name)
    return folder


def test_f5_rescans_every_library_folder_not_only_the_last_opened(qtbot, make_window, tmp_path):
    a = copy_photos(tmp_path / "first", "obama.jpg")
    b = copy_photos(tmp_path / "second", "biden.jpg")
    window = make_window()
    for folder in (a, b):
        window.open_folder(str(folder))
        wait_idle(qtbot, window)
    copy_photos(a, "obama2.jpg")  # a new photo in the folder opened first
    activate(qtbot, window)
    qtbot.keyClick(window, Qt.Key_F5)
    wait_idle(qtbot, window)
    message = window.statusBar().currentMessage()
    assert message.startswith("Scanned first, second: 3 photos, 1 new or changed"), message
    assert window.stats_label.text().startswith("3 photos")


def test_redo_with_ctrl_shift_z_puts_back_what_ctrl_z_took_back(qtbot, make_window, library_copy):
    window = make_window(library_copy)
    assert not window.redo_action.isEnabled()
    grid = window.people_view.grid
    grid.setFocus()
    grid.setCurrentIndex(window.people_view.proxy.index(row_of(window, "obama"), 0))
    activate(qtbot, window)
    qtbot.keyClick(window, Qt.Key_H, Qt.ControlModifier)  # hide obama
    wait_idle(qtbot, window)
    assert "obama" not in titles(window)
    qtbot.keyClick(window, Qt.Key_Z, Qt.ControlModifier)
    wait_idle(qtbot, window)
    assert "obama" in titles(window)
    assert window.statusBar().currentMessage() == "Undid: Hid obama. Ctrl+Shift+Z redoes it."
    assert window.redo_action.isEnabled()
    qtbot.keyClick(window, Qt.Key_Z, Qt.ControlModifier | Qt.ShiftModifier)
    wait_idle(qtbot, window)
    assert "obama" not in titles(window)
    assert window.statusBar().currentMessage() == "Redid: Hid obama"
    assert not window.redo_action.isEnabled()  # nothing more to redo


def test_keyboard_focus_follows_back_and_merge(qtbot, make_window, library_copy):
    window = make_window(library_copy)
    view = window.people_view
    grid = view.grid
    grid.setFocus()
    grid.setCurrentIndex(view.proxy.index(0, 0))
    qtbot.keyClick(grid, Qt.Key_Return)
    wait_idle(qtbot, window)
    assert window.pages.currentWidget() is window.person_view
    assert QApplication.focusWidget() is window.person_view.grid  # arrows and Return work at once
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key_Escape)  # Back
    assert window.pages.currentWidget() is view
    assert QApplication.focusWidget() is grid
    qtbot.keyClick(grid, Qt.Key_Right)
    assert grid.currentIndex().row() == 1
    qtbot.keyClick(grid, Qt.Key_Return)  # Return opens the tile right after Back
    assert window.pages.currentWidget() is window.person_view
    window.back()
    wait_idle(qtbot, window)

    # Ctrl+M merges the selection; the merged person stays current, so F2 renames it at once.
    sel = grid.selectionModel()
    sel.clearSelection()
    for name in ("kit_harington", "rose_leslie"):
        sel.select(view.proxy.index(row_of(window, name), 0), QItemSelectionModel.Select)
    activate(qtbot, window)
    qtbot.keyClick(window, Qt.Key_M, Qt.ControlModifier)
    wait_idle(qtbot, window)
    assert "rose_leslie" not in titles(window)
    assert QApplication.focusWidget() is grid
    assert view.current_target() is not None and window.rename_action.isEnabled()
    qtbot.keyClick(grid, Qt.Key_F2)
    assert isinstance(QApplication.focusWidget(), QLineEdit), "F2 did nothing after Ctrl+M"
    assert QApplication.focusWidget().text() == "kit_harington"


def test_find_starts_afresh_each_search_with_a_fixed_default_mark(qtbot, make_window, library_copy):
    window = make_window(library_copy)
    find = window.find_view
    window.show_find()
    wait_idle(qtbot, window)
    before = find.slider_label.text()
    assert re.fullmatch(r"max distance \d\.\d\d\d \(default\)", before), before
    find.search.setText("obama")
    find._search()
    wait_idle(qtbot, window)
    assert find.slider_label.text() == before  # the same default before and after a search
    assert not find.reset_button.isEnabled()
    find.slider.setValue(find.slider.minimum())
    qtbot.waitUntil(lambda: not find._debounce.isActive())
    wait_idle(qtbot, window)
    assert "(default " in find.slider_label.text() and find.reset_button.isEnabled()
    # The strictest position is a fifth of the default, whatever the model's scale of distances.
    assert abs(find.max_distance - 0.2 * find.threshold) < 1e-9

    # "Find photos of this person" from a tile's menu: the box shows that name, not the old text,
    # and the search is made at the default distance, not the tight one left from before.
    window.show_people()
    biden = view_target(window, "biden")
    window.controller.findPerson.emit(str(biden))
    wait_idle(qtbot, window)
    assert find.search.text() == "biden"
    assert find.slider_label.text() == before
    assert len(find.model.hits()) > 1
    # And the same for "Find this person" on one face: more than the face itself.
    face = next(f for f in window_faces(qtbot, window, biden) if f["state"] == "confirmed")
    window.controller.findFace.emit(face["id"])
    wait_idle(qtbot, window)
    assert find.search.text() == "" and find.slider_label.text() == before
    assert len(find.model.hits()) > 1
    assert not ID.search(find.heading.text()), find.heading.text()


def view_target(window, name):
    return window.people_view.proxy.index(row_of(window, name), 0).data(TargetRole)


def window_faces(qtbot, window, target):
    got = []
    window.controller.run(lambda lib: lib.list_faces(target), got.append)
    qtbot.waitUntil(lambda: bool(got))
    return got[0]


def test_what_the_window_says_has_no_ids_and_right_plurals(qtbot, make_window, library_copy, monkeypatch):
    window = make_window(library_copy)
    view = window.people_view
    view.show_all.setChecked(True)
    proxy = view.proxy
    for r in range(proxy.rowCount()):
        idx = proxy.index(r, 0)
        tip, sub = idx.data(Qt.ToolTipRole), idx.data(SubtitleRole)
        assert not ID.search(tip), tip
        assert "to check" not in sub  # on the tile's face (a badge): the subtitle fits the tile
        assert not re.search(r"\b1 (photos|faces)\b", tip + sub), tip + sub
        p = idx.data(SummaryRole)
        assert idx.data(BadgeRole) == (f"{p.suggested} to check" if p.suggested else None)
    # A face moved to a new person: said with names, one face is "1 face".
    grid = view.grid
    grid.setFocus()
    grid.setCurrentIndex(proxy.index(row_of(window, "obama"), 0))
    qtbot.keyClick(grid, Qt.Key_Return)
    wait_idle(qtbot, window)
    person = window.person_view
    assert not any(ID.search(person.model.index(r).data(Qt.ToolTipRole)) for r in range(person.model.rowCount()))
    person.select_face(person.model.faces()[0]["id"])
    monkeypatch.setattr("photoface.gui.person_view.ask_name", lambda *a, **k: "Barack")
    person.actions["move"].trigger()
    wait_idle(qtbot, window)
    assert window.statusBar().currentMessage() == "Moved 1 face to Barack. Ctrl+Z undoes it."
    activate(qtbot, window)
    qtbot.keyClick(window, Qt.Key_Z, Qt.ControlModifier)
    wait_idle(qtbot, window)
    assert window.statusBar().currentMessage() == "Undid: Moved 1 face to Barack. Ctrl+Shift+Z redoes it."
    # Captions of one person's photos tell them apart: elided in the middle, the end kept.
    assert person.grid.itemDelegate().elide == Qt.ElideMiddle


def test_the_people_grid_fills_while_a_first_scan_runs(qtbot, make_window, monkeypatch):
    from photoface.gui.workers import ScanJob

    monkeypatch.setattr(ScanJob, "group_every_s", 0.0)  # group after every photo here
    window = make_window()
    seen = []
    window.controller.peopleLoaded.connect(
        lambda _: seen.append((window.controller.scanning, window.controller.people_model.rowCount())))
    window.open_folder(str(album("train")))
    assert window.people_view.empty.text().startswith("<h2>Looking for faces")  # not "No people yet"
    wait_idle(qtbot, window)
    assert any(scanning and rows for scanning, rows in seen), seen
    assert window.people_view.pages.currentWidget() is window.people_view.grid


def test_missing_x11_libraries_are_named_with_their_packages_instead_of_an_abort(monkeypatch, capsys):
    from photoface.gui import app, xcb

    absent = {"libxcb-icccm.so.4", "libxcb-keysyms.so.1"}
    monkeypatch.setattr(xcb, "_loadable", lambda name: name not in absent)
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.delenv("QT_QPA_PLATFORM")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)

    def never(*a, **k):
        raise AssertionError("Qt was started without its libraries")

    monkeypatch.setattr(app, "create_app", never)
    assert app.main([]) == 1
    err = capsys.readouterr().err
    assert "libxcb-icccm.so.4, libxcb-keysyms.so.1" in err
    assert "sudo apt install libxcb-icccm4 libxcb-keysyms1" in err
    assert "sudo dnf install xcb-util-keysyms xcb-util-wm" in err
    # Offscreen, on Wayland, or with every library there: no check gets in the way.
    assert xcb.check({"QT_QPA_PLATFORM": "offscreen", "DISPLAY": ":0"}, "linux") is None
    assert xcb.check({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"}, "linux") is None
    assert xcb.check({"DISPLAY": ":0"}, "linux", loadable=lambda n: True) is None
    assert xcb.check({"DISPLAY": ":0"}, "darwin") is None


def test_a_face_at_the_edge_of_a_photo_is_cropped_without_a_grey_block(tmp_path):
    from photoface.gui.thumbnails import face_crop
    from tests.gui.test_screenshots import pixels

    rng = np.random.default_rng(0)
    photo = tmp_path / "edge.png"
    Image.fromarray(rng.integers(150, 256, (300, 400, 3), dtype=np.uint8)).save(photo)
    for box in ((0, 0, 60, 70), (350, 240, 50, 60), (380, 10, 20, 20)):  # corners and an edge
        arr = pixels(face_crop(str(photo), box, 112))
        assert arr.shape[:2] == (112, 112)
        assert arr.min() > 100, f"a dark block in the crop of {box}"

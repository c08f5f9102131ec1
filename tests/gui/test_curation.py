"""Keeping the people grid to the people worth naming: hide a person, ignore an unnamed group's
faces, bring both back from View > Hidden; single-face groups out of the grid until Show all;
people sorted by name, by number of photos, or most recently named first."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import QApplication

from photoface.gui.models import SummaryRole
from photoface.people import Target

from .conftest import wait_idle


def shown(window) -> list:
    proxy = window.people_view.proxy
    return [proxy.index(r, 0).data(SummaryRole) for r in range(proxy.rowCount())]


def titles(window) -> list[str]:
    return [p.name or "Unnamed" for p in shown(window)]


def select(window, row: int) -> None:
    grid = window.people_view.grid
    grid.setFocus()
    grid.selectionModel().setCurrentIndex(window.people_view.proxy.index(row, 0),
                                          QItemSelectionModel.ClearAndSelect)


def press(qtbot, window, key, modifiers=Qt.NoModifier) -> None:
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    qtbot.keyClick(window, key, modifiers)
    wait_idle(qtbot, window)


def test_hide_a_person_ignore_a_group_and_bring_both_back_from_hidden(qtbot, make_window, library_copy):
    window = make_window(library_copy)
    window.people_view.show_all.setChecked(True)
    before = {p.ref: p.faces for p in shown(window)}
    select(window, titles(window).index("obama"))
    press(qtbot, window, Qt.Key_H, Qt.ControlModifier)
    assert "obama" not in titles(window)
    assert window.statusBar().currentMessage().startswith("Hid 1 person")

    group = next(p for p in shown(window) if p.kind == "group")
    select(window, [p.ref for p in shown(window)].index(group.ref))
    press(qtbot, window, Qt.Key_H, Qt.ControlModifier)  # a group has no name to hide: its faces are ignored
    assert group.ref not in {p.ref for p in shown(window)}
    assert window.statusBar().currentMessage().startswith(f"Hid {group.faces} face")

    press(qtbot, window, Qt.Key_5, Qt.ControlModifier)  # View > Hidden
    hidden = window.hidden_view
    assert window.pages.currentWidget() is hidden
    assert [hidden.people_model.index(r).data() for r in range(hidden.people_model.rowCount())] == ["obama"]
    assert hidden.faces_model.rowCount() == group.faces
    assert "1 hidden person" in hidden.people_label.text()

    hidden.people_grid.setCurrentIndex(hidden.people_model.index(0))
    qtbot.mouseClick(hidden.show_button, Qt.LeftButton)
    wait_idle(qtbot, window)
    assert hidden.people_model.rowCount() == 0
    hidden.faces_grid.selectAll()
    qtbot.mouseClick(hidden.restore_button, Qt.LeftButton)
    wait_idle(qtbot, window)
    assert hidden.faces_model.rowCount() == 0

    window.show_people()
    wait_idle(qtbot, window)
    after = {p.ref: p.faces for p in shown(window)}
    assert "obama" in titles(window)
    assert sum(after.values()) == sum(before.values())  # every face back in a person or a group


def test_single_face_groups_stay_out_of_the_grid_until_show_all(qtbot, make_window, library_copy):
    window = make_window(library_copy)
    view = window.people_view
    everyone = view.model.rowCount()
    small = sum(1 for r in range(everyone) if view.model.summary(r).kind == "group" and view.model.summary(r).faces < 2)
    assert small, "album-mini leaves some single-face groups"
    assert view.proxy.rowCount() == everyone - small
    assert view.counts.text().endswith(f"({small} of a single face not shown)")
    assert view.show_all.isVisible()
    qtbot.mouseClick(view.show_all, Qt.LeftButton)
    assert view.proxy.rowCount() == everyone
    assert "not shown" not in view.counts.text()
    qtbot.mouseClick(view.show_all, Qt.LeftButton)
    view.filter.setText("Unnamed")  # typing still finds them
    assert view.proxy.rowCount() == sum(1 for r in range(everyone) if view.model.summary(r).kind == "group")


def test_people_sorted_by_name_by_photos_or_recently_named(qtbot, make_window, library_copy):
    window = make_window(library_copy)
    sort = window.people_view.sort

    def people():
        return [p for p in shown(window) if p.kind == "person"]

    assert [p.name for p in people()] == sorted((p.name for p in people()), key=str.casefold)
    sort.setCurrentIndex(sort.findData("photos"))
    photos = [p.photos for p in people()]
    assert photos == sorted(photos, reverse=True) and photos[0] > photos[-1]
    assert all(p.kind == "person" for p in shown(window)[:len(people())])  # named people still first
    # Name a group now: it is the most recently named.
    window.people_view.show_all.setChecked(True)
    group = next(p for p in shown(window) if p.kind == "group")
    window.controller.rename(Target("group", group.id), "Newest Person")
    wait_idle(qtbot, window)
    sort.setCurrentIndex(sort.findData("recent"))
    assert people()[0].name == "Newest Person"
    sort.setCurrentIndex(sort.findData("name"))
    assert [p.name for p in people()] == sorted((p.name for p in people()), key=str.casefold)


def test_ignore_a_face_in_a_person_and_in_the_photo_viewer(qtbot, make_window, library_copy):
    window = make_window(library_copy)
    grid = window.people_view.grid
    grid.setFocus()
    grid.setCurrentIndex(window.people_view.proxy.index(titles(window).index("obama"), 0))
    qtbot.keyClick(grid, Qt.Key_Return)
    wait_idle(qtbot, window)
    view = window.person_view
    first, second = view.model.faces()[:2]
    view.select_face(first["id"])
    qtbot.keyClick(view.grid, Qt.Key_I, Qt.ControlModifier)
    wait_idle(qtbot, window)
    assert first["id"] not in {f["id"] for f in view.model.faces()}
    assert window.statusBar().currentMessage() == "Ignored 1 face. Ctrl+Z undoes it."

    view.select_face(second["id"])
    qtbot.keyClick(view.grid, Qt.Key_Return)  # open its photo
    viewer = window.photo_viewer
    qtbot.waitUntil(lambda: bool(viewer.canvas.faces))
    face = next(f for f in viewer.canvas.faces if f["id"] == second["id"])
    menu = viewer.face_menu(face)
    next(a for a in menu.actions() if a.text() == "Ignore this face").trigger()
    wait_idle(qtbot, window)
    assert next(f for f in viewer.canvas.faces if f["id"] == second["id"])["state"] == "ignored"
    window.show_hidden()
    wait_idle(qtbot, window)
    assert {f["id"] for f in window.hidden_view.faces_model.faces()} == {first["id"], second["id"]}

"""Screenshots for review: the main window, the people view, a person and the photo viewer are
rendered to PNG under tests/artifacts/ (git-ignored), and checked: not blank, and showing what
a user would expect (tiles with faces and names, suggestion outlines, face boxes with names)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QColor, QImage

from photoface.gui.models import SummaryRole
from photoface.gui.photo_viewer import COLORS, face_label

from .conftest import ARTIFACTS, wait_idle

WIDTH, HEIGHT = 1100, 760


def pixels(image: QImage) -> np.ndarray:
    img = image.convertToFormat(QImage.Format_RGB888)
    arr = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine())
    return arr[:, : 3 * img.width()].reshape(img.height(), img.width(), 3).copy()


def save(widget, name: str) -> np.ndarray:
    """Render ``widget`` to tests/artifacts/NAME.png; its pixels, checked not to be blank."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    image = widget.grab().toImage()
    path = ARTIFACTS / f"{name}.png"
    assert image.save(str(path)), f"could not write {path}"
    arr = pixels(image)
    assert arr.shape[0] > 100 and arr.shape[1] > 100
    colours = len(np.unique(arr.reshape(-1, 3)[::7], axis=0))
    assert colours > 200, f"{name}.png looks blank ({colours} colours)"
    assert arr.std() > 20, f"{name}.png looks blank (flat)"
    return arr


def region(arr: np.ndarray, rect: QRect) -> np.ndarray:
    return arr[max(rect.top(), 0):rect.bottom() + 1, max(rect.left(), 0):rect.right() + 1]


def visible_in(widget, child) -> bool:
    """``child`` is shown and lies inside ``widget`` (not scrolled away or zero-sized)."""
    if not child.isVisible() or child.width() == 0 or child.height() == 0:
        return False
    top_left = child.mapTo(widget, QPoint(0, 0))
    return widget.rect().contains(QRect(top_left, child.size()).center())


def loaded(qtbot, window) -> None:
    """Library results in, and every thumbnail on screen loaded: thumbnails are only asked for
    when a tile is painted, so paint (grab) until a paint asks for nothing new."""
    wait_idle(qtbot, window)
    for _ in range(20):
        window.grab()
        if window.controller.images.idle:
            return
        qtbot.waitUntil(lambda: window.controller.images.idle, timeout=30_000)
        qtbot.wait(20)  # the dataChanged signals
    raise AssertionError("thumbnails keep loading")


def tile_faces_shown(arr, grid, offset: QPoint, rows: int) -> None:
    """Each of the first ``rows`` tiles shows a photo (many colours), not the grey placeholder."""
    delegate = grid.itemDelegate()
    for row in range(rows):
        rect = grid.visualRect(grid.model().index(row, 0))
        img = delegate.image_rect(rect).translated(offset)
        patch = region(arr, img.adjusted(img.width() // 4, img.height() // 4, -img.width() // 4, -img.height() // 4))
        assert patch.size and len(np.unique(patch.reshape(-1, 3), axis=0)) > 50, f"tile {row} shows no face"


def test_main_window_and_people_view(qtbot, make_window, library_copy):
    window = make_window(library_copy)
    window.resize(WIDTH, HEIGHT)
    loaded(qtbot, window)
    arr = save(window, "main_window")
    assert window.windowTitle() == "PhotoFace"
    for child in (window.menuBar(), window.toolbar, window.people_view.grid, window.people_view.filter,
                  window.statusBar()):
        assert visible_in(window, child), child
    assert window.stats_label.text().startswith("15 photos · ")
    assert window.statusBar().currentMessage() in ("Ready", "")  # not "Opening the library…"

    view = window.people_view
    shown = [view.proxy.index(r, 0).data() for r in range(view.proxy.rowCount())]
    assert shown[:5] == sorted(shown[:5], key=str.casefold)  # named people first, by name
    assert set(shown[:5]) == {"alex_lacamoire", "biden", "kit_harington", "obama", "rose_leslie"}
    assert view.counts.text().startswith("5 people")
    offset = view.grid.viewport().mapTo(window, QPoint(0, 0))
    tile_faces_shown(arr, view.grid, offset, 5)

    arr = save(view, "people_view")
    tile_faces_shown(arr, view.grid, view.grid.viewport().mapTo(view, QPoint(0, 0)), 5)


def has_colour(patch: np.ndarray, colour: QColor, tol: int = 40) -> bool:
    target = np.array([colour.red(), colour.green(), colour.blue()])
    return bool((np.abs(patch.astype(int) - target).max(axis=-1) < tol).any())


def open_person(qtbot, window, name: str):  # noqa: D103
    window.people_view.filter.setText(name)
    grid = window.people_view.grid
    grid.setFocus()
    grid.setCurrentIndex(window.people_view.proxy.index(0, 0))
    qtbot.keyClick(grid, Qt.Key_Return)
    assert window.pages.currentWidget() is window.person_view
    loaded(qtbot, window)
    return window.person_view


def with_suggestions(window) -> str:
    """The named person with the most suggestions to check."""
    proxy = window.people_view.proxy
    people = [proxy.index(r, 0).data(SummaryRole) for r in range(proxy.rowCount())]
    best = max((p for p in people if p.kind == "person"), key=lambda p: p.suggested)
    assert best.suggested, "no person has suggestions to check"
    return best.name


def test_person_view(qtbot, make_window, library_copy):
    window = make_window(library_copy)
    window.resize(WIDTH, HEIGHT)
    name = with_suggestions(window)
    view = open_person(qtbot, window, name)
    assert view.title.text() == name
    assert "suggested" in view.info.text()
    faces = view.model.faces()
    states = [f["state"] for f in faces]
    assert states == sorted(states, key=lambda s: s != "confirmed")  # confirmed first
    suggested = [r for r, f in enumerate(faces) if f["state"] == "suggested"]
    assert suggested and all(view.model.index(r).data(Qt.ItemDataRole.UserRole + 4).endswith("%")
                             for r in suggested)  # BadgeRole: the confidence
    for child in (view.grid, view.rename_button, view.confirm_all_button, view.find_button):
        assert visible_in(window, child), child
    view.select_face(faces[suggested[0]]["id"])
    loaded(qtbot, window)
    arr = save(window, "person_view")
    offset = view.grid.viewport().mapTo(window, QPoint(0, 0))
    tile_faces_shown(arr, view.grid, offset, len(faces))
    delegate = view.grid.itemDelegate()
    for r in suggested:  # the dashed suggestion outline is drawn around the face
        img = delegate.image_rect(view.grid.visualRect(view.model.index(r))).translated(offset)
        edge = region(arr, QRect(img.left(), img.top(), img.width(), 4))
        assert has_colour(edge, QColor("#e0a526")), f"no suggestion outline on tile {r}"
    assert view.actions["confirm"].isEnabled() and view.actions["reject"].isEnabled()


def test_photo_viewer(qtbot, make_window, library_copy):
    window = make_window(library_copy)
    window.resize(WIDTH, HEIGHT)
    name = with_suggestions(window)
    view = open_person(qtbot, window, name)
    face = next(f for f in view.model.faces() if f["state"] == "suggested")
    view.select_face(face["id"])
    qtbot.keyClick(view.grid, Qt.Key_Return)  # Open photo
    viewer = window.photo_viewer
    assert window.pages.currentWidget() is viewer
    loaded(qtbot, window)
    canvas = viewer.canvas
    qtbot.waitUntil(lambda: canvas.image is not None and bool(canvas.faces), timeout=30_000)
    assert viewer.title.text() == Path(face["path"]).name
    shown = {f["id"]: f for f in canvas.faces}
    assert face_label(shown[face["id"]]) == f"{name}?"  # suggested: the name with a question mark
    arr = save(window, "photo_viewer")
    offset = canvas.mapTo(window, QPoint(0, 0))
    for f in canvas.faces:
        r = canvas.face_rect(f).toRect().translated(offset)
        assert r.width() > 8 and canvas.rect().translated(offset).contains(r)
        top_edge = region(arr, r.adjusted(-3, -3, 3, -r.height() + 3))
        if f["id"] == face["id"]:
            assert has_colour(top_edge, COLORS["suggested"]), "no suggestion box around the face"
        assert len(np.unique(top_edge.reshape(-1, 3), axis=0)) > 3, "no box drawn around a face"

    # Arrow keys move through the person's photos.
    first = viewer.position.text()
    assert first.endswith(f"of {len(viewer.sequence)}") and len(viewer.sequence) > 1
    qtbot.keyClick(canvas, Qt.Key_Right if viewer.index == 0 else Qt.Key_Left)
    assert viewer.position.text() != first
    loaded(qtbot, window)
    qtbot.waitUntil(lambda: canvas.image is not None and bool(canvas.faces), timeout=30_000)
    assert viewer.title.text() != Path(face["path"]).name

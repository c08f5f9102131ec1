"""The pages a library needs beyond people: its folders (add, remove, missing ones, rescan all),
reviewing unnamed faces one at a time, drawing a face the detector missed, photos with several
people together, every photo by folder and date, and the window staying right while the
command line changes the same library."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from photoface.gui.models import SummaryRole

from .conftest import ROOT, album, wait_idle


def press(qtbot, window, key, modifiers=Qt.NoModifier) -> None:
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    qtbot.keyClick(window, key, modifiers)
    wait_idle(qtbot, window)


def titles(window) -> list[str]:
    proxy = window.people_view.proxy
    return [proxy.index(r, 0).data() for r in range(proxy.rowCount())]


def library_call(qtbot, window, fn):
    got = []
    window.controller.run(fn, got.append)
    qtbot.waitUntil(lambda: bool(got))
    return got[0]


def test_library_folders_listed_missing_shown_removed_and_rescanned(qtbot, make_window, library_copy, tmp_path,
                                                                   monkeypatch):
    gone = tmp_path / "unplugged"
    gone.mkdir()
    window = make_window(library_copy)
    library_call(qtbot, window, lambda lib: lib.add_folder(gone))
    gone.rmdir()
    press(qtbot, window, Qt.Key_4, Qt.ControlModifier)  # View > Library Folders
    view = window.folders_view
    assert window.pages.currentWidget() is view and QApplication.focusWidget() is view.list
    texts = sorted(view.list.item(r).text() for r in range(view.list.count()))
    test, train = str(album("test").resolve()), str(album("train").resolve())
    assert texts == sorted([f"{test}\n  6 photos", f"{train}\n  9 photos",
                            f"{gone}\n  missing: not found now; its 0 photos are kept"])

    view.list.setCurrentRow(next(r for r in range(view.list.count()) if view.list.item(r).text().startswith(test)))
    monkeypatch.setattr(QMessageBox, "question", staticmethod(lambda *a, **k: QMessageBox.Yes))
    qtbot.mouseClick(view.remove_button, Qt.LeftButton)
    wait_idle(qtbot, window)
    assert sorted(view.list.item(r).text().split("\n")[0] for r in range(view.list.count())) == sorted([train, str(gone)])
    assert window.stats_label.text().startswith("9 photos")
    assert album("test", "obama1.jpg").exists()  # the files are never touched

    qtbot.mouseClick(view.rescan_all_button, Qt.LeftButton)  # the folders that are there
    wait_idle(qtbot, window)
    assert window.statusBar().currentMessage().startswith("Scanned train: 9 photos, 0 new")

    # Add Folder… asks for a folder and scans it: it joins the list.
    monkeypatch.setattr("photoface.gui.main_window.QFileDialog.getExistingDirectory",
                        staticmethod(lambda *a, **k: str(album("test"))))
    qtbot.mouseClick(view.add_button, Qt.LeftButton)
    wait_idle(qtbot, window)
    assert test in [view.list.item(r).text().split("\n")[0] for r in range(view.list.count())]


def test_review_queue_names_skips_and_ignores_one_face_at_a_time(qtbot, make_window):
    window = make_window()
    window.open_folder(str(album("train")))  # nobody named yet
    wait_idle(qtbot, window)
    press(qtbot, window, Qt.Key_3, Qt.ControlModifier)  # View > Review Unnamed Faces
    view = window.review_view
    wait_idle(qtbot, window)
    assert window.pages.currentWidget() is view
    queue = [f["id"] for f in view.queue]
    assert len(queue) >= 9, "a face in each of album-mini/train's photos"
    assert view.face["id"] == queue[0] and QApplication.focusWidget() is view.name
    assert view.progress.text().startswith(f"{len(queue)} unnamed faces to review")
    qtbot.waitUntil(lambda: view.face_label.pixmap() is not None and not view.face_label.pixmap().isNull())

    first = view.face
    qtbot.keyClicks(view.name, "Jon Snow")
    qtbot.keyClick(view.name, Qt.Key_Return)
    wait_idle(qtbot, window)
    assert "Jon Snow" in window.controller.names()
    faces = library_call(qtbot, window, lambda lib: lib.list_faces(face_ids=[first["id"]]))
    assert faces[0]["person"] == "Jon Snow" and faces[0]["state"] == "confirmed"
    assert view.face["id"] != first["id"] and view.name.text() == ""

    skipped = view.face["id"]
    qtbot.keyClick(view.name, Qt.Key_PageDown)  # skip
    assert view.face["id"] != skipped and skipped in [f["id"] for f in view.queue]
    ignored = view.face["id"]
    qtbot.keyClick(view.name, Qt.Key_I, Qt.ControlModifier)  # ignore
    wait_idle(qtbot, window)
    assert ignored not in [f["id"] for f in view.queue]
    faces = library_call(qtbot, window, lambda lib: lib.list_faces(face_ids=[ignored]))
    assert faces[0]["state"] == "ignored"
    assert view.face is None or view.face["id"] not in (skipped, ignored)


def test_drawing_a_face_the_detector_missed_names_it_like_any_face(qtbot, make_window, library_copy, monkeypatch):
    window = make_window(library_copy)
    window.resize(1100, 760)
    photo = library_call(qtbot, window, lambda lib: next(p for p in lib.list_photos()
                                                         if p["path"].endswith("obama.jpg")))
    window.show_photos([(photo["id"], photo["path"], None)], 0)
    viewer = window.photo_viewer
    canvas = viewer.canvas
    wait_idle(qtbot, window)
    qtbot.waitUntil(lambda: canvas.image is not None and bool(canvas.faces), timeout=30_000)
    detected = len(canvas.faces)
    monkeypatch.setattr("photoface.gui.photo_viewer.ask_name", lambda *a, **k: "Drawn By Hand")
    qtbot.keyClick(canvas, Qt.Key_D)  # Draw a face
    assert viewer.draw_action.isChecked() and canvas.drawing
    # A box in the photo's top-left corner, away from the detected face.
    r = canvas.face_rect({"box": [10, 10, 120, 120]})
    start, end = r.topLeft().toPoint(), r.bottomRight().toPoint()
    qtbot.mousePress(canvas, Qt.LeftButton, pos=start)
    qtbot.mouseMove(canvas, QPoint((start.x() + end.x()) // 2, (start.y() + end.y()) // 2))
    qtbot.mouseRelease(canvas, Qt.LeftButton, pos=end)
    wait_idle(qtbot, window)
    assert not canvas.drawing
    assert window.statusBar().currentMessage() == "Added a face of Drawn By Hand. Ctrl+Z undoes it."
    qtbot.waitUntil(lambda: len(canvas.faces) == detected + 1)
    drawn = next(f for f in canvas.faces if f["person"] == "Drawn By Hand")
    assert drawn["state"] == "confirmed" and drawn["score"] == 0.0
    x, y, w, h = drawn["box"]
    assert abs(x - 10) < 3 and abs(y - 10) < 3 and abs(w - 120) < 4 and abs(h - 120) < 4
    assert "Drawn By Hand" in window.controller.names()
    press(qtbot, window, Qt.Key_Z, Qt.ControlModifier)
    qtbot.waitUntil(lambda: len(canvas.faces) == detected)
    assert "Drawn By Hand" not in window.controller.names()


def test_photos_of_people_together_and_only_them(qtbot, make_window, library_copy):
    window = make_window(library_copy)
    window.show_find()
    find = window.find_view
    find.search.setText("obama and biden")
    qtbot.keyClick(find.search, Qt.Key_Return)
    wait_idle(qtbot, window)
    together = {Path(h.path).name for h in find.model.hits()}
    assert "obama_and_biden.jpg" in together
    assert all({"obama", "biden"} <= set(h.person.split(" and ")) for h in find.model.hits())
    assert find.heading.text() == f"{len(together)} photo{'s' if len(together) != 1 else ''} with obama and biden together"
    assert not find.slider.isEnabled()  # no distance involved
    qtbot.mouseClick(find.only, Qt.LeftButton)
    wait_idle(qtbot, window)
    only = {Path(h.path).name for h in find.model.hits()}
    assert only and only <= together
    assert find.heading.text().endswith("together and nobody else")
    # Left out: exactly the photos with someone else's face in them.
    photos = library_call(qtbot, window, lambda lib: {Path(p["path"]).name: p["id"] for p in lib.list_photos()})
    for name in together:
        faces = library_call(qtbot, window, lambda lib, n=name: lib.list_faces(photo_id=photos[n], ignored=False))
        others = [f for f in faces if f["person"] not in ("obama", "biden")]
        assert (name in only) == (not others), (name, others)


def test_every_photo_by_folder_and_date_with_names_on_hover(qtbot, make_window, library_copy):
    window = make_window(library_copy)
    press(qtbot, window, Qt.Key_2, Qt.ControlModifier)  # View > Photos
    view = window.photos_view
    wait_idle(qtbot, window)
    assert view.model.rowCount() == 15 and QApplication.focusWidget() is view.grid
    folders = [str(Path(p["path"]).parent) for p in view.model.photos()]
    assert folders == sorted(folders)  # by folder (test/ before train/alex_lacamoire/ ...), then date
    tips = {Path(p["path"]).name: view.model.index(r).data(Qt.ToolTipRole) for r, p in enumerate(view.model.photos())}
    assert tips["obama.jpg"].endswith("\nobama")  # who is in it, on hover
    view.folder.setCurrentIndex(view.folder.findText("test"))
    assert view.model.rowCount() == 6 and view.count.text().startswith("6 photos")
    view.grid.setCurrentIndex(view.model.index(2))
    qtbot.keyClick(view.grid, Qt.Key_Return)
    assert window.pages.currentWidget() is window.photo_viewer
    assert window.photo_viewer.position.text() == "3 of 6"


def test_the_window_follows_the_command_line_changing_the_same_library(qtbot, make_window, library_copy):
    window = make_window(library_copy)
    assert "obama" in titles(window)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-m", "photoface", "--library", str(library_copy), "hide", "obama"],
                   check=True, env=env, capture_output=True, timeout=120)
    qtbot.waitUntil(lambda: "obama" not in titles(window), timeout=10_000)
    assert window.statusBar().currentMessage() == "The library was changed by another program; shown as it is now"
    subprocess.run([sys.executable, "-m", "photoface", "--library", str(library_copy), "name", "biden", "Joe"],
                   check=True, env=env, capture_output=True, timeout=120)
    qtbot.waitUntil(lambda: "Joe" in titles(window), timeout=10_000)
    assert "Joe" in window.controller.names() and "biden" not in window.controller.names()
    person = next(window.people_view.proxy.index(r, 0).data(SummaryRole) for r in range(len(titles(window)))
                  if titles(window)[r] == "Joe")
    assert person.kind == "person"

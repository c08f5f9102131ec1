"""Names in photos' metadata, from the window: the two settings, a scan naming a face from the
photo's XMP, a rename (and its undo) rewriting the sidecar, and File > Write Names to Photos' XMP."""

from __future__ import annotations

from PIL import Image
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from photoface.gui.settings import SettingsDialog
from photoface.people import Target
from photoface.xmp import segments
from photoface.xmp.packet import Region, merge, regions_of

from .conftest import wait_idle
from .test_editing import rows

FACE = (180 / 512, 40 / 512, 110 / 512, 140 / 512)  # the astronaut's face, normalised


def names_in(path) -> set[str]:
    return {r.name for r in regions_of(path.read_bytes())}


def test_names_travel_through_the_window(qtbot, make_window, tmp_path, astronaut):
    folder = tmp_path / "photos"
    folder.mkdir()
    photo = folder / "a.jpg"
    Image.fromarray(astronaut).save(photo)
    photo.write_bytes(segments.embed_jpeg(photo.read_bytes(), merge(None, [Region("Eileen Collins", *FACE)], (512, 512))))
    original = photo.read_bytes()
    window = make_window()

    def answer():
        dlg = QApplication.activeModalWidget()
        if not isinstance(dlg, SettingsDialog):
            QTimer.singleShot(20, answer)
            return
        assert dlg.read_xmp.text() == "Read names from photos' metadata" and dlg.read_xmp.isChecked()
        assert dlg.write_xmp.text() == "Write names to XMP sidecars" and not dlg.write_xmp.isChecked()
        dlg.write_xmp.setChecked(True)
        dlg.accept()

    QTimer.singleShot(0, answer)
    window.settings_action.trigger()
    qtbot.waitUntil(lambda: hasattr(window, "settings_dialog") and not window.settings_dialog.isVisible())
    wait_idle(qtbot, window)
    got = {}
    window.controller.read_settings(got.update)
    wait_idle(qtbot, window)
    assert got["read_xmp"] is True and got["write_xmp"] is True

    window.open_folder(str(folder))
    wait_idle(qtbot, window)
    (person,) = [p for _, p in rows(window) if p.kind == "person"]
    assert person.name == "Eileen Collins" and person.confirmed == 1

    sidecar = folder / "a.jpg.xmp"
    window.controller.rename(Target("person", person.id), "Eileen M. Collins")
    wait_idle(qtbot, window)
    assert window.statusBar().currentMessage().startswith("Renamed to Eileen M. Collins")
    assert names_in(sidecar) == {"Eileen M. Collins"}  # written after the decision
    window.controller.undo()
    wait_idle(qtbot, window)
    assert names_in(sidecar) == {"Eileen Collins"}  # and after its undo

    sidecar.unlink()
    file_menu = window.menuBar().actions()[0].menu()
    action = next(a for a in file_menu.actions() if a.text() == "&Write Names to Photos' XMP")
    action.trigger()
    wait_idle(qtbot, window)
    assert window.statusBar().currentMessage() == "Names written: 1 sidecars written, 0 already up to date"
    assert names_in(sidecar) == {"Eileen Collins"}
    assert photo.read_bytes() == original  # the photo itself is never written without --embed

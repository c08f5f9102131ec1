"""Settings: what the app remembers (QSettings: recent folders, window geometry, the library
file) and the Settings dialog (library location, and the library's own settings: minimum face
size and recognition strictness, stored in the library through ``Library.set_*``)."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import (
    QCheckBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
    QPushButton, QSlider, QSpinBox, QVBoxLayout, QWidget,
)

from ..config import LIBRARY_ENV, default_library_path

MAX_RECENT = 10


class AppSettings:
    """The app's own settings (not the library's). Tests pass a QSettings on a temporary file."""

    def __init__(self, store: QSettings | None = None):
        self.store = store if store is not None else QSettings()

    # recent folders, newest first
    def recent_folders(self) -> list[str]:
        value = self.store.value("recentFolders", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])]

    def add_recent(self, folder: str) -> None:
        folders = [f for f in self.recent_folders() if f != folder]
        self.store.setValue("recentFolders", [folder, *folders][:MAX_RECENT])

    def clear_recent(self) -> None:
        self.store.setValue("recentFolders", [])

    # the library file
    def library_path(self) -> str | None:
        value = self.store.value("library/path", "")
        return str(value) if value else None

    def set_library_path(self, path: str) -> None:
        self.store.setValue("library/path", str(path))

    # window
    def restore_window(self, window) -> None:
        geometry = self.store.value("window/geometry")
        if geometry is not None:
            window.restoreGeometry(geometry)
        state = self.store.value("window/state")
        if state is not None:
            window.restoreState(state)

    def save_window(self, window) -> None:
        self.store.setValue("window/geometry", window.saveGeometry())
        self.store.setValue("window/state", window.saveState())

    def sync(self) -> None:
        self.store.sync()


def resolve_library_path(explicit: str | None, settings: AppSettings) -> Path:
    """``--library`` wins, then ``$PHOTOFACE_LIBRARY``, then the one chosen in Settings, then the
    default in the user data folder (the same default as the command line)."""
    if explicit:
        return Path(explicit).expanduser()
    if os.environ.get(LIBRARY_ENV):
        return default_library_path()
    chosen = settings.library_path()
    return Path(chosen).expanduser() if chosen else default_library_path()


class SettingsDialog(QDialog):
    """Values in, values out: the caller reads the library's settings first and applies the
    answer (off the GUI thread)."""

    def __init__(self, parent, library_path: str, min_face_size: int, strictness: float,
                 library_locked: bool = False, read_xmp: bool = True, write_xmp: bool = False):
        super().__init__(parent)
        self.setWindowTitle("Settings")
        form = QFormLayout()

        self.library = QLineEdit(str(library_path))
        self.library.setAccessibleName("Library file")
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.library, 1)
        row.addWidget(browse)
        holder = QWidget()
        holder.setLayout(row)
        holder.setEnabled(not library_locked)
        form.addRow("Library file:", holder)
        if library_locked:
            form.addRow("", _hint("The library cannot change while a scan runs."))
        else:
            form.addRow("", _hint("Where PhotoFace keeps faces, names and decisions. A new file "
                                  "starts an empty library."))

        self.min_face = QSpinBox()
        self.min_face.setRange(10, 2000)
        self.min_face.setSuffix(" px")
        self.min_face.setValue(int(min_face_size))
        self.min_face.setAccessibleName("Minimum face size")
        form.addRow("Smallest face:", self.min_face)
        form.addRow("", _hint("Faces smaller than this (in photo pixels) are ignored. "
                              "Applies to photos scanned from now on."))

        self.strictness = QSlider(Qt.Horizontal)
        self.strictness.setRange(50, 150)
        self.strictness.setValue(round(float(strictness) * 100))
        self.strictness.setAccessibleName("Recognition strictness")
        self.strictness_label = QLabel()
        self.strictness.valueChanged.connect(self._show_strictness)
        srow = QHBoxLayout()
        srow.addWidget(QLabel("Strict"))
        srow.addWidget(self.strictness, 1)
        srow.addWidget(QLabel("Lenient"))
        srow.addWidget(self.strictness_label)
        form.addRow("Recognition:", srow)
        form.addRow("", _hint("Strict: fewer wrong suggestions, more faces left unnamed. "
                              "Changing it regroups the faces nobody has decided on."))
        self._show_strictness(self.strictness.value())

        # Names other apps wrote (digiKam, Lightroom, Picasa), and names for them to read.
        self.read_xmp = QCheckBox("Read names from photos' metadata")
        self.read_xmp.setChecked(bool(read_xmp))
        form.addRow("Names:", self.read_xmp)
        form.addRow("", _hint("Faces named in XMP face regions (MWG or Microsoft) are named here when "
                              "their photos are scanned; your own decisions always win."))
        self.write_xmp = QCheckBox("Write names to XMP sidecars")
        self.write_xmp.setChecked(bool(write_xmp))
        form.addRow("", self.write_xmp)
        form.addRow("", _hint("After every decision, the names go into the photos' .xmp sidecar files "
                              "other apps read. The photos themselves are not changed."))

        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.resize(520, self.sizeHint().height())

    def _show_strictness(self, value: int) -> None:
        self.strictness_label.setText(f"{value / 100:.2f}×")

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Library file", self.library.text(), "PhotoFace library (*.sqlite3);;All files (*)",
            options=QFileDialog.DontConfirmOverwrite,
        )
        if path:
            self.library.setText(path)

    def values(self) -> dict:
        return {
            "library": self.library.text().strip(),
            "min_face_size": self.min_face.value(),
            "strictness": self.strictness.value() / 100,
            "read_xmp": self.read_xmp.isChecked(),
            "write_xmp": self.write_xmp.isChecked(),
        }


def _hint(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setEnabled(False)
    return label

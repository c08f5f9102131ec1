"""Library folders: every folder the library scans, with its photos; add one, remove one (with
its photos, not the files), rescan them all. A folder that is gone (an unmounted drive) is shown
as missing, its photos kept."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QMessageBox, QPushButton, QStyle, QVBoxLayout,
)

from .models import plural
from .page import LibraryPage, page_title

PathRole = Qt.UserRole + 1


def describe(folder: dict) -> str:
    if not folder["exists"]:
        return f"{folder['path']}\n  missing: not found now; its {plural(folder['photos'], 'photo')} are kept"
    gone = f", {folder['missing']} missing" if folder["missing"] else ""
    return f"{folder['path']}\n  {plural(folder['photos'], 'photo')}{gone}"


class FoldersView(LibraryPage):
    addRequested = Signal()  # the main window asks for a folder and scans it

    def __init__(self, controller, parent=None):
        super().__init__(controller, parent)
        self.folders: list[dict] = []
        title = page_title("Library folders")
        note = QLabel("PhotoFace scans these folders and everything inside them. Rescan All (F5) looks "
                      "at each for new, changed, moved and removed photos.")
        note.setWordWrap(True)
        note.setEnabled(False)
        self.list = QListWidget()
        self.list.setAccessibleName("Library folders")
        self.list.setAlternatingRowColors(True)
        self.list.currentRowChanged.connect(lambda _: self._update_buttons())
        self.list.itemActivated.connect(lambda item: self.scan_current())

        self.add_button = QPushButton("Add Folder…")
        self.add_button.clicked.connect(self.addRequested.emit)
        self.scan_button = QPushButton("Rescan")
        self.scan_button.setToolTip("Scan the selected folder for new and changed photos")
        self.scan_button.clicked.connect(self.scan_current)
        self.remove_button = QPushButton("Remove from Library…")
        self.remove_button.setToolTip("Forget the folder's photos with their faces and names; the files stay")
        self.remove_button.clicked.connect(self.remove_current)
        self.rescan_all_button = QPushButton("Rescan All")
        self.rescan_all_button.clicked.connect(controller.rescan_all)
        buttons = QHBoxLayout()
        for b in (self.add_button, self.scan_button, self.remove_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.rescan_all_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 4)
        layout.addWidget(title)
        layout.addWidget(note)
        layout.addLayout(buttons)
        layout.addWidget(self.list, 1)
        controller.busyChanged.connect(self._update_buttons)
        self._update_buttons()

    def reload(self) -> None:
        self._stale = False
        self.controller.load_folders(self._loaded)

    def _loaded(self, folders: list[dict]) -> None:
        current = self.current_path()
        self.folders = folders
        self.list.clear()
        style = self.style()
        for folder in folders:
            item = QListWidgetItem(describe(folder))
            item.setData(PathRole, folder["path"])
            item.setIcon(style.standardIcon(QStyle.SP_DirIcon if folder["exists"] else QStyle.SP_MessageBoxWarning))
            if not folder["exists"]:
                item.setForeground(self.palette().placeholderText())
            self.list.addItem(item)
            if folder["path"] == current:
                self.list.setCurrentItem(item)
        if folders and self.list.currentRow() < 0:
            self.list.setCurrentRow(0)
        if not folders:
            self.list.addItem(QListWidgetItem("No folders yet: Add Folder… (or open one with Ctrl+O)"))
            self.list.item(0).setFlags(Qt.NoItemFlags)
        self._update_buttons()

    def current_path(self) -> str | None:
        item = self.list.currentItem()
        return item.data(PathRole) if item is not None else None

    def current_folder(self) -> dict | None:
        path = self.current_path()
        return next((f for f in self.folders if f["path"] == path), None)

    def _update_buttons(self) -> None:
        folder = self.current_folder()
        idle = not self.controller.scanning
        self.scan_button.setEnabled(bool(folder and folder["exists"]) and idle)
        self.remove_button.setEnabled(folder is not None and idle)
        self.rescan_all_button.setEnabled(any(f["exists"] for f in self.folders) and idle)

    def scan_current(self) -> None:
        folder = self.current_folder()
        if folder and folder["exists"]:
            self.controller.scan([folder["path"]])

    def remove_current(self, confirm: bool = True) -> None:
        folder = self.current_folder()
        if folder is None:
            return
        if confirm and QMessageBox.question(
            self, "Remove from Library",
            f"Remove {folder['path']} from the library? Its {plural(folder['photos'], 'photo')} are "
            "forgotten with their faces and names; the files themselves are not touched. This cannot be undone.",
        ) != QMessageBox.Yes:
            return
        self.controller.remove_folder(folder["path"])

    def focus_target(self):
        return self.list

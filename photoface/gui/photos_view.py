"""Every photo of the library, by folder and date: hover for who is in it, Enter or a double click
opens the viewer (Left/Right go through the photos shown)."""

from __future__ import annotations

import os

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout

from .delegates import TileDelegate
from .grid import TileGrid
from .models import PhotosModel, plural
from .page import LibraryPage, page_title

ALL = ""
ORDERS = {"folder": "Folder, then date", "date": "Date, newest first"}


class PhotosView(LibraryPage):
    def __init__(self, controller, parent=None):
        super().__init__(controller, parent)
        self.photos: list[dict] = []
        self.model = PhotosModel(controller.images, 200, self)
        title = page_title("Photos")
        self.count = QLabel()
        self.count.setEnabled(False)
        self.folder = QComboBox()
        self.folder.setAccessibleName("Folder")
        self.folder.setMinimumContentsLength(24)
        self.folder.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.folder.currentIndexChanged.connect(lambda _: self._fill())
        self.order = QComboBox()
        self.order.setAccessibleName("Order")
        for key, text in ORDERS.items():
            self.order.addItem(text, key)
        self.order.currentIndexChanged.connect(lambda _: self._fill())
        head = QHBoxLayout()
        head.addWidget(title)
        head.addSpacing(8)
        head.addWidget(self.count, 0, Qt.AlignBottom)
        head.addStretch(1)
        head.addWidget(QLabel("Folder:"))
        head.addWidget(self.folder)
        head.addWidget(self.order)

        self.grid = TileGrid(TileDelegate(200, 150, fill=False, elide=Qt.ElideMiddle))
        self.grid.setModel(self.model)
        self.grid.setAccessibleName("Photos")
        self.grid.activated.connect(self._open)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 4)
        layout.addLayout(head)
        layout.addWidget(self.grid, 1)

    def reload(self) -> None:
        self._stale = False
        self.controller.run(lambda lib: lib.list_photos(), self._loaded)

    def _loaded(self, photos: list[dict]) -> None:
        self.photos = photos
        chosen = self.folder.currentData()
        folders = sorted({p["folder"] for p in photos})
        self.folder.blockSignals(True)
        self.folder.clear()
        self.folder.addItem(f"All folders ({len(folders)})", ALL)
        for folder in folders:
            self.folder.addItem(os.path.basename(folder) or folder, folder)
            self.folder.setItemData(self.folder.count() - 1, folder, Qt.ToolTipRole)
        i = self.folder.findData(chosen) if chosen else 0
        self.folder.setCurrentIndex(max(i, 0))
        self.folder.blockSignals(False)
        self._fill()

    def _fill(self) -> None:
        folder = self.folder.currentData()
        shown = [p for p in self.photos if not folder or p["folder"] == folder]
        if self.order.currentData() == "date":
            shown.sort(key=lambda p: -p["time"])  # list_photos gives folder, then date
        self.model.set_photos(shown, show_folder=not folder)
        named = sum(1 for p in shown if p["names"])
        self.count.setText(f"{plural(len(shown), 'photo')} · {named} with people named")

    def _open(self, index) -> None:
        seq = [(p["id"], p["path"], None) for p in self.model.photos()]
        self.controller.openPhotos.emit(seq, index.row())

    def focus_target(self):
        return self.grid

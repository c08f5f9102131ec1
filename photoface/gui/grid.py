"""A grid of tiles (QListView in icon mode) tuned for many items: uniform sizes, batched layout,
and a delegate that paints only what is on screen."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QAbstractItemView, QListView, QStyleOptionViewItem

from .delegates import TileDelegate


class TileGrid(QListView):
    """Double-click on a tile's title edits it (when ``rename_on_title``); anywhere else (or
    Enter) activates it."""

    def __init__(self, delegate: TileDelegate, rename_on_title: bool = False, parent=None):
        super().__init__(parent)
        self.tile_delegate = delegate
        self.rename_on_title = rename_on_title
        self.setItemDelegate(delegate)
        self.setViewMode(QListView.IconMode)
        self.setMovement(QListView.Static)
        self.setResizeMode(QListView.Adjust)
        self.setUniformItemSizes(True)
        self.setLayoutMode(QListView.Batched)
        self.setBatchSize(500)
        self.setWrapping(True)
        self.setSpacing(0)
        self.setMouseTracking(True)
        self.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.setEditTriggers(QAbstractItemView.EditKeyPressed)
        self.setVerticalScrollMode(QAbstractItemView.ScrollPerPixel)
        self.verticalScrollBar().setSingleStep(24)
        self.setWordWrap(False)
        option = QStyleOptionViewItem()
        option.initFrom(self)
        hint = delegate.sizeHint(option, None)
        self.setGridSize(QSize(hint.width() + 8, hint.height() + 8))

    def mouseDoubleClickEvent(self, event) -> None:
        index = self.indexAt(event.position().toPoint())
        if self.rename_on_title and index.isValid() and event.button() == Qt.LeftButton:
            option = QStyleOptionViewItem()
            option.initFrom(self)
            option.rect = self.visualRect(index)
            if self.tile_delegate.title_rect(option).contains(event.position().toPoint()):
                self.setCurrentIndex(index)
                self.edit(index)
                return
        super().mouseDoubleClickEvent(event)

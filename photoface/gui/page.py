"""A page that follows the library: reloads at once when it is visible, otherwise when next
shown (a hidden page never queries the library for nothing)."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget


class LibraryPage(QWidget):
    def __init__(self, controller, parent=None):
        super().__init__(parent)
        self.controller = controller
        self._stale = False  # reload() clears it
        controller.libraryChanged.connect(self._library_changed)

    def reload(self) -> None:
        raise NotImplementedError

    def _library_changed(self) -> None:
        if self.isVisible():
            self.reload()
        else:
            self._stale = True

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._stale:
            self.reload()

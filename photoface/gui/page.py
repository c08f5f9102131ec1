"""What the pages share: a page that follows the library (reloads at once when it is visible,
otherwise when next shown: a hidden page never queries the library for nothing), the page
heading, and the name completer of the name boxes."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCompleter, QLabel, QWidget


def page_title(text: str = "") -> QLabel:
    """A page's heading: the label font, half as big again, bold."""
    title = QLabel(text)
    f = title.font()
    f.setPointSizeF(f.pointSizeF() * 1.5)
    f.setBold(True)
    title.setFont(f)
    return title


def names_completer(names_model, edit) -> QCompleter:
    """Completion of the existing names in ``edit``, matching anywhere in a name, any case."""
    completer = QCompleter(names_model, edit)
    completer.setCaseSensitivity(Qt.CaseInsensitive)
    completer.setFilterMode(Qt.MatchContains)
    edit.setCompleter(completer)
    return completer


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

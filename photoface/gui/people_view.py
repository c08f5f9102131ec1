"""The people page: named people, then unnamed groups by size, with a filter box.

Double-click a name (or F2) to rename; completion offers existing names, and choosing one merges.
Double-click a face (or Enter) to open the person. Drag one tile onto another to merge them.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QItemSelectionModel, Qt, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView, QCheckBox, QComboBox, QHBoxLayout, QLabel, QLineEdit, QMenu, QStackedWidget, QVBoxLayout,
    QWidget,
)

from .delegates import TileDelegate
from .grid import TileGrid
from .models import SORTS, TargetRole, plural
from .page import page_title

EMPTY = ("<h2>No people yet</h2><p>Open a folder of photos (Ctrl+O), or drop one here.<br>"
         "PhotoFace finds the faces in it and groups them into people for you to name.</p>")
SCANNING = ("<h2>Looking for faces…</h2><p>People appear here as their faces are found and grouped;<br>"
            "you can start naming them before the scan ends.</p>")


class PeopleView(QWidget):
    selectionChanged = Signal()

    def __init__(self, controller, parent=None):
        super().__init__(parent)
        self.controller = controller
        self.model = controller.people_model
        self.proxy = controller.people_filter

        title = page_title("People")
        self.counts = QLabel()
        self.counts.setEnabled(False)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter by name")
        self.filter.setClearButtonEnabled(True)
        self.filter.setAccessibleName("Filter people")
        self.filter.setMaximumWidth(280)
        self.filter.textChanged.connect(self.proxy.set_text)
        self.filter.returnPressed.connect(self._focus_first)
        self.filter.installEventFilter(self)

        self.show_all = QCheckBox("Show all")
        self.show_all.setToolTip("Also show the unnamed groups of a single face (often a blurred face "
                                 "in the background)")
        self.show_all.toggled.connect(self._show_all)
        self.sort = QComboBox()
        self.sort.setAccessibleName("Sort people by")
        for key, text in SORTS.items():
            self.sort.addItem(text, key)
        self.sort.currentIndexChanged.connect(lambda _: self.proxy.set_sort(self.sort.currentData()))
        sort_label = QLabel("Sort:")
        sort_label.setBuddy(self.sort)

        header = QHBoxLayout()
        header.addWidget(title)
        header.addSpacing(8)
        header.addWidget(self.counts, 0, Qt.AlignBottom)
        header.addStretch(1)
        header.addWidget(self.show_all)
        header.addSpacing(8)
        header.addWidget(sort_label)
        header.addWidget(self.sort)
        header.addSpacing(8)
        header.addWidget(self.filter)

        self.delegate = TileDelegate(controller.thumb_size, round_image=True)
        self.delegate.completer = _names_completer(controller.names_model)
        self.grid = TileGrid(self.delegate, rename_on_title=True)
        self.grid.setModel(self.proxy)
        self.grid.setAccessibleName("People and groups")
        self.grid.setDragEnabled(True)
        self.grid.setAcceptDrops(True)
        self.grid.setDropIndicatorShown(True)
        self.grid.setDragDropMode(QAbstractItemView.DragDrop)
        self.grid.setDragDropOverwriteMode(True)  # dropping on a tile means "merge into it"
        self.grid.setDefaultDropAction(Qt.CopyAction)
        self.grid.activated.connect(self._open_index)
        self.grid.setContextMenuPolicy(Qt.CustomContextMenu)
        self.grid.customContextMenuRequested.connect(self._menu)
        self.grid.selectionModel().selectionChanged.connect(lambda *_: self.selectionChanged.emit())

        self.empty = QLabel(EMPTY)
        self.empty.setAlignment(Qt.AlignCenter)
        self.empty.setWordWrap(True)
        self.pages = QStackedWidget()
        self.pages.addWidget(self.grid)
        self.pages.addWidget(self.empty)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 4)
        layout.addLayout(header)
        layout.addWidget(self.pages, 1)

        # F2 is the main window's Rename action (Edit menu), which calls rename_current() here: a
        # second F2 shortcut on this page would make the key ambiguous, and neither would fire.

        self.model.modelAboutToBeReset.connect(self._remember)
        self.model.modelReset.connect(self._restore)
        self._kept = ([], None, 0)
        controller.busyChanged.connect(self._update_counts)
        self._update_counts()

    # -- selection ------------------------------------------------------------------------------
    def eventFilter(self, obj, event) -> bool:
        # Ctrl+Z in the filter box undoes the typing while there is typing to undo, and the last
        # decision (the window's Undo) otherwise: the box has the focus when the window opens.
        if (obj is self.filter and event.type() == QEvent.ShortcutOverride
                and event.matches(QKeySequence.Undo) and not self.filter.isUndoAvailable()):
            event.ignore()
            return True
        return super().eventFilter(obj, event)

    def selected_targets(self) -> list:
        rows = sorted(self.grid.selectionModel().selectedIndexes(), key=lambda i: i.row())
        return [i.data(TargetRole) for i in rows]

    def current_target(self):
        idx = self.grid.currentIndex()
        return idx.data(TargetRole) if idx.isValid() else None

    def select(self, target) -> None:
        row = self.model.row_of(target)
        if row >= 0:
            idx = self.proxy.mapFromSource(self.model.index(row))
            self.grid.selectionModel().setCurrentIndex(idx, QItemSelectionModel.SelectionFlag.ClearAndSelect)
            self.grid.scrollTo(idx)

    def _remember(self) -> None:
        self._kept = (self.selected_targets(), self.current_target(), self.grid.verticalScrollBar().value())

    def _restore(self) -> None:
        selected, current, scroll = self._kept
        sel = self.grid.selectionModel()
        for t in selected:
            row = self.model.row_of(t)
            if row >= 0:
                sel.select(self.proxy.mapFromSource(self.model.index(row)), sel.SelectionFlag.Select)
        if current is not None:
            row = self.model.row_of(current)
            if row >= 0:
                sel.setCurrentIndex(self.proxy.mapFromSource(self.model.index(row)), sel.SelectionFlag.NoUpdate)
        self.grid.verticalScrollBar().setValue(scroll)
        self._update_counts()

    def _update_counts(self) -> None:
        people, groups = self.model.counts()
        small = self.proxy.hidden_small()
        text = f"{plural(people, 'person', 'people')} · {plural(groups - small, 'unnamed group')}"
        if small:
            text += f" ({small} of a single face not shown)"
        self.counts.setText(text)
        self.show_all.setVisible(bool(small) or self.show_all.isChecked())
        self.empty.setText(SCANNING if self.controller.scanning else EMPTY)
        self.pages.setCurrentWidget(self.grid if people or groups else self.empty)

    def _show_all(self, on: bool) -> None:
        self.proxy.set_show_all(on)
        self._update_counts()

    # -- actions --------------------------------------------------------------------------------
    def _open_index(self, index) -> None:
        target = index.data(TargetRole)
        if target is not None:
            self.controller.openPerson.emit(target)

    def _focus_first(self) -> None:
        if self.proxy.rowCount():
            self.grid.setFocus()
            self.grid.setCurrentIndex(self.proxy.index(0, 0))

    def focus_target(self):
        return self.grid

    def rename_current(self) -> None:
        idx = self.grid.currentIndex()
        if idx.isValid():
            self.grid.edit(idx)

    def merge_selected(self) -> None:
        targets = self.selected_targets()
        if len(targets) >= 2:
            self.controller.merge(targets, on_done=self.select_and_focus)

    def select_and_focus(self, target) -> None:
        """After a decision: its result selected and the grid ready for the keyboard (F2, Enter)."""
        self._kept = ([], target, self.grid.verticalScrollBar().value())
        self.select(target)
        self.grid.setFocus()

    def hide_selected(self) -> None:
        targets = self.selected_targets() or ([self.current_target()] if self.current_target() else [])
        if targets:
            self.controller.hide(targets)

    def _menu(self, pos) -> None:
        idx = self.grid.indexAt(pos)
        if not idx.isValid():
            return
        target = idx.data(TargetRole)
        menu = QMenu(self)
        menu.addAction("Open", lambda: self.controller.openPerson.emit(target))
        menu.addAction("Rename…", lambda: self.grid.edit(idx))
        selected = self.selected_targets()
        if len(selected) >= 2:
            menu.addAction(f"Merge {len(selected)} selected", self.merge_selected)
        menu.addAction("Find photos of this person", lambda: self.controller.findPerson.emit(str(target)))
        menu.addSeparator()
        if not self.grid.selectionModel().isSelected(idx):
            self.grid.setCurrentIndex(idx)
        selected = self.selected_targets()
        if all(t.kind == "person" for t in selected):
            menu.addAction("Hide" if len(selected) < 2 else f"Hide {len(selected)} people", self.hide_selected)
        else:
            menu.addAction("Ignore these faces (not people to name)", self.hide_selected)
        menu.exec(self.grid.viewport().mapToGlobal(pos))


def _names_completer(names_model):
    from PySide6.QtWidgets import QCompleter

    completer = QCompleter(names_model)
    completer.setCaseSensitivity(Qt.CaseInsensitive)
    return completer

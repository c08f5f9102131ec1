"""Hidden: the people hidden from the grid and the faces ignored, to bring them back."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from .delegates import TileDelegate
from .grid import TileGrid
from .models import FacesModel, PeopleModel, TargetRole, plural
from .page import LibraryPage, page_title


def load_hidden(lib) -> dict:
    people = [p for p in lib.list_people(include_hidden=True, include_groups=False) if p.hidden]
    ids = [p.cover_face_id for p in people if p.cover_face_id]
    covers = {f["id"]: (f["path"], tuple(f["box"])) for f in lib.list_faces(face_ids=ids)} if ids else {}
    return {"people": people, "covers": covers, "faces": lib.list_faces(ignored=True)}


class HiddenView(LibraryPage):
    def __init__(self, controller, parent=None):
        super().__init__(controller, parent)
        self.people_model = PeopleModel(controller.images, controller.thumb_size, self)
        self.faces_model = FacesModel(controller.images, controller.thumb_size, self)

        title = page_title("Hidden")
        self.people_label = QLabel()
        self.show_button = QPushButton("Show again")
        self.show_button.setToolTip("Put the selected people back in the people grid")
        self.show_button.clicked.connect(self.show_selected_people)
        self.faces_label = QLabel()
        self.restore_button = QPushButton("Bring back")
        self.restore_button.setToolTip("The selected faces are grouped and recognised again")
        self.restore_button.clicked.connect(self.restore_selected_faces)

        self.people_grid = TileGrid(TileDelegate(controller.thumb_size, round_image=True))
        self.people_grid.setModel(self.people_model)
        self.people_grid.setAccessibleName("Hidden people")
        self.people_grid.setMaximumHeight(self.people_grid.gridSize().height() + 24)
        self.people_grid.setEditTriggers(TileGrid.NoEditTriggers)
        self.faces_grid = TileGrid(TileDelegate(controller.thumb_size, elide=Qt.ElideMiddle))
        self.faces_grid.setModel(self.faces_model)
        self.faces_grid.setAccessibleName("Ignored faces")
        self.people_grid.activated.connect(lambda _: self.show_selected_people())
        self.faces_grid.activated.connect(lambda _: self.restore_selected_faces())
        for grid in (self.people_grid, self.faces_grid):
            grid.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 4)
        layout.addWidget(title)
        for label, button, grid in ((self.people_label, self.show_button, self.people_grid),
                                    (self.faces_label, self.restore_button, self.faces_grid)):
            row = QHBoxLayout()
            row.addWidget(label)
            row.addStretch(1)
            row.addWidget(button)
            layout.addLayout(row)
            layout.addWidget(grid, 1 if grid is self.faces_grid else 0)
        self._update_buttons()

    def reload(self) -> None:
        self._stale = False
        self.controller.run(load_hidden, self._loaded)

    def _loaded(self, data: dict) -> None:
        self.people_model.set_people(data["people"], data["covers"])
        self.faces_model.set_faces(data["faces"])
        n, m = len(data["people"]), len(data["faces"])
        self.people_label.setText(f"<b>{plural(n, 'hidden person', 'hidden people')}</b>"
                                  + ("" if n else " (right-click a person in People and choose Hide)"))
        self.faces_label.setText(f"<b>{plural(m, 'ignored face')}</b>"
                                 + ("" if m else " (faces you ignore, in People or while reviewing, come here)"))
        self.people_grid.setVisible(bool(n))
        self._update_buttons()

    def _update_buttons(self) -> None:
        self.show_button.setEnabled(bool(self.people_grid.selectionModel().selectedIndexes()))
        self.restore_button.setEnabled(bool(self.faces_grid.selectionModel().selectedIndexes()))

    def show_selected_people(self) -> None:
        targets = [i.data(TargetRole) for i in self.people_grid.selectionModel().selectedIndexes()]
        if targets:
            self.controller.hide(targets, hidden=False)

    def restore_selected_faces(self) -> None:
        rows = sorted(i.row() for i in self.faces_grid.selectionModel().selectedIndexes())
        ids = [self.faces_model.face(r)["id"] for r in rows]
        if ids:
            self.controller.ignore_faces(ids, ignored=False)

    def focus_target(self):
        return self.faces_grid if self.faces_model.rowCount() or not self.people_model.rowCount() else self.people_grid

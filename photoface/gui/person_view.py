"""One person (or unnamed group): their faces, confirmed first, then suggestions to check.

Select faces (several with Ctrl/Shift) and Confirm, say "Not this person", Move them to someone
else (or a new person, or a group of their own), set the cover, or open the photo.
"""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout, QLabel, QMenu, QPushButton, QToolButton, QVBoxLayout,
)

from .page import LibraryPage, page_title
from ..people import Target
from .delegates import TileDelegate
from .dialogs import OWN_GROUP, ask_name
from .grid import TileGrid
from .models import FacesModel, plural


class PersonView(LibraryPage):
    def __init__(self, controller, parent=None):
        super().__init__(controller, parent)
        self.target: Target | None = None
        self.summary = None
        self._token = 0
        self.model = FacesModel(controller.images, controller.thumb_size, self)

        self.title = page_title()
        self.title.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.info = QLabel()
        self.info.setEnabled(False)
        self.rename_button = QPushButton("Rename…")
        self.rename_button.clicked.connect(self.rename)
        # Only the sure suggestions at once: a confirmed face becomes a reference for the name, so
        # a stranger confirmed by the bulk button would draw their look-alikes to it.
        self.confirm_all_button = QPushButton("Confirm sure suggestions")
        self.confirm_all_button.setToolTip("Confirm the suggestions close enough that few such are wrong; "
                                           "check the others one by one")
        self.confirm_all_button.clicked.connect(self.confirm_all)
        self.find_button = QPushButton("Find photos")
        self.find_button.clicked.connect(lambda: self.target and controller.findPerson.emit(str(self.target)))
        header = QHBoxLayout()
        header.addWidget(self.title)
        header.addSpacing(8)
        header.addWidget(self.info, 0, Qt.AlignBottom)
        header.addStretch(1)
        for b in (self.rename_button, self.confirm_all_button, self.find_button):
            header.addWidget(b)

        self.actions: dict[str, QAction] = {}
        bar = QHBoxLayout()
        for key, text, shortcut, slot, tip in (
            ("confirm", "Confirm", "Ctrl+Return", self.confirm, "Yes, these faces are this person"),
            ("reject", "Not this person", "Delete", self.reject, "Remembered: never suggested to them again"),
            ("move", "Move to…", "Ctrl+M", self.move, "Move to another person, a new person, or a group of their own"),
            ("ignore", "Ignore", "Ctrl+I", self.ignore,
             "Not a person to name (a poster, a stranger): out of every person, group and search; View > Hidden brings it back"),
            ("cover", "Set as cover", "", self.set_cover, "Show this face for the person"),
            ("open", "Open photo", "Return", self.open_photo, "Show the whole photo"),
            ("find", "Find this person", "Ctrl+Shift+F", self.find_face, "Photos with faces like this one"),
        ):
            action = QAction(text, self)
            action.setToolTip(f"{tip} ({shortcut})" if shortcut else tip)
            if shortcut:
                action.setShortcut(QKeySequence(shortcut))
                action.setShortcutContext(Qt.WidgetWithChildrenShortcut)
            action.triggered.connect(slot)
            self.addAction(action)
            self.actions[key] = action
            button = QToolButton()
            button.setDefaultAction(action)
            button.setToolButtonStyle(Qt.ToolButtonTextOnly)
            bar.addWidget(button)
        self.selection_label = QLabel()
        self.selection_label.setEnabled(False)
        bar.addStretch(1)
        bar.addWidget(self.selection_label)

        self.grid = TileGrid(TileDelegate(controller.thumb_size, subtitle=True, elide=Qt.ElideMiddle))
        self.grid.setModel(self.model)
        self.grid.setAccessibleName("Faces")
        self.grid.activated.connect(lambda _: self.open_photo())
        self.grid.setContextMenuPolicy(Qt.CustomContextMenu)
        self.grid.customContextMenuRequested.connect(self._menu)
        self.grid.selectionModel().selectionChanged.connect(lambda *_: self._update_actions())

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 4)
        layout.addLayout(header)
        layout.addLayout(bar)
        layout.addWidget(self.grid, 1)
        self._update_actions()

    # -- loading --------------------------------------------------------------------------------
    def show_target(self, target: Target) -> None:
        if target != self.target:
            self.model.set_faces([])
            self.title.setText("…")
            self.info.setText("")
        self.target = target
        self.reload()

    def reload(self) -> None:
        if self.target is None:
            return
        self._stale = False
        self._token += 1
        token, t = self._token, self.target

        def load(lib):
            summary = next((p for p in lib.list_people(include_hidden=True)
                            if p.kind == t.kind and p.id == t.id), None)
            return summary, (lib.list_faces(t) if summary else [])

        self.controller.run(load, lambda r: self._loaded(token, *r))

    def _loaded(self, token: int, summary, faces) -> None:
        if token != self._token:
            return  # the user has moved on to someone else
        if summary is None:
            self.controller.status.emit("That person or group no longer exists")
            self.title.setText("Gone")
            self.info.setText("merged into someone else, or undone")
            self.model.set_faces([])
            self.summary = None
            self._update_actions()
            return
        self.summary = summary
        selected = {f["id"] for f in self.selected_faces()}
        self.model.set_faces(faces, summary.cover_face_id if summary.kind == "person" else None)
        sel = self.grid.selectionModel()
        current = None
        for row, f in enumerate(faces):
            if f["id"] in selected:
                sel.select(self.model.index(row), sel.SelectionFlag.Select)
                current = row if current is None else current
        if current is not None:  # keyboard navigation goes on from the selection
            sel.setCurrentIndex(self.model.index(current), sel.SelectionFlag.NoUpdate)
        self.title.setText(summary.name or "Unnamed group")
        bits = [plural(summary.photos, "photo"), plural(summary.faces, "face")]
        if summary.suggested:
            sure = sum(1 for f in faces if f.get("sure"))
            bits.append(f"{summary.suggested} suggested (outlined) to check" + (f", {sure} of them sure" if sure else ""))
        self.info.setText(" · ".join(bits))
        self._update_actions()

    # -- selection ------------------------------------------------------------------------------
    def selected_faces(self) -> list[dict]:
        rows = sorted(i.row() for i in self.grid.selectionModel().selectedIndexes())
        return [self.model.face(r) for r in rows if r < self.model.rowCount()]

    def select_face(self, face_id: int) -> bool:
        """Select exactly this face (and make it current); False when it is not shown."""
        for row, f in enumerate(self.model.faces()):
            if f["id"] == face_id:
                idx = self.model.index(row)
                # Explicit flags: setCurrentIndex() alone toggles an already selected tile.
                self.grid.selectionModel().setCurrentIndex(idx, QItemSelectionModel.SelectionFlag.ClearAndSelect)
                self.grid.scrollTo(idx)
                return True
        return False

    def _update_actions(self) -> None:
        faces = self.selected_faces()
        is_person = self.summary is not None and self.summary.kind == "person"
        a = self.actions
        a["confirm"].setEnabled(any(f["state"] == "suggested" for f in faces))
        a["reject"].setEnabled(bool(faces))
        a["reject"].setText("Not this person" if is_person or not faces else "Not in this group")
        a["move"].setEnabled(bool(faces))
        a["ignore"].setEnabled(bool(faces))
        a["cover"].setEnabled(is_person and len(faces) == 1 and faces[0]["state"] in ("confirmed", "suggested"))
        a["open"].setEnabled(bool(faces))
        a["find"].setEnabled(len(faces) == 1)
        self.rename_button.setEnabled(self.summary is not None)
        self.rename_button.setText("Rename…" if is_person else "Name…")
        self.confirm_all_button.setVisible(is_person)
        self.confirm_all_button.setEnabled(is_person and any(f.get("sure") for f in self.model.faces()))
        self.find_button.setEnabled(self.summary is not None)
        self.selection_label.setText(f"{len(faces)} selected" if faces else "Select faces to correct them")

    # -- decisions ------------------------------------------------------------------------------
    def _ids(self, faces=None) -> list[int]:
        return [f["id"] for f in (faces if faces is not None else self.selected_faces())]

    def rename(self) -> None:
        if self.summary is None:
            return
        is_person = self.summary.kind == "person"
        name = ask_name(self, "Rename" if is_person else "Name this person",
                        "Who is this?", self.controller.names_model, self.summary.name or "")
        if name:
            self.controller.rename(self.target, name, on_done=self.show_target)

    def confirm(self) -> None:
        ids = self._ids([f for f in self.selected_faces() if f["state"] == "suggested"])
        if ids:
            self.controller.decide(lambda lib: lib.people.confirm(ids), lambda n: f"Confirmed {plural(n, 'face')}")

    def confirm_all(self) -> None:
        t = self.target
        left = sum(1 for f in self.model.faces() if f["state"] == "suggested" and not f.get("sure"))
        rest = f"; {left} less sure left to check" if left else ""
        self.controller.decide(lambda lib: lib.people.confirm(person=t, min_confidence=lib.sure_confidence),
                               lambda n: f"Confirmed {plural(n, 'sure suggestion')}{rest}")

    def reject(self) -> None:
        ids = self._ids()
        if ids:
            who = self.summary.name if self.summary and self.summary.name else "this group"
            self.controller.decide(lambda lib: lib.people.reject(ids),
                                   lambda n: f"{plural(n, 'face')} marked as not {who}")

    def move(self) -> None:
        ids = self._ids()
        if not ids:
            return
        name = ask_name(self, "Move faces", f"Move {plural(len(ids), 'face')} to whom?",
                        self.controller.names_model, allow_own_group=True)
        if name is None:
            return
        if name == OWN_GROUP:
            self.controller.decide(lambda lib: lib.people.move(ids), f"Moved {plural(len(ids), 'face')} to a group of their own")
        else:
            self.controller.decide(lambda lib: lib.people.move(ids, new_name=name), f"Moved {plural(len(ids), 'face')} to {name}")

    def ignore(self) -> None:
        ids = self._ids()
        if ids:
            self.controller.ignore_faces(ids)

    def set_cover(self) -> None:
        faces = self.selected_faces()
        if len(faces) == 1 and self.target is not None:
            t, fid = self.target, faces[0]["id"]
            self.controller.decide(lambda lib: lib.people.set_cover(t, fid), "Cover face set")

    def open_photo(self) -> None:
        faces = self.selected_faces() or self.model.faces()[:1]
        if not faces:
            return
        sequence, seen = [], {}
        for f in self.model.faces():
            if f["photo_id"] not in seen:
                seen[f["photo_id"]] = len(sequence)
                sequence.append((f["photo_id"], f["path"], f["id"]))
        self.controller.openPhotos.emit(sequence, seen[faces[0]["photo_id"]])

    def find_face(self) -> None:
        faces = self.selected_faces()
        if len(faces) == 1:
            self.controller.findFace.emit(faces[0]["id"])

    def focus_target(self):
        return self.grid

    def _menu(self, pos) -> None:
        idx = self.grid.indexAt(pos)
        if not idx.isValid():
            return
        if not self.grid.selectionModel().isSelected(idx):
            self.grid.setCurrentIndex(idx)
        menu = QMenu(self)
        for key in ("confirm", "reject", "move", "ignore", "cover"):
            if self.actions[key].isEnabled():
                menu.addAction(self.actions[key])
        menu.addSeparator()
        menu.addAction(self.actions["open"])
        if self.actions["find"].isEnabled():
            menu.addAction(self.actions["find"])
        menu.exec(self.grid.viewport().mapToGlobal(pos))

"""Review unnamed faces one at a time: the face large, its photo beside it. Type a name (existing
names complete) and press Enter; Page Down skips the face, Ctrl+I ignores it (not a person to
name). Faces come biggest group first: naming one teaches recognition the most."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence, QPixmap
from PySide6.QtWidgets import (
    QHBoxLayout, QLabel, QLineEdit, QPushButton, QSizePolicy, QVBoxLayout,
)

from .models import plural
from .page import LibraryPage, names_completer, page_title
from .thumbnails import face_request, preview_request

FACE_SIDE = 256
PHOTO_SIDE = 560


class ReviewView(LibraryPage):
    def __init__(self, controller, parent=None):
        super().__init__(controller, parent)
        self.queue: list[dict] = []
        self.skipped: set[int] = set()
        self.face: dict | None = None
        self._keys = (None, None)
        self._token = 0

        title = page_title("Review unnamed faces")
        self.progress = QLabel()
        self.progress.setEnabled(False)
        head = QHBoxLayout()
        head.addWidget(title)
        head.addSpacing(8)
        head.addWidget(self.progress, 0, Qt.AlignBottom)
        head.addStretch(1)

        self.face_label = QLabel()
        self.face_label.setFixedSize(FACE_SIDE, FACE_SIDE)
        self.face_label.setAlignment(Qt.AlignCenter)
        self.face_label.setAccessibleName("The face")
        self.photo_label = QLabel()
        self.photo_label.setMinimumSize(240, 180)
        self.photo_label.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.photo_label.setAlignment(Qt.AlignCenter)
        self.photo_label.setAccessibleName("Its photo")
        self.caption = QLabel()
        self.caption.setEnabled(False)
        self.caption.setWordWrap(True)
        left = QVBoxLayout()
        left.addWidget(self.face_label)
        left.addWidget(self.caption)
        left.addStretch(1)
        images = QHBoxLayout()
        images.addLayout(left)
        images.addWidget(self.photo_label, 1)

        self.name = QLineEdit()
        self.name.setPlaceholderText("Who is this? Type a name and press Enter")
        self.name.setAccessibleName("Name")
        names_completer(controller.names_model, self.name)
        self.name.returnPressed.connect(self.confirm)
        self.actions: dict[str, QAction] = {}
        row = QHBoxLayout()
        row.addWidget(self.name, 1)
        for key, text, shortcut, slot in (("name", "Name", None, self.confirm),
                                          ("skip", "Skip", "PgDown", self.skip),
                                          ("ignore", "Ignore", "Ctrl+I", self.ignore)):
            action = QAction(text, self)
            if shortcut:
                action.setShortcut(QKeySequence(shortcut))
                action.setShortcutContext(Qt.WidgetWithChildrenShortcut)
                self.addAction(action)
            action.triggered.connect(slot)
            self.actions[key] = action
            button = QPushButton(f"{text} ({QKeySequence(shortcut).toString(QKeySequence.NativeText)})"
                                 if shortcut else f"{text} (Enter)")
            button.clicked.connect(action.trigger)
            button.setFocusPolicy(Qt.NoFocus)  # the keys stay in the name box
            row.addWidget(button)
        self.actions["ignore"].setToolTip("Not a person to name (a poster, a stranger): out of every group")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 8)
        layout.addLayout(head)
        layout.addLayout(images, 1)
        layout.addLayout(row)
        controller.images.ready.connect(self._image_ready)

    # -- the queue ------------------------------------------------------------------------------
    def reload(self) -> None:
        self._stale = False
        self._token += 1
        token = self._token
        self.controller.run(lambda lib: lib.unnamed_faces(), lambda faces: self._loaded(token, faces))

    def _loaded(self, token: int, faces: list[dict]) -> None:
        if token != self._token:
            return
        self.queue = faces
        self._show(next((f for f in faces if f["id"] not in self.skipped), None))

    def _show(self, face: dict | None) -> None:
        self.face = face
        left = [f for f in self.queue if f["id"] not in self.skipped]
        for a in self.actions.values():
            a.setEnabled(face is not None)
        self.name.setEnabled(face is not None)
        if face is None:
            self._keys = (None, None)
            self.face_label.clear()
            self.photo_label.clear()
            self.caption.clear()
            done = "Every face has a name or a decision" if not self.queue else \
                f"{plural(len(self.skipped), 'face')} skipped: they come back next time"
            self.progress.setText(done)
            self.photo_label.setText(f"<h3>{done}.</h3>")
            return
        skipped = f" · {len(self.skipped)} skipped" if self.skipped else ""
        self.progress.setText(f"{plural(len(left), 'unnamed face')} to review{skipped}")
        group = sum(1 for f in self.queue if f["group"] == face["group"])
        self.caption.setText(f"{Path(face['path']).name}\n"
                             + (f"One of {group} faces grouped together" if group > 1 else "A face on its own"))
        self.name.clear()
        self._keys = (face_request(face["id"], face["path"], face["box"], FACE_SIDE),
                      preview_request(face["path"], PHOTO_SIDE, face["box"]))
        self._paint()
        if self.isVisible():
            self.name.setFocus()

    def _paint(self) -> None:
        images = self.controller.images
        face_req, photo_req = self._keys
        if face_req is None:
            return
        for label, (key, make), text in ((self.face_label, face_req, "…"), (self.photo_label, photo_req, "Loading…")):
            image = images.image(key, make)
            if image is not None:
                pm = QPixmap.fromImage(image)
                if label is self.photo_label:
                    pm = pm.scaled(label.size(), Qt.KeepAspectRatio, Qt.SmoothTransformation)
                label.setPixmap(pm)
            else:
                label.setText("This photo cannot be read" if images.failed(key) else text)

    def _image_ready(self, key) -> None:
        if any(req is not None and req[0] == key for req in self._keys):
            self._paint()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._paint()

    # -- decisions ------------------------------------------------------------------------------
    def confirm(self) -> None:
        name = " ".join(self.name.text().split())
        if self.face is None or not name:
            return
        fid = self.face["id"]
        self.controller.decide(lambda lib: lib.people.move([fid], new_name=name), f"Named the face {name}")

    def skip(self) -> None:
        if self.face is not None:
            self.skipped.add(self.face["id"])
            self._show(next((f for f in self.queue if f["id"] not in self.skipped), None))

    def ignore(self) -> None:
        if self.face is not None:
            self.controller.ignore_faces([self.face["id"]])

    def start(self) -> None:
        """Opened again from the menu: skipped faces get another chance."""
        self.skipped.clear()
        self.reload()

    def focus_target(self):
        return self.name if self.name.isEnabled() else self

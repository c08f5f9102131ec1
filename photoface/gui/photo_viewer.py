"""One photo, large, with its faces outlined and named. Click a face (or Tab to it and press
Enter) to name or correct it; Left/Right move through the photos the viewer was opened with.
"Draw a face" (D) adds a face the detector missed: drag a box around it and name it."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QAction, QColor, QFont, QFontMetrics, QKeySequence, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import (
    QHBoxLayout, QLabel, QMenu, QSizePolicy, QStyle, QToolButton, QVBoxLayout, QWidget,
)

from .page import LibraryPage
from ..people import Target
from .dialogs import ask_name
from .thumbnails import preview_request

PREVIEW_SIDE = 2048
COLORS = {"confirmed": QColor("#3cb371"), "suggested": QColor("#e0a526"), "auto": QColor("#5b9bd5")}
UNKNOWN = QColor("#d0d0d0")


def face_label(face: dict) -> str:
    if face.get("person"):
        return face["person"] + ("?" if face["state"] == "suggested" else "")
    if face.get("group") is not None:
        return "Unnamed"
    return "Ignored" if face.get("state") == "ignored" else "Unknown"


class PhotoCanvas(QWidget):
    """Paints the photo fitted to the widget, face boxes and name tags over it."""

    faceActivated = Signal(dict, QPointF)  # the face, where to open its menu (widget coordinates)
    faceDrawn = Signal(tuple)  # (x, y, w, h) in original photo pixels
    MIN_DRAG = 8  # widget pixels: a smaller drag is a click

    def __init__(self, parent=None):
        super().__init__(parent)
        self.image = None
        self.faces: list[dict] = []
        self.focus_face: int | None = None
        self.hover: int | None = None
        self.message = ""
        self.drawing = False  # "Draw a face": a drag draws a box instead of choosing a face
        self._drag: tuple[QPointF, QPointF] | None = None
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.StrongFocus)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.setAccessibleName("Photo")
        self.setMinimumSize(200, 150)

    def set_photo(self, image, faces, focus_face=None, message="") -> None:
        self.image, self.faces, self.focus_face, self.message = image, faces, focus_face, message
        self.hover = None
        self.update()

    # geometry: original photo pixels -> widget
    def _transform(self):
        if self.image is None or self.image.isNull():
            return None
        ow = float(self.image.text("width") or self.image.width())
        oh = float(self.image.text("height") or self.image.height())
        k = min(self.width() / ow, self.height() / oh)
        return k, (self.width() - ow * k) / 2, (self.height() - oh * k) / 2, ow, oh

    def face_rect(self, face) -> QRectF:
        t = self._transform()
        if t is None:
            return QRectF()
        k, dx, dy, _, _ = t
        x, y, w, h = face["box"]
        return QRectF(dx + x * k, dy + y * k, w * k, h * k)

    def to_photo(self, rect: QRectF) -> tuple | None:
        """A widget rectangle in original photo pixels, cut to the photo."""
        t = self._transform()
        if t is None:
            return None
        k, dx, dy, ow, oh = t
        x0, y0 = max((rect.left() - dx) / k, 0.0), max((rect.top() - dy) / k, 0.0)
        x1, y1 = min((rect.right() - dx) / k, ow), min((rect.bottom() - dy) / k, oh)
        return (x0, y0, x1 - x0, y1 - y0) if x1 > x0 and y1 > y0 else None

    def set_drawing(self, on: bool) -> None:
        self.drawing = on
        self._drag = None
        self.setCursor(Qt.CrossCursor if on else Qt.ArrowCursor)
        self.update()

    def face_at(self, pos) -> dict | None:
        hits = [f for f in self.faces if self.face_rect(f).adjusted(-4, -4, 4, 4).contains(pos)]
        return min(hits, key=lambda f: f["box"][2]) if hits else None

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#1e1e1e"))
        t = self._transform()
        if t is None:
            p.setPen(QColor("#aaaaaa"))
            p.drawText(self.rect(), Qt.AlignCenter, self.message or "Loading…")
            return
        k, dx, dy, ow, oh = t
        p.setRenderHint(QPainter.SmoothPixmapTransform)
        p.drawImage(QRectF(dx, dy, ow * k, oh * k), self.image)
        p.setRenderHint(QPainter.Antialiasing)
        font = QFont(self.font())
        font.setBold(True)
        p.setFont(font)
        fm = QFontMetrics(font)
        for face in self.faces:
            r = self.face_rect(face)
            color = COLORS.get(face["state"], UNKNOWN) if face.get("person") or face.get("group") is not None else UNKNOWN
            emphasised = face["id"] in (self.hover, self.focus_face)
            width = 3.5 if emphasised else 2.0
            p.setPen(QPen(QColor(0, 0, 0, 150), width + 2))
            p.setBrush(Qt.NoBrush)
            p.drawRoundedRect(r, 4, 4)
            pen = QPen(color, width, Qt.DashLine if face["state"] == "suggested" else Qt.SolidLine)
            p.setPen(pen)
            p.drawRoundedRect(r, 4, 4)
            text = face_label(face)
            tw, th = fm.horizontalAdvance(text) + 12, fm.height() + 4
            tag = QRectF(r.center().x() - tw / 2, r.bottom() + 4, tw, th)
            if tag.bottom() > self.height():
                tag.moveBottom(r.top() - 4)
            path = QPainterPath()
            path.addRoundedRect(tag, th / 2, th / 2)
            p.fillPath(path, QColor(0, 0, 0, 190) if not emphasised else color.darker(140))
            p.setPen(QColor("white"))
            p.drawText(tag, Qt.AlignCenter, text)
        if self._drag is not None:
            p.setPen(QPen(QColor("#ffcc33"), 2, Qt.DashLine))
            p.setBrush(QColor(255, 204, 51, 40))
            p.drawRect(QRectF(*self._drag).normalized())
        if self.drawing and self._drag is None:
            p.setPen(QColor("white"))
            p.drawText(self.rect().adjusted(0, 8, 0, 0), Qt.AlignHCenter | Qt.AlignTop,
                       "Drag a box around the face the detector missed (Esc: stop drawing)")
        if self.hasFocus() and self.focus_face is not None:
            focus = next((f for f in self.faces if f["id"] == self.focus_face), None)
            if focus is not None:
                p.setPen(QPen(self.palette().highlight().color(), 1.5, Qt.DotLine))
                p.drawRect(self.face_rect(focus).adjusted(-6, -6, 6, 6))

    def event(self, event) -> bool:
        # Esc while drawing stops drawing here, before the window's Back (Esc) sees it.
        if (self.drawing and event.type() == event.Type.ShortcutOverride
                and event.key() == Qt.Key_Escape):
            event.accept()
            return True
        return super().event(event)

    def mouseMoveEvent(self, event) -> None:
        if self._drag is not None:
            self._drag = (self._drag[0], event.position())
            self.update()
            return
        if self.drawing:
            return
        face = self.face_at(event.position())
        fid = face["id"] if face else None
        if fid != self.hover:
            self.hover = fid
            self.setCursor(Qt.PointingHandCursor if face else Qt.ArrowCursor)
            self.setToolTip(f"{face_label(face)}: click to name or correct" if face else "")
            self.update()

    def mousePressEvent(self, event) -> None:
        if self.drawing and event.button() == Qt.LeftButton:
            self._drag = (event.position(), event.position())
            return
        face = self.face_at(event.position())
        if face is not None and event.button() in (Qt.LeftButton, Qt.RightButton):
            self.focus_face = face["id"]
            self.update()
            self.faceActivated.emit(face, event.position())
            return
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        if self._drag is not None:
            self._drag = (self._drag[0], event.position())
            rect = QRectF(*self._drag).normalized()
            self._drag = None
            self.update()
            box = self.to_photo(rect) if min(rect.width(), rect.height()) >= self.MIN_DRAG else None
            if box is not None:
                self.faceDrawn.emit(box)
            return
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event) -> None:
        if self.drawing and event.key() == Qt.Key_Escape:
            self.set_drawing(False)
            self.drawingStopped()
            return
        if event.key() in (Qt.Key_Return, Qt.Key_Enter, Qt.Key_Space, Qt.Key_Menu) and self.faces:
            face = next((f for f in self.faces if f["id"] == self.focus_face), self.faces[0])
            self.focus_face = face["id"]
            r = self.face_rect(face)
            self.faceActivated.emit(face, QPointF(r.center().x(), r.bottom()))
            return
        super().keyPressEvent(event)

    def focusNextPrevChild(self, forward: bool) -> bool:
        # Tab walks through the faces, then on to the next widget.
        ids = [f["id"] for f in sorted(self.faces, key=lambda f: f["box"][0])]
        if ids:
            i = ids.index(self.focus_face) if self.focus_face in ids else (-1 if forward else len(ids))
            j = i + (1 if forward else -1)
            if 0 <= j < len(ids):
                self.focus_face = ids[j]
                self.update()
                return True
        self.focus_face = None
        self.update()
        return super().focusNextPrevChild(forward)

    def drawingStopped(self) -> None:
        """The viewer unchecks its Draw button (set there)."""

    def focusInEvent(self, event) -> None:
        super().focusInEvent(event)
        self.update()

    def focusOutEvent(self, event) -> None:
        super().focusOutEvent(event)
        self.update()


class PhotoViewer(LibraryPage):
    backRequested = Signal()

    def __init__(self, controller, parent=None):
        super().__init__(controller, parent)
        self.sequence: list[tuple] = []  # (photo_id, path, face_id to emphasise or None)
        self.index = 0
        self.faces: list[dict] = []
        self._token = 0
        self._image_key = None

        style = self.style()
        self.prev_button = QToolButton()
        self.prev_button.setIcon(style.standardIcon(QStyle.SP_ArrowLeft))
        self.prev_button.setToolTip("Previous photo (Left)")
        self.prev_button.setAccessibleName("Previous photo")
        self.prev_button.clicked.connect(lambda: self.step(-1))
        self.next_button = QToolButton()
        self.next_button.setIcon(style.standardIcon(QStyle.SP_ArrowRight))
        self.next_button.setToolTip("Next photo (Right)")
        self.next_button.setAccessibleName("Next photo")
        self.next_button.clicked.connect(lambda: self.step(1))
        self.title = QLabel()
        f = self.title.font()
        f.setBold(True)
        self.title.setFont(f)
        self.position = QLabel()
        self.position.setEnabled(False)
        hint = QLabel("Click a face to name or correct it · ←/→ next photo")
        hint.setEnabled(False)
        self.draw_action = QAction("Draw a Face", self)
        self.draw_action.setCheckable(True)
        self.draw_action.setShortcut(QKeySequence("D"))
        self.draw_action.setShortcutContext(Qt.WidgetWithChildrenShortcut)
        self.draw_action.setToolTip("The detector missed a face? Drag a box around it, then name it (D)")
        self.draw_action.toggled.connect(self._drawing)
        self.addAction(self.draw_action)
        self.draw_button = QToolButton()
        self.draw_button.setDefaultAction(self.draw_action)
        self.draw_button.setToolButtonStyle(Qt.ToolButtonTextOnly)
        bar = QHBoxLayout()
        bar.addWidget(self.prev_button)
        bar.addWidget(self.next_button)
        bar.addWidget(self.title)
        bar.addWidget(self.position)
        bar.addStretch(1)
        bar.addWidget(hint)
        bar.addWidget(self.draw_button)

        self.canvas = PhotoCanvas()
        self.canvas.faceActivated.connect(self._face_menu)
        self.canvas.faceDrawn.connect(self.name_drawn_face)
        self.canvas.drawingStopped = lambda: self.draw_action.setChecked(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 4)
        layout.addLayout(bar)
        layout.addWidget(self.canvas, 1)
        controller.images.ready.connect(self._image_ready)

    # -- showing --------------------------------------------------------------------------------
    def show_photos(self, sequence, index: int = 0) -> None:
        self.draw_action.setChecked(False)
        self.sequence = list(sequence)
        self.index = max(0, min(index, len(self.sequence) - 1))
        self.canvas.setFocus()
        self.reload()

    @property
    def current(self):
        return self.sequence[self.index] if self.sequence else None

    def step(self, delta: int) -> None:
        j = self.index + delta
        if self.sequence and 0 <= j < len(self.sequence):
            self.index = j
            self.reload()

    def reload(self) -> None:
        cur = self.current
        if cur is None:
            return
        self._stale = False
        photo_id, path, focus = cur
        self.title.setText(Path(path).name)
        self.title.setToolTip(path)
        self.position.setText(f"{self.index + 1} of {len(self.sequence)}")
        self.prev_button.setEnabled(self.index > 0)
        self.next_button.setEnabled(self.index < len(self.sequence) - 1)
        self._image_key, make = preview_request(path, PREVIEW_SIDE)
        image = self.controller.images.image(self._image_key, make)
        if self.faces and self.faces[0]["photo_id"] != photo_id:
            self.faces = []
        self.canvas.set_photo(image, self.faces, focus)
        self._token += 1
        token = self._token
        self.controller.run(lambda lib: lib.list_faces(photo_id=photo_id), lambda faces: self._faces_loaded(token, faces))
        # Decode the neighbours ahead, so the arrow keys feel instant.
        for j in (self.index + 1, self.index - 1):
            if 0 <= j < len(self.sequence):
                self.controller.images.image(*preview_request(self.sequence[j][1], PREVIEW_SIDE))

    def _faces_loaded(self, token, faces) -> None:
        if token != self._token:
            return
        self.faces = faces
        self.canvas.set_photo(self.canvas.image, faces, self.current[2] if self.current else None)

    def _image_ready(self, key) -> None:
        if key == self._image_key:
            image = self.controller.images.image(key)
            failed = self.controller.images.failed(key)
            self.canvas.set_photo(image, self.faces, self.canvas.focus_face,
                                  "This photo cannot be read" if failed else "")

    def _drawing(self, on: bool) -> None:
        self.canvas.set_drawing(on)
        self.canvas.setFocus()

    def name_drawn_face(self, box) -> None:
        cur = self.current
        self.draw_action.setChecked(False)
        if cur is None:
            return
        name = ask_name(self, "Who is this?", "Name the face you drew:", self.controller.names_model)
        if not name:
            return
        photo_id = cur[0]
        self.controller.status.emit("Adding the face…")
        self.controller.decide(lambda lib: lib.add_face(photo_id, box, name), f"Added a face of {name}")

    def focus_target(self):
        return self.canvas

    def keyPressEvent(self, event) -> None:
        key = event.key()
        if key in (Qt.Key_Right, Qt.Key_PageDown):
            self.step(1)
        elif key in (Qt.Key_Left, Qt.Key_PageUp):
            self.step(-1)
        elif key == Qt.Key_Home:
            self.step(-self.index)
        elif key == Qt.Key_End:
            self.step(len(self.sequence) - 1 - self.index)
        elif key == Qt.Key_Escape:
            self.backRequested.emit()
        else:
            super().keyPressEvent(event)

    # -- correcting a face ----------------------------------------------------------------------
    def _face_menu(self, face: dict, pos: QPointF) -> None:
        menu = self.face_menu(face)
        menu.exec(self.canvas.mapToGlobal(pos.toPoint()))

    def face_menu(self, face: dict) -> QMenu:
        c = self.controller
        fid = face["id"]
        menu = QMenu(self)
        who = face.get("person")
        head = menu.addAction(f"{face_label(face)}" + (f" ({round(100 * face['confidence'])}% sure)"
                                                       if face.get("confidence") is not None else ""))
        head.setEnabled(False)
        menu.addSeparator()
        if who and face["state"] == "suggested":
            menu.addAction(f"Yes, this is {who}",
                           lambda: c.decide(lambda lib: lib.people.confirm([fid]), f"Confirmed {who}"))
        menu.addAction("Name…" if not who else "Someone else…", lambda: self.name_face(face))
        if who:
            menu.addAction(f"Not {who}", lambda: c.decide(lambda lib: lib.people.reject([fid]), f"Marked as not {who}"))
        menu.addAction("Ignore this face", lambda: c.ignore_faces([fid]))
        menu.addSeparator()
        menu.addAction("Find this person", lambda: c.findFace.emit(fid))
        if face.get("person_id") is not None:
            menu.addAction(f"Show all of {who}", lambda: c.openPerson.emit(Target("person", face["person_id"])))
        elif face.get("group") is not None:
            g = face["group"]
            menu.addAction("Show this group", lambda: c.openPerson.emit(Target("group", g)))
        return menu

    def name_face(self, face: dict) -> None:
        name = ask_name(self, "Who is this?", "Name this face:", self.controller.names_model, face.get("person") or "")
        if name:
            fid = face["id"]
            self.controller.decide(lambda lib: lib.people.move([fid], new_name=name), f"Named the face {name}")

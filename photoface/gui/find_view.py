"""Find this person: photos ranked by how close their faces are to a person (by name) or to one
face, the matching face outlined, with a slider for how far a match may be."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QCompleter, QHBoxLayout, QLabel, QLineEdit, QPushButton, QSlider, QVBoxLayout,
)

from .page import LibraryPage
from .delegates import TileDelegate
from .grid import TileGrid
from .models import HitsModel, plural

LIMIT = 500  # photos shown at most
SLIDER_SCALE = 100  # slider units per unit of squared distance


class FindView(LibraryPage):
    def __init__(self, controller, parent=None):
        super().__init__(controller, parent)
        self.query: tuple[str, object] | None = None  # ("person", "Ann") or ("face", 41)
        self.max_distance: float | None = None  # None: the library's same-person threshold
        self.threshold: float | None = None
        self._token = 0
        self.model = HitsModel(controller.images, 200, self)

        self.search = QLineEdit()
        self.search.setPlaceholderText("Find a person by name")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Find a person")
        completer = QCompleter(controller.names_model, self.search)
        completer.setCaseSensitivity(Qt.CaseInsensitive)
        completer.setFilterMode(Qt.MatchContains)
        self.search.setCompleter(completer)
        self.search.returnPressed.connect(self._search)
        go = QPushButton("Find")
        go.clicked.connect(self._search)
        top = QHBoxLayout()
        top.addWidget(self.search, 1)
        top.addWidget(go)

        self.heading = QLabel("Type a name, or right-click a face and choose “Find this person”.")
        f = self.heading.font()
        f.setPointSizeF(f.pointSizeF() * 1.2)
        f.setBold(True)
        self.heading.setFont(f)
        self.slider = QSlider(Qt.Horizontal)
        self.slider.setRange(int(0.2 * SLIDER_SCALE), int(2.0 * SLIDER_SCALE))
        self.slider.setAccessibleName("Maximum distance")
        self.slider.setToolTip("Left: only very similar faces. Right: looser matches too.\n"
                               "Faces turned to the side must be closer than this to match.")
        self.slider.setMaximumWidth(260)
        self.slider.valueChanged.connect(self._slider_moved)
        self.slider_label = QLabel()
        self.slider_label.setMinimumWidth(150)
        self._debounce = QTimer(self, singleShot=True, interval=200, timeout=self._rerun)
        row = QHBoxLayout()
        row.addWidget(self.heading, 1)
        row.addWidget(QLabel("Similar"))
        row.addWidget(self.slider)
        row.addWidget(QLabel("Loose"))
        row.addWidget(self.slider_label)

        self.grid = TileGrid(TileDelegate(200, 150, fill=False))
        self.grid.setModel(self.model)
        self.grid.setAccessibleName("Photos found")
        self.grid.activated.connect(self._open)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 4)
        layout.addLayout(top)
        layout.addLayout(row)
        layout.addWidget(self.grid, 1)
        self._set_slider(None)

    # -- queries --------------------------------------------------------------------------------
    def find_person(self, who: str) -> None:
        self.query = ("person", who)
        if not who.startswith(("p", "g")) or not who[1:].isdigit():
            self.search.setText(who)
        self.reload()

    def find_face(self, face_id: int) -> None:
        self.query = ("face", int(face_id))
        self.search.clear()
        self.reload()

    def _search(self) -> None:
        text = " ".join(self.search.text().split())
        if text:
            self.find_person(text)

    def reload(self) -> None:
        if self.query is None:
            return
        self._stale = False
        self._token += 1
        token, (kind, what), limit = self._token, self.query, self.max_distance

        def find(lib):
            hits = (lib.find_person(what, limit=LIMIT, max_distance=limit) if kind == "person"
                    else lib.find_face(what, limit=LIMIT, max_distance=limit))
            label = what
            if kind == "person":
                t = lib.people.resolve(what)
                label = next((p.name or "this group" for p in lib.list_people(include_hidden=True)
                              if p.kind == t.kind and p.id == t.id), what)
            return hits, lib.threshold, label

        self.heading.setText("Searching…")
        self.controller.run(find, lambda r: self._found(token, *r), lambda e: self._failed(token, e))

    def _found(self, token, hits, threshold, label) -> None:
        if token != self._token:
            return
        self.threshold = threshold
        self._set_slider(self.max_distance)
        self.model.set_hits(hits)
        kind, what = self.query
        who = label if kind == "person" else f"face f{what}"
        self.heading.setText(f"{plural(len(hits), 'photo')} like {who}" if kind == "face"
                             else f"{plural(len(hits), 'photo')} of {who}")
        if hits:
            self.grid.setCurrentIndex(self.model.index(0))

    def _failed(self, token, exc) -> None:
        if token == self._token:
            self.model.set_hits([])
            self.heading.setText(str(exc).capitalize())
            self.controller.report_error(exc)

    # -- the slider -----------------------------------------------------------------------------
    def _set_slider(self, value: float | None) -> None:
        shown = value if value is not None else (self.threshold or 1.0)
        self.slider.blockSignals(True)
        self.slider.setValue(round(shown * SLIDER_SCALE))
        self.slider.blockSignals(False)
        note = " (default)" if value is None else ""
        self.slider_label.setText(f"max distance {shown:.2f}{note}")

    def _slider_moved(self, value: int) -> None:
        self.max_distance = value / SLIDER_SCALE
        self.slider_label.setText(f"max distance {self.max_distance:.2f}")
        self._debounce.start()

    def _rerun(self) -> None:
        self.reload()

    def _open(self, index) -> None:
        hits = self.model.hits()
        seq = [(h.photo_id, h.path, h.face_id) for h in hits]
        self.controller.openPhotos.emit(seq, index.row())

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

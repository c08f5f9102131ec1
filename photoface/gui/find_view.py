"""Find this person: photos ranked by how close their faces are to a person (by name) or to one
face, the matching face outlined, with a slider for how far a match may be. Several names
("Ann and Bob", "Ann, Bob") find the photos they are in together; "Only them" leaves out photos
with anyone else in them."""

from __future__ import annotations

import re

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QSlider, QVBoxLayout,
)

from .page import LibraryPage, names_completer
from .delegates import TileDelegate
from .grid import TileGrid
from ..search import Hit
from .models import HitsModel, plural

LIMIT = 500  # photos shown at most
# The slider moves the distance from a fifth of the library's default (only the most similar
# faces) to twice it, in 1% steps: distances scale with the model (the bundled one's default is
# near 0.18, an older one's near 1), so positions are shares of the default, not distances.
SLIDER_SCALE = 100  # slider units per one default distance
SLIDER_RANGE = (0.2, 2.0)
_SEPARATORS = re.compile(r"\s*(?:,|&|\+|\band\b)\s*", re.IGNORECASE)


def split_names(text: str) -> list[str]:
    """"Ann and Bob", "Ann, Bob & Cleo" -> the names; one name stays one (even "Anderson")."""
    return [n for n in (" ".join(p.split()) for p in _SEPARATORS.split(text)) if n]


class FindView(LibraryPage):
    def __init__(self, controller, parent=None):
        super().__init__(controller, parent)
        # ("person", "Ann"), ("face", 41) or ("together", ("Ann", "Bob"), only them)
        self.query: tuple | None = None
        self.max_distance: float | None = None  # None: the library's same-person threshold
        self.threshold: float | None = None
        self._token = 0
        self.model = HitsModel(controller.images, 200, self)

        self.search = QLineEdit()
        self.search.setPlaceholderText("Find a person by name, or people together: Ann and Bob")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Find a person")
        names_completer(controller.names_model, self.search)
        self.search.returnPressed.connect(self._search)
        go = QPushButton("Find")
        go.clicked.connect(self._search)
        self.only = QCheckBox("Only them")
        self.only.setToolTip("With several names: only the photos with nobody else in them")
        self.only.toggled.connect(lambda _: self.query and self.query[0] == "together" and self._search())
        top = QHBoxLayout()
        top.addWidget(self.search, 1)
        top.addWidget(self.only)
        top.addWidget(go)

        self.heading = QLabel("Type a name, or right-click a face and choose “Find this person”.")
        f = self.heading.font()
        f.setPointSizeF(f.pointSizeF() * 1.2)
        f.setBold(True)
        self.heading.setFont(f)
        self.slider = QSlider(Qt.Horizontal)
        self.slider.setRange(round(SLIDER_RANGE[0] * SLIDER_SCALE), round(SLIDER_RANGE[1] * SLIDER_SCALE))
        self.slider.setAccessibleName("Maximum distance")
        self.slider.setToolTip("Left: only very similar faces. Right: looser matches too.\n"
                               "Faces turned to the side must be closer than this to match.")
        self.slider.setMaximumWidth(260)
        self.slider.valueChanged.connect(self._slider_moved)
        self.slider_label = QLabel()
        self.slider_label.setMinimumWidth(150)
        self.reset_button = QPushButton("Default")
        self.reset_button.setToolTip("Back to the library's same-person distance")
        self.reset_button.clicked.connect(self._reset_slider)
        self._debounce = QTimer(self, singleShot=True, interval=200, timeout=self._rerun)
        row = QHBoxLayout()
        row.addWidget(self.heading, 1)
        row.addWidget(QLabel("Similar"))
        row.addWidget(self.slider)
        row.addWidget(QLabel("Loose"))
        row.addWidget(self.slider_label)
        row.addWidget(self.reset_button)
        self.slider_row = [w for w in (row.itemAt(i).widget() for i in range(1, row.count())) if w is not None]

        self.grid = TileGrid(TileDelegate(200, 150, fill=False, elide=Qt.ElideMiddle))
        self.grid.setModel(self.model)
        self.grid.setAccessibleName("Photos found")
        self.grid.activated.connect(self._open)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 4)
        layout.addLayout(top)
        layout.addLayout(row)
        layout.addWidget(self.grid, 1)
        self._set_slider(None)
        # The default distance is the library's: ask for it now, so "(default)" marks the same
        # value before and after the first search.
        controller.run(lambda lib: lib.threshold, self._threshold_known, lambda exc: None)

    def _threshold_known(self, threshold: float) -> None:
        self.threshold = threshold
        self._set_slider(self.max_distance)

    # -- queries --------------------------------------------------------------------------------
    # A new search starts from the default distance: a slider left tight by the last search
    # once made "Find this person" return only the face itself.
    def find_person(self, who: str) -> None:
        self.query = ("person", who)
        self.max_distance = None
        # An id (from a tile's menu) is replaced by the name once found; never left from before.
        self.search.setText("" if _is_ref(who) else who)
        self.reload()

    def find_face(self, face_id: int) -> None:
        self.query = ("face", int(face_id))
        self.max_distance = None
        self.search.clear()
        self.reload()

    def find_together(self, names, only: bool = False) -> None:
        self.query = ("together", tuple(names), bool(only))
        self.max_distance = None
        self.search.setText(" and ".join(names))
        self.reload()

    def _search(self) -> None:
        text = " ".join(self.search.text().split())
        names = [text] if text in self.controller.names() else split_names(text)  # "Ann & Bob" may be one name
        if len(names) > 1 or (names and self.only.isChecked()):
            self.find_together(names, self.only.isChecked())
        elif text:
            self.find_person(text)

    def reload(self) -> None:
        if self.query is None:
            # Nothing searched yet: the default may still have changed (strictness, another library).
            self._stale = False
            self.controller.run(lambda lib: lib.threshold, self._threshold_known, lambda exc: None)
            return
        self._stale = False
        self._token += 1
        token, kind, what, limit = self._token, self.query[0], self.query[1], self.max_distance
        for w in self.slider_row:
            w.setEnabled(kind != "together")  # people together: no distance involved

        def find(lib):
            if kind == "together":
                found = lib.find_together(what, only=self.query[2])
                return [Hit(t.photo_id, t.path, t.faces[0][0], t.faces[0][1], None, " and ".join(t.names))
                        for t in found], lib.threshold, " and ".join(what)
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
        kind = self.query[0]
        if kind == "face":
            self.heading.setText(f"{plural(len(hits), 'photo')} with a face like this one")
        elif kind == "together":
            only = " and nobody else" if self.query[2] else ""
            self.heading.setText(f"{plural(len(hits), 'photo')} with {label} together{only}")
        else:
            self.heading.setText(f"{plural(len(hits), 'photo')} of {label}")
            if not self.search.text() and label != "this group":
                self.search.setText(label)
        if hits:
            self.grid.setCurrentIndex(self.model.index(0))

    def _failed(self, token, exc) -> None:
        if token == self._token:
            self.model.set_hits([])
            self.heading.setText(str(exc).capitalize())
            self.controller.report_error(exc)

    # -- the slider -----------------------------------------------------------------------------
    def _set_slider(self, value: float | None) -> None:
        share = value / self.threshold if value is not None and self.threshold else 1.0
        self.slider.blockSignals(True)
        self.slider.setValue(round(share * SLIDER_SCALE))
        self.slider.blockSignals(False)
        self._label_slider(value)

    def _label_slider(self, value: float | None) -> None:
        if value is None or self.threshold is None:
            shown = value if value is not None else self.threshold
            self.slider_label.setText("max distance " + (f"{shown:.3f} (default)" if shown is not None else "(default)"))
        else:
            self.slider_label.setText(f"max distance {value:.3f} (default {self.threshold:.3f})")
        self.reset_button.setEnabled(value is not None)

    def _slider_moved(self, value: int) -> None:
        self.max_distance = (self.threshold or 1.0) * value / SLIDER_SCALE
        self._label_slider(self.max_distance)
        self._debounce.start()

    def _reset_slider(self) -> None:
        self.max_distance = None
        self._set_slider(None)
        self.reload()

    def _rerun(self) -> None:
        self.reload()

    def _open(self, index) -> None:
        hits = self.model.hits()
        seq = [(h.photo_id, h.path, h.face_id) for h in hits]
        self.controller.openPhotos.emit(seq, index.row())

    def focus_target(self):
        return self.grid if self.model.rowCount() else self.search

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()


def _is_ref(text: str) -> bool:
    return len(text) > 1 and text[0] in "pg" and text[1:].isdigit()

"""Item models: people and groups, a person's faces, and find results.

Thumbnails are asked for only when a view paints a row (``DecorationRole``), loaded on worker
threads by ``ImageLoader``, and announced with ``dataChanged`` for that row alone, so a grid of
10,000 groups costs nothing for the rows that are not on screen.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from PySide6.QtCore import (
    QAbstractListModel, QByteArray, QMimeData, QModelIndex, QSortFilterProxyModel, Qt, Signal,
)

from ..people import Target
from .thumbnails import ImageLoader, face_request, preview_request

TargetRole = Qt.UserRole + 1  # Target of a person or group
NameRole = Qt.UserRole + 2  # the name, or None for an unnamed group
SubtitleRole = Qt.UserRole + 3  # a second, smaller line: "12 photos"
BadgeRole = Qt.UserRole + 4  # a short tag on the tile: "87%", "cover"
AccentRole = Qt.UserRole + 5  # "suggested" (outlined) or None
FaceRole = Qt.UserRole + 6  # the face dict (person view) or Hit (find)
SummaryRole = Qt.UserRole + 7  # PersonSummary
PlaceholderRole = Qt.UserRole + 8  # the letter shown while the thumbnail loads
FailedRole = Qt.UserRole + 9  # the thumbnail could not be made (unreadable photo)

MIME_TARGETS = "application/x-photoface-targets"


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else (many or word + 's')}"


class _ImageRows(QAbstractListModel):
    """A list model whose rows each show one image from the loader, keyed per row."""

    def __init__(self, images: ImageLoader, parent=None):
        super().__init__(parent)
        self.images = images
        self._rows_by_key: dict = {}
        images.ready.connect(self._image_ready)

    def _index_keys(self, keys) -> None:
        self._rows_by_key = {}
        for row, key in enumerate(keys):
            if key is not None:
                self._rows_by_key.setdefault(key, []).append(row)

    def _image_ready(self, key) -> None:
        for row in self._rows_by_key.get(key, ()):
            idx = self.index(row)
            self.dataChanged.emit(idx, idx, [Qt.DecorationRole, FailedRole])

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)


class PeopleModel(_ImageRows):
    """Named people, then unnamed groups by size, as ``Library.list_people`` orders them.

    Renaming (the view's editor) and dropping one tile on another do not change the library here:
    they emit ``renameRequested`` / ``mergeRequested`` for the controller to carry out off the
    GUI thread.
    """

    renameRequested = Signal(object, str)  # Target, new name
    mergeRequested = Signal(list)  # [Target into, Target, ...]

    def __init__(self, images: ImageLoader, thumb_size: int, parent=None):
        self._rows: list = []
        super().__init__(images, parent)
        self.thumb_size = thumb_size
        self._covers: dict[int, tuple] = {}
        self._keys: list = []

    def set_people(self, people, covers: dict[int, tuple]) -> None:
        """``people``: PersonSummary list; ``covers``: face id -> (path, box)."""
        self.beginResetModel()
        self._rows = list(people)
        self._covers = dict(covers)
        self._keys = [self._request(p)[0] if p.cover_face_id in self._covers else None for p in self._rows]
        self._index_keys(self._keys)
        self.endResetModel()

    def _request(self, p):
        path, box = self._covers[p.cover_face_id]
        return face_request(p.cover_face_id, path, box, self.thumb_size)

    def summary(self, row: int):
        return self._rows[row]

    def row_of(self, target: Target) -> int:
        for i, p in enumerate(self._rows):
            if p.kind == target.kind and p.id == target.id:
                return i
        return -1

    def names(self) -> list[str]:
        return sorted((p.name for p in self._rows if p.name), key=str.casefold)

    def counts(self) -> tuple[int, int]:
        people = sum(1 for p in self._rows if p.kind == "person")
        return people, len(self._rows) - people

    def data(self, index: QModelIndex, role: int = Qt.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        p = self._rows[index.row()]
        if role in (Qt.DisplayRole, Qt.AccessibleTextRole):
            return p.name or "Unnamed"
        if role == Qt.EditRole:
            return p.name or ""
        if role == NameRole:
            return p.name
        if role == TargetRole:
            return Target(p.kind, p.id)
        if role == SummaryRole:
            return p
        if role == SubtitleRole:
            return plural(p.photos, "photo")
        if role == BadgeRole:
            # On the face, not in the subtitle: "19 photos · 8 to check" did not fit a tile.
            return f"{p.suggested} to check" if p.suggested else None
        if role == Qt.ToolTipRole:
            who = p.name or "Unnamed group"
            extra = f"\n{plural(p.suggested, 'suggested face')} to check" if p.suggested else ""
            return f"{who}\n{plural(p.faces, 'face')} in {plural(p.photos, 'photo')}{extra}"
        if role == PlaceholderRole:
            return (p.name or "?")[:1].upper()
        if role == Qt.DecorationRole:
            if p.cover_face_id not in self._covers:
                return None
            return self.images.image(*self._request(p))
        if role == FailedRole:
            key = self._keys[index.row()]
            return key is not None and self.images.failed(key)
        return None

    def flags(self, index: QModelIndex):
        base = super().flags(index)
        if not index.isValid():
            return base | Qt.ItemIsDropEnabled
        return base | Qt.ItemIsEditable | Qt.ItemIsDragEnabled | Qt.ItemIsDropEnabled

    def setData(self, index: QModelIndex, value, role: int = Qt.EditRole) -> bool:
        if role != Qt.EditRole or not index.isValid():
            return False
        name = " ".join(str(value).split())
        p = self._rows[index.row()]
        if name and name != (p.name or ""):
            self.renameRequested.emit(Target(p.kind, p.id), name)
        return False  # the library changes off the GUI thread; the model reloads after

    # -- drag one tile onto another: merge -----------------------------------------------------
    def supportedDragActions(self):
        return Qt.CopyAction | Qt.MoveAction

    def supportedDropActions(self):
        return Qt.CopyAction | Qt.MoveAction

    def mimeTypes(self) -> list[str]:
        return [MIME_TARGETS]

    def mimeData(self, indexes) -> QMimeData:
        refs = [str(self.data(i, TargetRole)) for i in indexes if i.isValid()]
        mime = QMimeData()
        mime.setData(MIME_TARGETS, QByteArray(json.dumps(refs).encode()))
        return mime

    def canDropMimeData(self, data, action, row, column, parent) -> bool:
        return data.hasFormat(MIME_TARGETS) and parent.isValid()

    def dropMimeData(self, data, action, row, column, parent) -> bool:
        if not self.canDropMimeData(data, action, row, column, parent):
            return False
        into = self.data(parent, TargetRole)
        refs = json.loads(bytes(data.data(MIME_TARGETS)).decode())
        dragged = [_target(r) for r in refs]
        dragged = [t for t in dragged if t != into]
        if not dragged:
            return False
        self.mergeRequested.emit([into, *dragged])
        return False  # nothing to remove from the source: the model reloads after the merge


def _target(ref: str) -> Target:
    return Target("person" if ref[0] == "p" else "group", int(ref[1:]))


SORTS = {"name": "Name", "photos": "Most photos", "recent": "Recently named"}
SMALL_GROUP = 2  # unnamed groups with fewer faces are out of the grid unless "Show all"


class PeopleFilter(QSortFilterProxyModel):
    """Filters people by name (any part, any case); ``g12`` / ``p3`` find a group or person.
    Unnamed groups of fewer than ``min_faces`` faces (a blurred face in the background) are left
    out unless ``show_all``; a name typed in the filter finds them too. Named people come first,
    sorted by ``sort`` ("name", "photos", "recent"); unnamed groups follow, biggest first."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._text = ""
        self.min_faces = SMALL_GROUP
        self.show_all = False
        self.sort_key = "name"

    def _refilter(self, change) -> None:
        if hasattr(self, "beginFilterChange"):  # Qt 6.10+
            self.beginFilterChange()
            change()
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            change()
            self.invalidateFilter()

    def set_text(self, text: str) -> None:
        self._refilter(lambda: setattr(self, "_text", text.strip().casefold()))

    def set_show_all(self, on: bool) -> None:
        self._refilter(lambda: setattr(self, "show_all", bool(on)))

    def set_sort(self, key: str) -> None:
        # By name is the library's own order: no sorting at all (10,000 groups stay instant).
        self.sort_key = key
        self.invalidate()
        self.sort(-1 if key == "name" else 0)

    def hidden_small(self) -> int:
        """Unnamed groups left out for being small."""
        model = self.sourceModel()
        if model is None or self.show_all:
            return 0
        return sum(1 for r in range(model.rowCount()) if self._small(r))

    def _small(self, row: int) -> bool:
        p = self.sourceModel().summary(row)
        return p.kind == "group" and p.faces < self.min_faces

    def lessThan(self, left, right) -> bool:
        a, b = left.data(SummaryRole), right.data(SummaryRole)
        if a is None or b is None:
            return left.row() < right.row()
        if a.kind != b.kind:
            return a.kind == "person"
        if a.kind == "group" or self.sort_key == "name":
            return left.row() < right.row()  # the library's order: names, then groups by size
        if self.sort_key == "photos":
            return (-a.photos, (a.name or "").casefold()) < (-b.photos, (b.name or "").casefold())
        return (a.created_at or 0) > (b.created_at or 0)

    def filterAcceptsRow(self, row: int, parent: QModelIndex) -> bool:
        if not self._text:
            return self.show_all or not self._small(row)
        idx = self.sourceModel().index(row, 0, parent)
        name = idx.data(NameRole)
        target = idx.data(TargetRole)
        hay = (name or "unnamed").casefold()
        return self._text in hay or (target is not None and str(target) == self._text)


class FacesModel(_ImageRows):
    """A person's (or group's) faces, confirmed first then suggestions, as ``list_faces`` gives."""

    def __init__(self, images: ImageLoader, thumb_size: int, parent=None):
        self._rows: list[dict] = []
        super().__init__(images, parent)
        self.thumb_size = thumb_size
        self.cover_face_id: int | None = None

    def set_faces(self, faces: list[dict], cover_face_id: int | None = None) -> None:
        self.beginResetModel()
        self._rows = list(faces)
        self.cover_face_id = cover_face_id
        self._index_keys([self._request(f)[0] for f in self._rows])
        self.endResetModel()

    def _request(self, f):
        return face_request(f["id"], f["path"], f["box"], self.thumb_size)

    def face(self, row: int) -> dict:
        return self._rows[row]

    def faces(self) -> list[dict]:
        return list(self._rows)

    def data(self, index: QModelIndex, role: int = Qt.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        f = self._rows[index.row()]
        if role in (Qt.DisplayRole, Qt.AccessibleTextRole):
            return Path(f["path"]).stem  # elided in the middle: the numbers at the end tell photos apart
        if role == FaceRole:
            return f
        if role == AccentRole:
            return f["state"] if f["state"] == "suggested" else None
        if role == BadgeRole:
            if f["id"] == self.cover_face_id:
                return "cover"
            if f["state"] == "suggested" and f["confidence"] is not None:
                return f"{round(100 * f['confidence'])}%"
            return None
        if role == SubtitleRole:
            if f["state"] == "suggested":
                return "suggested · sure" if f.get("sure") else "suggested"
            return {"confirmed": "confirmed", "auto": ""}.get(f["state"], f["state"])
        if role == Qt.ToolTipRole:
            conf = f" ({round(100 * f['confidence'])}% sure)" if f["confidence"] is not None else ""
            if f["state"] == "suggested":
                conf += ": a sure suggestion" if f.get("sure") else ": less sure, check it"
            state = {"auto": "in an unnamed group", "ignored": "ignored"}.get(f["state"], f["state"])
            return f"{f['path']}\n{f.get('person') or 'Unnamed'}: {state}{conf}"
        if role == PlaceholderRole:
            return ""
        if role == Qt.DecorationRole:
            return self.images.image(*self._request(f))
        if role == FailedRole:
            return self.images.failed(self._request(f)[0])
        return None


class HitsModel(_ImageRows):
    """Find results: one photo per row, nearest first, the matching face outlined."""

    def __init__(self, images: ImageLoader, thumb_size: int, parent=None):
        self._rows: list = []
        super().__init__(images, parent)
        self.thumb_size = thumb_size

    def set_hits(self, hits) -> None:
        self.beginResetModel()
        self._rows = list(hits)
        self._index_keys([self._request(h)[0] for h in self._rows])
        self.endResetModel()

    def _request(self, h):
        return preview_request(h.path, self.thumb_size, h.box)

    def hit(self, row: int):
        return self._rows[row]

    def hits(self) -> list:
        return list(self._rows)

    def data(self, index: QModelIndex, role: int = Qt.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        h = self._rows[index.row()]
        if role in (Qt.DisplayRole, Qt.AccessibleTextRole):
            return Path(h.path).stem
        if role == FaceRole:
            return h
        if role == SubtitleRole:
            if h.distance is None:  # people together: who is in it
                return h.person or ""
            return f"{h.person or 'unnamed'} · distance {h.distance:.2f}"
        if role == Qt.ToolTipRole:
            if h.distance is None:
                return f"{h.path}\n{h.person}"
            return f"{h.path}\n{h.person or 'Unnamed'}: distance {h.distance:.3f} (smaller is more alike)"
        if role == PlaceholderRole:
            return ""
        if role == Qt.DecorationRole:
            return self.images.image(*self._request(h))
        if role == FailedRole:
            return self.images.failed(self._request(h)[0])
        return None


class PhotosModel(_ImageRows):
    """Every photo of the library (``Library.list_photos``): a preview, the file name, its date,
    and the names of the people in it on hover."""

    def __init__(self, images: ImageLoader, thumb_size: int, parent=None):
        self._rows: list[dict] = []
        super().__init__(images, parent)
        self.thumb_size = thumb_size
        self.show_folder = True  # several folders shown: each tile says which

    def set_photos(self, photos: list[dict], show_folder: bool = True) -> None:
        self.beginResetModel()
        self._rows = list(photos)
        self.show_folder = show_folder
        self._index_keys([self._request(p)[0] for p in self._rows])
        self.endResetModel()

    def _request(self, p):
        return preview_request(p["path"], self.thumb_size)

    def photos(self) -> list[dict]:
        return list(self._rows)

    def data(self, index: QModelIndex, role: int = Qt.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        p = self._rows[index.row()]
        if role in (Qt.DisplayRole, Qt.AccessibleTextRole):
            return Path(p["path"]).stem
        if role == FaceRole:
            return p
        if role == SubtitleRole:
            date = time.strftime("%d %b %Y", time.localtime(p["time"]))
            return f"{Path(p['folder']).name} · {date}" if self.show_folder else date
        if role == Qt.ToolTipRole:
            who = ", ".join(p["names"]) if p["names"] else (
                "nobody named yet" if p["faces"] else "no faces found")
            return f"{p['path']}\n{who}"
        if role == PlaceholderRole:
            return ""
        if role == Qt.DecorationRole:
            return self.images.image(*self._request(p))
        if role == FailedRole:
            return self.images.failed(self._request(p)[0])
        return None

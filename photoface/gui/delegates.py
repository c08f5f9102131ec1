"""Painting one tile of a grid: an image (or a placeholder while it loads), a title, a subtitle,
and an optional badge. Used by the people, person and find grids."""

from __future__ import annotations

from PySide6.QtCore import QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPainterPath, QPalette, QPen
from PySide6.QtWidgets import QCompleter, QLineEdit, QStyle, QStyledItemDelegate

from .models import AccentRole, BadgeRole, FailedRole, PlaceholderRole, SubtitleRole

PAD = 6
SUGGESTED = QColor("#e0a526")


class TileDelegate(QStyledItemDelegate):
    """A tile ``image`` px wide (and ``image_h`` tall) with one or two lines of text below."""

    def __init__(self, image: int, image_h: int | None = None, subtitle: bool = True,
                 round_image: bool = False, fill: bool = True, elide=Qt.ElideRight, parent=None):
        super().__init__(parent)
        self.image_w = image
        self.image_h = image_h or image
        self.subtitle = subtitle
        self.round_image = round_image
        self.fill = fill  # True: the image fills its square (faces); False: fits inside (photos)
        self.completer: QCompleter | None = None  # names offered while renaming
        # File names differ at the end (IMG_0412, Tom_Hanks_0003): elide those in the middle.
        self.elide = elide

    def _metrics(self, option):
        title = QFont(option.font)
        title.setBold(True)
        small = QFont(option.font)
        small.setPointSizeF(max(7.0, option.font.pointSizeF() * 0.88))
        return title, small, QFontMetrics(title), QFontMetrics(small)

    def sizeHint(self, option, index) -> QSize:
        _, _, ft, fs = self._metrics(option)
        h = PAD + self.image_h + 4 + ft.height() + (fs.height() if self.subtitle else 0) + PAD
        return QSize(self.image_w + 2 * PAD, h)

    def image_rect(self, rect: QRect) -> QRect:
        return QRect(rect.x() + (rect.width() - self.image_w) // 2, rect.y() + PAD, self.image_w, self.image_h)

    def title_rect(self, option) -> QRect:
        _, _, ft, _ = self._metrics(option)
        r = option.rect
        return QRect(r.x() + 2, r.y() + PAD + self.image_h + 4, r.width() - 4, ft.height())

    def paint(self, painter: QPainter, option, index) -> None:
        painter.save()
        painter.setRenderHint(QPainter.Antialiasing)
        pal = option.palette
        rect = option.rect.adjusted(1, 1, -1, -1)
        selected = bool(option.state & QStyle.State_Selected)
        if selected or option.state & QStyle.State_MouseOver:
            bg = QColor(pal.color(QPalette.Highlight))
            bg.setAlpha(70 if selected else 25)
            painter.setPen(Qt.NoPen)
            painter.setBrush(bg)
            painter.drawRoundedRect(QRectF(rect), 8, 8)

        img_rect = self.image_rect(option.rect)
        clip = QPainterPath()
        if self.round_image:
            clip.addEllipse(QRectF(img_rect))
        else:
            clip.addRoundedRect(QRectF(img_rect), 6, 6)
        image = index.data(Qt.DecorationRole)
        painter.save()
        painter.setClipPath(clip)
        if image is not None and not image.isNull():
            if not self.fill:
                painter.fillRect(img_rect, pal.color(QPalette.Mid).lighter(150))
            painter.drawImage(_fit(image.size(), img_rect, self.fill), image)
        else:
            painter.fillRect(img_rect, pal.color(QPalette.Mid).lighter(130))
            letter = "!" if index.data(FailedRole) else index.data(PlaceholderRole)
            if letter:
                f = QFont(option.font)
                f.setPixelSize(int(self.image_h * 0.4))
                f.setBold(True)
                painter.setFont(f)
                painter.setPen(pal.color(QPalette.Base))
                painter.drawText(img_rect, Qt.AlignCenter, letter)
        painter.restore()

        if index.data(AccentRole) == "suggested":
            pen = QPen(SUGGESTED, 3, Qt.DashLine)
            painter.setPen(pen)
            painter.setBrush(Qt.NoBrush)
            if self.round_image:
                painter.drawEllipse(QRectF(img_rect).adjusted(1.5, 1.5, -1.5, -1.5))
            else:
                painter.drawRoundedRect(QRectF(img_rect).adjusted(1.5, 1.5, -1.5, -1.5), 6, 6)
        if selected:
            painter.setPen(QPen(pal.color(QPalette.Highlight), 2))
            painter.setBrush(Qt.NoBrush)
            painter.drawRoundedRect(QRectF(rect), 8, 8)

        badge = index.data(BadgeRole)
        title_font, small_font, ft, fs = self._metrics(option)
        if badge:
            painter.setFont(small_font)
            w = fs.horizontalAdvance(badge) + 10
            b = QRectF(img_rect.right() - w - 3, img_rect.top() + 3, w, fs.height() + 2)
            painter.setPen(Qt.NoPen)
            painter.setBrush(QColor(0, 0, 0, 160))
            painter.drawRoundedRect(b, b.height() / 2, b.height() / 2)
            painter.setPen(QColor("white"))
            painter.drawText(b, Qt.AlignCenter, badge)

        text_color = pal.color(QPalette.Text)
        title = index.data(Qt.DisplayRole) or ""
        tr = self.title_rect(option)
        muted = index.data(PlaceholderRole) == "?"  # an unnamed group
        font = QFont(title_font)
        if muted:
            font.setBold(False)
            font.setItalic(True)
        painter.setFont(font)
        painter.setPen(pal.color(QPalette.PlaceholderText) if muted else text_color)
        painter.drawText(tr, Qt.AlignHCenter | Qt.AlignVCenter, QFontMetrics(font).elidedText(title, self.elide, tr.width()))
        if self.subtitle:
            sub = index.data(SubtitleRole) or ""
            sr = QRect(tr.x(), tr.bottom() + 1, tr.width(), fs.height())
            painter.setFont(small_font)
            painter.setPen(pal.color(QPalette.PlaceholderText))
            painter.drawText(sr, Qt.AlignHCenter | Qt.AlignVCenter, fs.elidedText(sub, Qt.ElideRight, sr.width()))
        painter.restore()

    # -- renaming in place ----------------------------------------------------------------------
    def createEditor(self, parent, option, index):
        editor = QLineEdit(parent)
        editor.setPlaceholderText("Name")
        editor.setAlignment(Qt.AlignCenter)
        editor.setAccessibleName("Name")
        if self.completer is not None:
            completer = QCompleter(self.completer.model(), editor)
            completer.setCaseSensitivity(Qt.CaseInsensitive)
            completer.setFilterMode(Qt.MatchContains)
            editor.setCompleter(completer)
        return editor

    def setEditorData(self, editor, index) -> None:
        # The view calls this again whenever the tile's data changes (its cover thumbnail
        # arriving): once the user has typed, keep the typing.
        if editor.isModified():
            return
        editor.setText(index.data(Qt.EditRole) or "")
        editor.selectAll()

    def setModelData(self, editor, model, index) -> None:
        model.setData(index, editor.text(), Qt.EditRole)

    def updateEditorGeometry(self, editor, option, index) -> None:
        r = self.title_rect(option)
        h = max(editor.sizeHint().height(), r.height())
        editor.setGeometry(QRect(r.x(), r.center().y() - h // 2, r.width(), h))


def _fit(size, rect: QRect, fill: bool = True) -> QRect:
    """Where an image of ``size`` goes, centred in ``rect``: filling it (cropped by the clip) or
    fitting inside it."""
    if size.width() <= 0 or size.height() <= 0:
        return rect
    pick = max if fill else min
    k = pick(rect.width() / size.width(), rect.height() / size.height())
    w, h = size.width() * k, size.height() * k
    return QRect(int(rect.center().x() - w / 2 + 0.5), int(rect.center().y() - h / 2 + 0.5), int(w + 0.5), int(h + 0.5))

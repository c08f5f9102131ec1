"""Icons: the app's own (resources/icons/photoface.png) and a few toolbar glyphs for actions the
style has no icon for, taken from the desktop theme where there is one."""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPixmap

from ..config import resources_dir

ICON_FILE = "photoface.png"


def icon_path():
    return resources_dir() / "icons" / ICON_FILE


def app_icon() -> QIcon:
    path = icon_path()
    return QIcon(str(path)) if path.is_file() else QIcon()


def glyph_icon(theme_name: str, glyph: str, color: str = "#404040") -> QIcon:
    """The theme's icon, else a character drawn at a few sizes."""
    themed = QIcon.fromTheme(theme_name)
    if not themed.isNull():
        return themed
    icon = QIcon()
    for size in (16, 20, 24, 32, 48):
        pm = QPixmap(size, size)
        pm.fill(Qt.transparent)
        p = QPainter(pm)
        p.setRenderHint(QPainter.Antialiasing)
        p.setRenderHint(QPainter.TextAntialiasing)
        font = QFont()
        font.setPixelSize(int(size * 0.95))
        font.setBold(True)
        p.setFont(font)
        p.setPen(QColor(color))
        p.drawText(QRect(0, -1, size, size), Qt.AlignCenter, glyph)
        p.end()
        icon.addPixmap(pm)
    return icon

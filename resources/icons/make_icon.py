"""Draws PhotoFace's icon (resources/icons/photoface.png, 256 px) with QPainter.

    QT_QPA_PLATFORM=offscreen python resources/icons/make_icon.py

The PNG is committed; this script is how it was made (run it again after changing the design).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QPointF, QRectF, Qt  # noqa: E402
from PySide6.QtGui import QBrush, QColor, QGuiApplication, QImage, QLinearGradient, QPainter, QPainterPath, QPen  # noqa: E402


def draw(size: int = 256) -> QImage:
    img = QImage(size, size, QImage.Format_ARGB32_Premultiplied)
    img.fill(Qt.transparent)
    p = QPainter(img)
    p.setRenderHint(QPainter.Antialiasing)
    s = size / 256.0
    p.scale(s, s)
    # Tile: a rounded square with a blue-to-teal gradient.
    grad = QLinearGradient(0, 0, 256, 256)
    grad.setColorAt(0, QColor("#3a7bd5"))
    grad.setColorAt(1, QColor("#00b4a0"))
    tile = QPainterPath()
    tile.addRoundedRect(QRectF(12, 12, 232, 232), 52, 52)
    p.fillPath(tile, QBrush(grad))
    # A person: head and shoulders, clipped to the tile.
    p.setClipPath(tile)
    p.setPen(Qt.NoPen)
    p.setBrush(QColor(255, 255, 255, 240))
    p.drawEllipse(QPointF(128, 112), 40, 44)
    p.drawEllipse(QRectF(60, 170, 136, 120))
    p.setClipping(False)
    # Viewfinder corners: "a face, found".
    pen = QPen(QColor("#ffd34d"), 12, Qt.SolidLine, Qt.RoundCap, Qt.RoundJoin)
    p.setPen(pen)
    p.setBrush(Qt.NoBrush)
    a, b, L = 66, 190, 30
    for x, y, dx, dy in ((a, a, 1, 1), (b, a, -1, 1), (a, b - 22, 1, -1), (b, b - 22, -1, -1)):
        path = QPainterPath(QPointF(x, y + dy * L))
        path.lineTo(x, y)
        path.lineTo(x + dx * L, y)
        p.drawPath(path)
    p.end()
    return img


if __name__ == "__main__":
    app = QGuiApplication(sys.argv)
    out = Path(__file__).resolve().parent
    draw(256).save(str(out / "photoface.png"))
    print("wrote", out / "photoface.png")

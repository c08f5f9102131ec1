"""Non-modal panels of the main window: scan progress, and notices (unreadable photos, a library
that cannot be opened) that the user reads and dismisses instead of clicking through dialogs."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QFrame, QHBoxLayout, QLabel, QListWidget, QProgressBar, QPushButton, QSizePolicy, QStyle,
    QToolButton, QVBoxLayout, QWidget,
)


def duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{max(seconds, 1)} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


class ScanPanel(QWidget):
    """"Scanning ...: 12 of 40 photos · 23 faces · about 1 min left" with a bar and Cancel."""

    cancelRequested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 0, 6, 0)
        self.label = QLabel()
        self.label.setMinimumWidth(260)
        self.bar = QProgressBar()
        self.bar.setTextVisible(False)
        self.bar.setFixedWidth(200)
        self.bar.setAccessibleName("Scan progress")
        self.cancel = QPushButton("Cancel")
        self.cancel.setToolTip("Stop scanning; what was scanned so far is kept")
        self.cancel.clicked.connect(self._cancel)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel)
        self.hide()

    def start(self, what: str) -> None:
        self.what = what
        self.label.setText(f"Scanning {what}…")
        self.bar.setRange(0, 0)
        self.cancel.setEnabled(True)
        self.show()

    def update_progress(self, p) -> None:
        if p.phase == "analysing" and p.total:
            self.bar.setRange(0, p.total)
            self.bar.setValue(p.done)
            eta = p.eta
            left = f" · about {duration(eta)} left" if eta is not None and p.done < p.total else ""
            self.label.setText(f"{p.done} of {p.total} photos · {p.faces} faces{left}")
        else:
            self.bar.setRange(0, 0)
            count = f" ({p.done} of {p.total})" if p.total else ""
            self.label.setText(f"{p.phase.capitalize()}{count}…")

    def update_phase(self, text: str) -> None:
        self.bar.setRange(0, 0)
        self.label.setText(f"{text[:1].upper()}{text[1:]}…")

    def _cancel(self) -> None:
        self.cancel.setEnabled(False)
        self.label.setText("Stopping…")
        self.cancelRequested.emit()


class NoticeBar(QFrame):
    """A dismissable bar: a message, optional details (a list), a close button."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("notice")
        self.setFrameShape(QFrame.StyledPanel)
        self.setStyleSheet("#notice { background: #fff4d6; border: 1px solid #e3c36b; border-radius: 4px; }"
                           "#notice QLabel { color: #4a3b00; }")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(8, 4, 4, 4)
        row = QHBoxLayout()
        icon = QLabel()
        icon.setPixmap(self.style().standardIcon(QStyle.SP_MessageBoxWarning).pixmap(18, 18))
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Preferred)
        self.toggle = QPushButton("Show")
        self.toggle.setCheckable(True)
        self.toggle.toggled.connect(self._toggle)
        self.close_button = QToolButton()
        self.close_button.setIcon(self.style().standardIcon(QStyle.SP_TitleBarCloseButton))
        self.close_button.setToolTip("Dismiss")
        self.close_button.setAccessibleName("Dismiss")
        self.close_button.setAutoRaise(True)
        self.close_button.clicked.connect(self.dismiss)
        row.addWidget(icon)
        row.addWidget(self.message)
        row.addWidget(self.toggle)
        row.addWidget(self.close_button)
        outer.addLayout(row)
        self.details = QListWidget()
        self.details.setMaximumHeight(140)
        self.details.setAccessibleName("Details")
        self.details.hide()
        outer.addWidget(self.details)
        self.hide()

    def show_notice(self, message: str, details: list[str] | None = None) -> None:
        self.message.setText(message)
        self.details.clear()
        if details:
            self.details.addItems(details)
        self.toggle.setVisible(bool(details))
        self.toggle.setChecked(False)
        self.show()

    def dismiss(self) -> None:
        self.hide()

    def _toggle(self, on: bool) -> None:
        self.details.setVisible(on)
        self.toggle.setText("Hide" if on else "Show")


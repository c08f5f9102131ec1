"""Asking for a name: rename a person, name a face, move faces to someone (with completion)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog, QDialogButtonBox, QLabel, QLineEdit, QPushButton, QVBoxLayout,
)

from .page import names_completer

OWN_GROUP = ""  # ask_name's answer for "a group of their own" (move without a person)


class NameDialog(QDialog):
    def __init__(self, parent, title: str, prompt: str, names_model, text: str = "",
                 allow_own_group: bool = False):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.answer: str | None = None
        layout = QVBoxLayout(self)
        label = QLabel(prompt)
        label.setWordWrap(True)
        layout.addWidget(label)
        self.edit = QLineEdit(text)
        self.edit.setPlaceholderText("A name: an existing one, or a new person")
        self.edit.setAccessibleName("Name")
        label.setBuddy(self.edit)
        names_completer(names_model, self.edit)
        layout.addWidget(self.edit)
        hint = QLabel("Choosing an existing name adds these faces to that person.")
        hint.setEnabled(False)
        hint.setWordWrap(True)
        layout.addWidget(hint)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        self.ok = buttons.button(QDialogButtonBox.Ok)
        if allow_own_group:
            own = QPushButton("Own unnamed group")
            own.setToolTip("Take these faces out into a group of their own")
            own.clicked.connect(self._own_group)
            buttons.addButton(own, QDialogButtonBox.ActionRole)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.edit.textChanged.connect(lambda t: self.ok.setEnabled(bool(t.strip())))
        self.ok.setEnabled(bool(text.strip()))
        self.edit.selectAll()
        self.resize(380, self.sizeHint().height())

    def _accept(self) -> None:
        name = " ".join(self.edit.text().split())
        if name:
            self.answer = name
            self.accept()

    def _own_group(self) -> None:
        self.answer = OWN_GROUP
        self.accept()


def ask_name(parent, title: str, prompt: str, names_model, text: str = "",
             allow_own_group: bool = False) -> str | None:
    """A name, ``OWN_GROUP`` (if allowed), or None when cancelled."""
    dlg = NameDialog(parent, title, prompt, names_model, text, allow_own_group)
    if dlg.exec() != QDialog.Accepted:
        return None
    return dlg.answer

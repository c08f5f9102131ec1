"""Where PhotoFace finds its bundled resources (and, later, its library): one place for paths."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def resources_dir() -> Path:
    """The ``resources/`` folder: beside the package in a checkout, or inside a frozen bundle."""
    override = os.environ.get("PHOTOFACE_RESOURCES")
    if override:
        return Path(override)
    frozen_root = getattr(sys, "_MEIPASS", None)  # set by PyInstaller
    if frozen_root:
        return Path(frozen_root) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def models_dir() -> Path:
    return resources_dir() / "models"


LIBRARY_ENV = "PHOTOFACE_LIBRARY"
LIBRARY_FILE = "library.sqlite3"


def default_library_path() -> Path:
    """The user's library: ``$PHOTOFACE_LIBRARY`` if set, else the platform's user data folder."""
    override = os.environ.get(LIBRARY_ENV)
    if override:
        return Path(override).expanduser()
    import appdirs

    return Path(appdirs.user_data_dir("photoface")) / LIBRARY_FILE


def library_path(explicit: str | os.PathLike | None = None) -> Path:
    """``--library FILE`` wins over the environment and the default."""
    return Path(explicit).expanduser() if explicit else default_library_path()

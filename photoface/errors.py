"""Typed errors of the PhotoFace core: each one carries a message fit to show a user."""

from __future__ import annotations


class PhotoFaceError(Exception):
    """Base class for every error the core raises on purpose."""


class DecodeError(PhotoFaceError):
    """A photo could not be read or decoded; names the file and the reason."""

    def __init__(self, path, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class ModelError(PhotoFaceError):
    """A bundled model file is missing, corrupt, or does not match what the code expects."""


class LibraryError(PhotoFaceError):
    """The library file cannot be used: unreadable, not a library, or from a newer version."""


class UserError(PhotoFaceError):
    """A request that cannot be carried out as asked: an unknown person, face or file."""

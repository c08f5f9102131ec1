"""The library store: SQLite schema, migrations and the connection (no Qt, no models)."""

from .database import Database
from .migrations import SCHEMA_VERSION

__all__ = ["Database", "SCHEMA_VERSION"]

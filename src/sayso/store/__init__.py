"""Storage: SQLite in the data directory, transactional, with per-domain migrations."""

from sayso.store.db import Database, Migration

__all__ = ["Database", "Migration"]

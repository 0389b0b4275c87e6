"""``oversight retention compact``'s store: compaction itself is the purge use case's
(``application.storage.compact``, ADR 0012, 0018)."""

from __future__ import annotations

from sqlalchemy import Engine

from application import storage
from oversight.settings import DatabaseSettings


def compact(database: DatabaseSettings, engine: Engine) -> None:
    """Leave no superseded copy of a purged row in the database's own files."""
    del database  # the engine says which store it is
    storage.compact(engine)

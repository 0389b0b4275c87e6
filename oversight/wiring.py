"""Build the application for the configured store, after checking the schema."""

from __future__ import annotations

from application.app import OversightApplication
from oversight.schema import check_schema
from oversight.settings import DatabaseSettings, Settings


def open_application(
    settings: Settings | DatabaseSettings | None = None, *, check: bool = True
) -> OversightApplication:
    """The application on the configured database. Refuses a schema that is behind."""
    if settings is None:
        settings = Settings.from_env()
    database = settings.database if isinstance(settings, Settings) else settings
    if check:
        check_schema(database)
    return OversightApplication(env=database.eventsourcing_env())

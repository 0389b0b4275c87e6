"""The typed schema reads what is really stored: the database written by the code before
ADR 0021 (``tests/fixtures``, every catalogue event at least once) is opened, the
history is rebuilt over it, and every row becomes its event's object type, every
subject's entries and attributes their types, with no required field left empty
(ADR 0028). The fixture is SQLite: it is the stored file itself."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from strawberry.types.base import StrawberryOptional, get_object_definition

from application.app import OversightApplication
from domain.events import ChildRegistered, WorkerRegistered
from graphql_api.types.entries import attributes_of, entries_of
from graphql_api.types.events import event_of
from oversight.projecting import read_engine, runner_for
from oversight.schema import upgrade
from oversight.settings import DatabaseSettings
from projections import history as history_model
from projections.history import SubjectHistory

FIXTURE = Path(__file__).parents[1] / "fixtures" / "stored-events-2026-12.sqlite3"


@pytest.fixture
def stored(tmp_path: Path) -> Iterator[tuple[DatabaseSettings, OversightApplication]]:
    path = tmp_path / "stored.sqlite3"
    shutil.copyfile(FIXTURE, path)
    settings = DatabaseSettings.from_url(f"sqlite:///{path}")
    upgrade(settings)
    app = OversightApplication(env=settings.eventsourcing_env())
    try:
        yield settings, app
    finally:
        app.close()


def _empty_required(made: Any) -> list[str]:
    """The fields of a strawberry object that are required and hold None."""
    definition = get_object_definition(made, strict=True)
    return [
        f.python_name
        for f in definition.fields
        if not isinstance(f.type, StrawberryOptional)
        and f.python_name in vars(made)
        and getattr(made, f.python_name) is None
    ]


def test_every_stored_row_reads_as_its_type(
    stored: tuple[DatabaseSettings, OversightApplication],
) -> None:
    settings, app = stored
    engine = read_engine(settings)
    try:
        runner_for(settings, app, SubjectHistory(), engine).rebuild()
        with engine.connect() as conn:
            subjects = [
                r[0] for r in conn.execute(text("SELECT DISTINCT subject_id FROM subject_history"))
            ]
        kinds: set[str] = set()
        for subject in subjects:
            answer, rows = history_model.read(engine, subject)
            for row in rows:
                made = event_of(row)
                assert _empty_required(made) == [], (row.event_type, row.data)
                kinds.add(row.event_type)
            registered = {r.kind for r in rows} & {WorkerRegistered, ChildRegistered}
            for entry in entries_of(answer.entries, rows):
                assert entry.id and entry.kind is not None
            if registered:
                kind = "worker" if WorkerRegistered in registered else "child"
                attributes = attributes_of(kind, answer.attributes)
                assert type(attributes).__name__ == f"{kind.capitalize()}Attributes"
        assert len(kinds) > 40, sorted(kinds)  # the fixture's whole catalogue, as history
    finally:
        engine.dispose()

"""A told story on the parametrised backend, for every export test."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pytest
from sqlalchemy import Engine

from application.app import OversightApplication
from oversight.settings import DatabaseSettings
from tests.exports.story import tell
from tests.graphql_api.conftest import api, token_settings  # noqa: F401 (the API's fixtures)


@dataclass
class Told:
    database: DatabaseSettings
    app: OversightApplication
    engine: Engine
    recorded: list[datetime]


@pytest.fixture
def told(database: DatabaseSettings, app: OversightApplication, engine: Engine) -> Told:
    return Told(database, app, engine, tell(database, app, engine))

"""The event store's connections to a primary and its standbys (ADR 0034).

The library's PostgreSQL factory passes libpq only host, port, user, password and
dbname; a URL naming several hosts also needs ``target_session_attrs=read-write`` (and
may give ``sslmode``), or a pooled connection could land on a standby. This factory is
the library's, with the URL's libpq parameters (``OVERSIGHT_LIBPQ_OPTIONS``, set by
``DatabaseSettings.eventsourcing_env``) added to every connection its pool opens.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from eventsourcing import postgres
from eventsourcing.utils import Environment, EnvType

LIBPQ_OPTIONS = "OVERSIGHT_LIBPQ_OPTIONS"


class PostgresFactory(postgres.PostgresFactory):
    def __init__(self, env: Environment | EnvType | None) -> None:
        super().__init__(env)
        options = dict(parse_qsl(self.env.get(LIBPQ_OPTIONS) or ""))
        kwargs = self.datastore.pool.kwargs
        assert isinstance(kwargs, dict)
        kwargs.update(options)

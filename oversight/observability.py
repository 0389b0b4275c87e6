"""Watching a running service (issue 25, ADR 0031, docs/operations.md): its logs, the
readings ``/metrics`` takes from the store at each scrape, and ``/readyz``'s checks.

- Logs: every line of the standard library's loggers (the API's ``graphql.error`` lines,
  uvicorn's, the projections') goes through structlog: JSON lines in production, readable
  lines in development, each with the request id, the user (a person id from the token,
  never a name) and the authority bound by the API for the request it belongs to.
- Metrics read at scrape time: each projection's lag in events and seconds, and each
  authority's records due and overdue for destruction (the purge schedule).
- Readiness: the database answers, its schema is at this code's head, and no projection
  is more than ``OVERSIGHT_READY_MAX_LAG`` events behind.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import IO, Any

import structlog
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, and_, func, select

from oversight.settings import DatabaseSettings, ObservabilitySettings
from projections.engine import Projection, Source, status

#: Fields every line carries, "-" where there is none (a line outside any request).
CONTEXT_FIELDS = ("request_id", "user", "authority")


def _context_defaults(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    for name in CONTEXT_FIELDS:
        event.setdefault(name, "-")
    return event


def configure_logging(
    settings: ObservabilitySettings, stream: IO[str] | None = None
) -> logging.Handler:
    """Route the root logger through structlog, once for the process: JSON lines in
    production, readable ones in development, on ``stream`` (standard error unless
    given). Returns the handler it installed (a second call replaces it)."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        _context_defaults,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if settings.environment == "production"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            # A traceback's frames are logged as text (never the exception's message:
            # the API logs its frames itself, graphql_api.errors).
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    handler.set_name("oversight")
    root = logging.getLogger()
    for existing in list(root.handlers):
        if existing.get_name() == "oversight":
            root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    # uvicorn's own loggers log to the root's handler (its access lines are replaced by
    # the API's, which name the route and never the query string).
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    # /readyz reads the schema's revision through alembic, which says so at INFO.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    return handler


class ProjectionLag(Collector):
    """Each projection's lag behind the event log, in events and in seconds (the age of
    the oldest event it has not applied), read at each scrape."""

    def __init__(self, engine: Engine, source: Source, projections: Sequence[Projection]) -> None:
        self.engine = engine
        self.source = source
        self.projections = projections

    def collect(self) -> Iterator[Metric]:
        events = GaugeMetricFamily(
            "oversight_projection_lag_events",
            "Events in the log that the projection has not applied.",
            labels=["projection"],
        )
        seconds = GaugeMetricFamily(
            "oversight_projection_lag_seconds",
            "Age of the oldest event the projection has not applied (0: caught up).",
            labels=["projection"],
        )
        for row in status(self.engine, self.source, self.projections):
            events.add_metric([row.name], row.lag_events)
            seconds.add_metric([row.name], row.lag_seconds)
        yield events
        yield seconds


class PurgeCounts(Collector):
    """Each authority's records due for destruction (due on or before today, neither
    held nor destroyed) and, of those, overdue (due before today: a purge run yesterday
    would have taken them), from the purge schedule."""

    def __init__(self, engine: Engine, today: Callable[[], date] | None = None) -> None:
        self.engine = engine
        self.today = today or (lambda: datetime.now(UTC).date())

    def collect(self) -> Iterator[Metric]:
        from projections.compliance import view

        table = view("retention_schedule")
        today = self.today()
        due = GaugeMetricFamily(
            "oversight_purge_due_records",
            "Records due for destruction today or earlier, not held, not destroyed.",
            labels=["authority"],
        )
        overdue = GaugeMetricFamily(
            "oversight_purge_overdue_records",
            "Records whose destruction date has passed, not held, not destroyed.",
            labels=["authority"],
        )
        waiting = and_(
            table.c.purged_on.is_(None),
            table.c.held_by.is_(None),
            table.c.rule_id.is_not(None),
            table.c.due_on <= today,
        )
        query = (
            select(
                table.c.authority_code,
                func.count(),
                func.count().filter(table.c.due_on < today),
            )
            .where(waiting)
            .group_by(table.c.authority_code)
            .order_by(table.c.authority_code)
        )
        with self.engine.connect() as conn:
            for authority, due_count, overdue_count in conn.execute(query):
                due.add_metric([str(authority)], int(due_count))
                overdue.add_metric([str(authority)], int(overdue_count or 0))
        yield due
        yield overdue


def readiness(
    database: DatabaseSettings,
    engine: Engine,
    source: Source,
    projections: Sequence[Projection],
    max_lag: int,
) -> Callable[[], Mapping[str, str]]:
    """``/readyz``'s check: what is not ready, by name (empty: ready)."""
    from oversight.schema import current_revision, head_revision

    head = head_revision()

    def check() -> dict[str, str]:
        try:
            with engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
            current = current_revision(database)
        except Exception as error:  # any failure to reach it is "not reachable"
            return {"database": f"not reachable ({type(error).__name__})"}
        problems: dict[str, str] = {}
        if current != head:
            problems["schema"] = f"at {current or 'none'}, this code needs {head}"
        if problems:
            return problems
        try:
            rows = status(engine, source, projections)
        except Exception as error:
            return {"projections": f"cannot be read ({type(error).__name__})"}
        for row in rows:
            if row.lag_events > max_lag:
                problems[f"projection:{row.name}"] = (
                    f"{row.lag_events} events behind (at most {max_lag})"
                )
        return problems

    return check

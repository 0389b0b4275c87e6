"""One API process, several authorities, each in its own database (ADR 0014 step 1,
ADR 0033).

The routing table (``OVERSIGHT_AUTHORITY_DATABASES``, ``oversight.settings``) names each
authority's database. Here, each distinct database gets its stack once, at start: its
application (the library's pooled recorder), its read engine (SQLAlchemy's pool), its
purge use case and its service. A request is served by the stack of the database that
holds the authority of the caller's token (``Tenancy.service_for``): nothing a request
sends chooses it, and no request reaches two databases.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine
from starlette.applications import Starlette

from application.app import OversightApplication
from application.purge import Purges
from domain.policy.packs import PackLibrary
from graphql_api.app import Cors, Monitoring, create_app
from graphql_api.auth import TokenSettings, TokenVerifier, development_keys
from graphql_api.purge import PurgingService
from graphql_api.service import Service
from oversight.observability import ProjectionLag, PurgeCounts, readiness
from oversight.projecting import InProcessProjections, read_engine, source_for
from oversight.schema import check_schema
from oversight.serving import refuse_unapplied_purges, request_limits
from oversight.settings import (
    AuthorityDatabases,
    CorsSettings,
    DatabaseSettings,
    ObservabilitySettings,
    RoutedDatabase,
    Settings,
)
from oversight.wiring import open_application
from projections.registry import all_projections


@dataclass
class DatabaseStack:
    """Everything one database serves with, made once and shared by its authorities."""

    routed: RoutedDatabase
    application: OversightApplication
    engine: Engine
    service: PurgingService

    @property
    def database(self) -> DatabaseSettings:
        return self.routed.database

    def close(self) -> None:
        self.application.close()
        self.engine.dispose()


@dataclass
class Tenancy:
    """The stacks of every routed database, and the route from authority to stack."""

    routing: AuthorityDatabases
    stacks: list[DatabaseStack] = field(default_factory=list)
    by_authority: dict[str, DatabaseStack] = field(default_factory=dict)

    def service_for(self, authority_code: str) -> Service | None:
        """The service of the authority's database; None if no database holds it."""
        stack = self.by_authority.get(authority_code)
        return stack.service if stack is not None else None

    def close(self) -> None:
        for stack in self.stacks:
            stack.close()

    @classmethod
    def open(cls, routing: AuthorityDatabases, library: PackLibrary | None = None) -> Tenancy:
        """Check each database's schema and purge ledger, and open its stack once. A
        failure closes what was opened and names the database (its URL redacted)."""
        packs = library or PackLibrary.load()
        tenancy = cls(routing)
        try:
            for routed in routing.databases():
                stack = _open_stack(routed, packs)
                tenancy.stacks.append(stack)
                for authority in routed.authorities:
                    tenancy.by_authority[authority] = stack
        except BaseException:
            tenancy.close()
            raise
        return tenancy


def _open_stack(routed: RoutedDatabase, library: PackLibrary) -> DatabaseStack:
    database = routed.database
    try:
        check_schema(database)
    except ValueError as error:
        raise type(error)(f"{database.redacted()}: {error}") from None
    application = open_application(database, check=False)
    engine = read_engine(database)
    purges = Purges.on(application, engine)
    try:
        refuse_unapplied_purges(purges, Settings(database=database))
    except BaseException:
        application.close()
        engine.dispose()
        raise
    service = PurgingService(application, engine, library, purges=purges)
    return DatabaseStack(routed, application, engine, service)


@dataclass
class RoutedServed:
    """``oversight serve`` over a routing table: the ASGI app and what it holds."""

    app: Starlette
    tenancy: Tenancy
    tokens: TokenSettings

    def close(self) -> None:
        self.tenancy.close()


def build_routed(settings: Settings, *, projections_in_process: bool | None = None) -> RoutedServed:
    """The API over every routed database; each database's projections in this process
    too on SQLite (or when asked), as ``oversight serve`` does with one database."""
    assert settings.routing is not None
    tokens = TokenSettings.from_env()
    if tokens.environment == "development" and not tokens.jwks_file.exists():
        development_keys(tokens.jwks_file.parent)
    tenancy = Tenancy.open(settings.routing)
    first = tenancy.stacks[0]
    in_process = (
        first.database.backend == "sqlite"
        if projections_in_process is None
        else projections_in_process
    )
    runners = [
        InProcessProjections(stack.database, stack.application, stack.engine)
        for stack in tenancy.stacks
    ]

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        if in_process:
            for each in runners:
                each.start()
        try:
            yield
        finally:
            if in_process:
                for each in runners:
                    each.stop()

    development = tokens.environment == "development"
    cors = CorsSettings.from_env()
    observed = ObservabilitySettings.from_env()
    app = create_app(
        first.service,  # answers only callers without a token (the schema, no data)
        TokenVerifier(tokens),
        request_limits(development),
        lifespan=lifespan,
        cors=Cors(cors.origins, cors.origin_pattern),
        monitoring=Monitoring(
            readiness=routed_readiness(tenancy, observed.ready_max_lag),
            collectors=(routed_collector(tenancy),),
            metrics=observed.metrics,
        ),
        routing=tenancy,
    )
    return RoutedServed(app, tenancy, tokens)


def routed_readiness(tenancy: Tenancy, max_lag: int) -> Callable[[], Mapping[str, str]]:
    """``/readyz`` over every database: each problem prefixed by its database's first
    authority (a URL may hold a password; the authority says which database)."""
    projections = all_projections()
    checks = [
        (
            stack.routed.authorities[0],
            readiness(
                stack.database,
                stack.engine,
                source_for(stack.application),
                projections,
                max_lag,
            ),
        )
        for stack in tenancy.stacks
    ]

    def check() -> dict[str, str]:
        problems: dict[str, str] = {}
        for label, each in checks:
            problems.update({f"{label}:{name}": why for name, why in each().items()})
        return problems

    return check


def routed_collector(tenancy: Tenancy) -> Collector:
    """Each database's projection lag and purge counts, labelled ``database`` with the
    database's first authority, as ``/readyz`` names it."""
    projections = all_projections()
    parts: list[tuple[str, Collector]] = []
    for stack in tenancy.stacks:
        label = stack.routed.authorities[0]
        source = source_for(stack.application)
        parts.append((label, ProjectionLag(stack.engine, source, projections)))
        parts.append((label, PurgeCounts(stack.engine)))
    return LabelledByDatabase(parts)


class LabelledByDatabase(Collector):
    """Several databases' collectors as one: each family once, each sample labelled
    with its database (a family may be exposed only once per scrape)."""

    def __init__(self, parts: Sequence[tuple[str, Collector]]) -> None:
        self.parts = parts

    def collect(self) -> Iterator[Metric]:
        merged: dict[str, Metric] = {}
        for label, collector in self.parts:
            for family in collector.collect():
                target = merged.setdefault(
                    family.name,
                    Metric(family.name, family.documentation, family.type, family.unit),
                )
                for sample in family.samples:
                    target.add_sample(
                        sample.name,
                        {**sample.labels, "database": label},
                        sample.value,
                        sample.timestamp,
                        sample.exemplar,
                    )
        yield from merged.values()

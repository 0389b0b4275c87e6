"""``oversight serve``: the GraphQL API over the configured store.

On the embedded default (SQLite) the projections run in this process, so one command
gives a working service; on PostgreSQL they run as separate ``oversight projections
run`` workers unless ``--projections`` asks for them here (ADR 0006).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from starlette.applications import Starlette

from application.app import OversightApplication
from application.certificates import LEDGER_SETTING
from application.purge import Purges
from domain.policy.packs import PackLibrary
from graphql_api.app import Cors, Monitoring, create_app
from graphql_api.auth import TokenSettings, TokenVerifier, development_keys
from graphql_api.limits import Limits, document_hash
from graphql_api.purge import PurgingService
from oversight.observability import ProjectionLag, PurgeCounts, readiness
from oversight.projecting import InProcessProjections, read_engine, source_for
from oversight.settings import CorsSettings, ObservabilitySettings, Settings
from oversight.wiring import open_application
from projections.registry import all_projections

log = logging.getLogger(__name__)


@dataclass
class Served:
    app: Starlette
    application: OversightApplication
    engine: Engine
    tokens: TokenSettings
    #: The primary's engine (purges write there): ``engine`` itself unless reads go to a
    #: standby. Whoever closes ``engine`` closes this too.
    primary: Engine

    def close(self) -> None:
        self.application.close()
        for each in {self.engine, self.primary}:
            each.dispose()


def build(settings: Settings, *, projections_in_process: bool | None = None) -> Served:
    tokens = TokenSettings.from_env()
    if tokens.environment == "development" and not tokens.jwks_file.exists():
        development_keys(tokens.jwks_file.parent)
    application = open_application(settings)
    # Reads (and read-your-writes waits) on the standby when one is configured: its
    # replicated projection positions say how far it has replayed (README, topology).
    engine = read_engine(settings.reads)
    primary = engine if settings.read_database is None else read_engine(settings.database)
    purges = Purges.on(application, primary)
    try:
        refuse_unapplied_purges(purges, settings)
    except PurgesNotApplied:
        application.close()
        for each in {engine, primary}:
            each.dispose()
        raise
    service = PurgingService(application, engine, PackLibrary.load(), purges=purges)
    in_process = (
        settings.database.backend == "sqlite"
        if projections_in_process is None
        else projections_in_process
    )
    runners = InProcessProjections(settings.database, application, primary)

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        if in_process:
            runners.start()
        try:
            yield
        finally:
            if in_process:
                runners.stop()

    development = tokens.environment == "development"
    limits = request_limits(development)
    cors = CorsSettings.from_env()
    app = create_app(
        service,
        TokenVerifier(tokens),
        limits,
        lifespan=lifespan,
        cors=Cors(cors.origins, cors.origin_pattern),
        monitoring=monitoring(settings, ObservabilitySettings.from_env(), application, engine),
    )
    return Served(app, application, engine, tokens, primary)


def monitoring(
    settings: Settings,
    observed: ObservabilitySettings,
    application: OversightApplication,
    engine: Engine,
) -> Monitoring:
    """What ``/readyz`` checks and ``/metrics`` reads, on the store the API reads."""
    source = source_for(application)
    projections = all_projections()
    return Monitoring(
        readiness=readiness(settings.reads, engine, source, projections, observed.ready_max_lag),
        collectors=(ProjectionLag(engine, source, projections), PurgeCounts(engine)),
        metrics=observed.metrics,
    )


class PurgesNotApplied(ValueError):
    """The purge ledger names records this database still holds: a restored backup."""


def refuse_unapplied_purges(purges: Purges, settings: Settings) -> None:
    """Refuse to serve a database that holds records the purge ledger says were destroyed
    (a backup restored after the purge): serving them would disclose personal data whose
    destruction was certified. ``oversight retention reapply`` destroys them again and
    takes a minute; a warning would let the service run on, disclosing, until someone
    read the log (ADR 0018). Without a ledger on PostgreSQL this cannot be checked:
    say so loudly (purges are refused there until one is set)."""
    if purges.ledger is None:
        log.warning(
            "%s is not set: purges are refused, and a restored backup's purged records "
            "cannot be detected (ADR 0018)",
            LEDGER_SETTING,
        )
        return
    where = settings.database.sqlite_path or settings.database.dbname
    unapplied = purges.unapplied()
    if unapplied:
        raise PurgesNotApplied(
            f"the purge ledger {purges.ledger.path} names {len(unapplied)} destroyed records "
            f"that {where} still holds (a backup restored after their purge?): run "
            "`oversight retention reapply` before serving"
        )
    # An intent without its certificate: the purge was interrupted (and its commit maybe
    # undone by a restore). Refused only while the record is here and still due.
    interrupted = purges.interrupted()
    if interrupted:
        raise PurgesNotApplied(
            f"the purge ledger {purges.ledger.path} names {len(interrupted)} records whose "
            f"purge was interrupted before its certificate and that {where} still holds, "
            "due and not held: run `oversight retention reapply` before serving"
        )
    uncertified = purges.ledger.pending()
    if uncertified:
        # Destroyed already, held, or not here: nothing to disclose, but no certificate.
        log.warning(
            "the purge ledger %s names %d interrupted purges without a certificate: "
            "`oversight retention reapply` certifies or reports them (ADR 0018)",
            purges.ledger.path,
            len(uncertified),
        )


def request_limits(development: bool) -> Limits:
    """What one request may ask (ADR 0017, docs/security.md): the defaults of ``Limits``
    and these settings. A rate is ``0`` (off) or requests a second per principal."""
    trusted_file = os.environ.get("OVERSIGHT_GRAPHQL_TRUSTED_DOCUMENTS")
    rate = _number("OVERSIGHT_RATE_LIMIT_PER_SECOND", default=20.0)
    return Limits(
        introspection=_flag("OVERSIGHT_GRAPHQL_INTROSPECTION", default=development),
        ide=_flag("OVERSIGHT_GRAPHQL_IDE", default=development),
        rate_per_second=rate or None,
        rate_burst=int(_number("OVERSIGHT_RATE_LIMIT_BURST", default=100.0)),
        trusted_documents=load_trusted_documents(Path(trusted_file)) if trusted_file else None,
        automatic_persisted_queries=_flag("OVERSIGHT_GRAPHQL_APQ", default=development),
    )


def load_trusted_documents(path: Path) -> dict[str, str]:
    """A persisted-documents manifest (graphql-codegen's ``persisted-documents.json``, or
    ``oversight graphql trust``'s): a JSON object of sha256 hex -> document. Every entry
    is checked: a hash that is not its document's is an error naming it."""
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ValueError(
            f"OVERSIGHT_GRAPHQL_TRUSTED_DOCUMENTS: cannot read {path}: {error}"
        ) from None
    if not isinstance(manifest, dict) or not manifest:
        raise ValueError(f"{path}: a trusted-documents manifest is a non-empty JSON object")
    for key, text in manifest.items():
        if not isinstance(text, str) or document_hash(text) != key.removeprefix("sha256:"):
            raise ValueError(f"{path}: entry {key[:16]}... is not the sha256 of its document")
    return {key.removeprefix("sha256:"): text for key, text in manifest.items()}


def _number(name: str, *, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, not {raw!r}") from None
    if not 0 <= value < 1e9:
        raise ValueError(f"{name} must be between 0 and 1e9")
    return value


def _flag(name: str, *, default: bool) -> bool:
    """An on/off setting: 1/true/yes or 0/false/no (anything else is an error)."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{name} must be 1 or 0, not {raw!r}")

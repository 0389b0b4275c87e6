"""``oversight serve`` and ``oversight token mint``: the GraphQL API and its development
tokens (ADR 0011)."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import click

from domain.errors import DomainError
from domain.identifiers import worker_id
from oversight.grammar import Failure, LazyChoice
from oversight.settings import ObservabilitySettings, Settings, SettingsError


def _access_roles() -> list[str]:
    from domain.authorization import ACCESS_ROLES

    return [role.value for role in ACCESS_ROLES]


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--projections/--no-projections",
    "projections",
    default=None,
    help="Run the projections in this process (default: on SQLite only).",
)
def serve(host: str, port: int, projections: bool | None) -> None:
    """Serve the GraphQL API (and the IDE in development) with uvicorn."""
    import uvicorn

    from oversight.observability import configure_logging
    from oversight.schema import SchemaOutOfDate, check_schema
    from oversight.serving import Served, build
    from oversight.tenancy import RoutedServed, build_routed

    served: Served | RoutedServed
    try:
        settings = Settings.from_env()
        observed = ObservabilitySettings.from_env()
        if settings.routing is not None:
            # Several databases, each caller served by their authority's (ADR 0033).
            served = build_routed(settings, projections_in_process=projections)
        else:
            check_schema(settings.database)
            served = build(settings, projections_in_process=projections)
    except (SettingsError, SchemaOutOfDate, ValueError, OSError) as error:
        raise Failure(str(error)) from None
    click.echo(f"GraphQL API: http://{host}:{port}/graphql")
    if isinstance(served, RoutedServed):
        for stack in served.tenancy.stacks:
            authorities = ", ".join(stack.routed.authorities)
            click.echo(f"  {authorities}: {stack.database.redacted()}")
    if served.tokens.environment == "development":
        click.echo(f"In-browser IDE: http://{host}:{port}/graphql (paste a token below)")
        for staff, role, authority in DEMO_PRINCIPALS:
            if isinstance(served, RoutedServed) and served.tenancy.service_for(authority) is None:
                continue  # no database here holds it: its token would be refused
            lifetime = served.tokens.max_lifetime_seconds  # the longest the API accepts
            token = _mint(served.tokens, staff, role, authority, lifetime, ())
            click.echo(f"  {role:<22} {authority}/{staff}: Bearer {token}")
    # Every line through structlog: JSON in production, readable in development, each
    # with its request's id, user and authority (docs/operations.md, ADR 0031).
    configure_logging(observed)
    # Everything built so far lives as long as the process: out of the collector's way,
    # so a full collection does not walk it and hold the event loop (/healthz) for
    # 100 ms and more (measured by the hostile-client suite: 22 ms worst with this).
    gc.collect()
    gc.freeze()
    # Named, not "auto": without the websockets package uvicorn would refuse every
    # subscription's upgrade with a warning; this way it cannot start (ADR 0027).
    # uvicorn's access lines are replaced by the API's own (the route, never the query
    # string; the request id, user and authority), and its logging config by ours.
    uvicorn.run(
        served.app,
        host=host,
        port=port,
        log_level=observed.log_level.lower(),
        log_config=None,
        access_log=False,
        ws="websockets-sansio",
    )


#: Demo principals printed by ``serve`` in development.
DEMO_PRINCIPALS = (
    ("SW001", "practitioner", "DEMO"),
    ("TM01", "team_manager", "DEMO"),
    ("SM01", "service_manager", "DEMO"),
    ("QA01", "qa_auditor", "DEMO"),
    ("SW001", "practitioner", "DEMO-SHR"),
)


def _mint(
    tokens: Any, staff: str, role: str, authority: str, seconds: int, grants: tuple[str, ...]
) -> str:
    from domain.vocabulary import Role
    from graphql_api.auth import development_keys, mint

    private_key, _ = development_keys(tokens.jwks_file.parent)
    return mint(
        tokens,
        private_key,
        staff_id=staff,
        role=Role(role),
        authority=authority,
        lifetime_seconds=seconds,
        grants=grants,
    )


@click.group()
def token() -> None:
    """Bearer tokens for development and the demo (OVERSIGHT_ENV=development only)."""


@token.command("mint")
@click.option("--staff-id", required=True)
@click.option(
    "--role",
    required=True,
    type=LazyChoice(_access_roles),
)
@click.option("--authority", default="DEMO", show_default=True)
@click.option(
    "--hours",
    default=1,
    show_default=True,
    type=click.IntRange(1, 24),
    help="At most OVERSIGHT_JWT_MAX_LIFETIME_SECONDS (1 hour unless set).",
)
@click.option("--grant", "grants", multiple=True, help="worker:SW001 or child:C0001.")
def token_mint(
    staff_id: str, role: str, authority: str, hours: int, grants: tuple[str, ...]
) -> None:
    """Print a signed token. Refused unless OVERSIGHT_ENV=development."""
    from graphql_api.auth import TokenSettings

    try:
        tokens = TokenSettings.from_env()
        if tokens.environment != "development":
            raise click.ClickException(
                "token minting is for development only: set OVERSIGHT_ENV=development"
            )
        worker_id(authority, staff_id)
        click.echo(_mint(tokens, staff_id, role, authority, hours * 3600, grants))
    except (ValueError, DomainError) as error:
        raise Failure(str(error)) from None


@click.group("graphql")
def graphql() -> None:
    """The GraphQL schema."""


@graphql.command("sdl")
@click.option(
    "--write",
    "path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write it to this file (the repository keeps it as schema.graphql).",
)
def graphql_sdl(path: Path | None) -> None:
    """Print the schema in SDL, as served (every type and field described)."""
    from graphql_api.schema import build_schema

    text = build_schema().as_str() + "\n"
    if path is None:
        click.echo(text, nl=False)
    else:
        path.write_text(text, encoding="utf-8")
        click.echo(f"schema written to {path}")


@graphql.command("trust")
@click.argument(
    "documents",
    nargs=-1,
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.option(
    "--write",
    "path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the manifest here (for OVERSIGHT_GRAPHQL_TRUSTED_DOCUMENTS); else print it.",
)
def graphql_trust(documents: tuple[Path, ...], path: Path | None) -> None:
    """Make a trusted-documents manifest (sha256 -> document) from .graphql files, one
    operation each, every one checked against the schema first (ADR 0017)."""
    import json

    from graphql import parse, validate
    from graphql.error import GraphQLError

    from graphql_api.limits import document_hash
    from graphql_api.schema import build_schema

    schema = build_schema()._schema
    manifest: dict[str, str] = {}
    for document in documents:
        text = document.read_text(encoding="utf-8")
        try:
            problems = [e.message for e in validate(schema, parse(text))]
        except GraphQLError as error:
            problems = [error.message]
        if problems:
            raise click.ClickException(f"{document}: {problems[0]}")
        manifest[document_hash(text)] = text
    output = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    if path is None:
        click.echo(output, nl=False)
    else:
        path.write_text(output, encoding="utf-8")
        click.echo(f"{len(manifest)} trusted documents written to {path}", err=True)

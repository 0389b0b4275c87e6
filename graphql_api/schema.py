"""The GraphQL schema, assembled: a thin adapter over ``graphql_api.service`` (ADR 0011).

The parts live by role: ``types`` (object types, enums, unions, connections, by area),
``queries`` (the Query root), ``mutations`` (one mutation per domain command, generated),
``subscriptions`` and ``errors`` (how every error leaves the API); ``context`` holds what
their resolvers share. Conventions: camelCase fields; ``asOf`` is valid time and
``knownAt`` system time wherever they apply; ISO 8601 ``Date`` and ``DateTime``; global
``ID``s for nodes; keyset connections with opaque cursors for lists that grow; a
description on every type and field; mutations return the ``CommandResult`` union.
Resolvers run the synchronous service in a worker thread.

What other modules and the tests import from here is re-exported on purpose (``__all__``).
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import Any

import strawberry
from strawberry.schema.types.base_scalars import DateDefinition, DateTimeDefinition

from graphql_api.context import Context, Info, global_id, parse_global_id
from graphql_api.errors import OversightSchema
from graphql_api.mutations import Mutation
from graphql_api.queries import Query
from graphql_api.subscriptions import POLL_SECONDS, Subscription
from graphql_api.types import ENTRY_TYPES, EVENT_TYPES, Child, PageInfo, Worker

__all__ = [
    "POLL_SECONDS",
    "Context",
    "Info",
    "Mutation",
    "PageInfo",
    "Query",
    "Subscription",
    "build_schema",
    "global_id",
    "parse_global_id",
]


#: The day and instant scalars, as strawberry defines them, described for this domain.
SCALARS: dict[object, Any] = {
    date: dataclasses.replace(
        DateDefinition,
        description="A day, ISO 8601 (2026-03-31): a local day in England, as policies "
        "count deadlines (valid time for asOf).",
    ),
    datetime: dataclasses.replace(
        DateTimeDefinition,
        description="An instant, ISO 8601 with its UTC offset (2026-03-31T12:00:00+01:00); "
        "asOf, knownAt and occurredAt without an offset are refused, naming the field.",
    ),
}


def build_schema(extensions: list[Any] | None = None) -> strawberry.Schema:
    """The schema, with the app's extensions (limits, logging) when it serves requests."""
    return OversightSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        # Reached only through an interface (Node, Event, Entry): named so that they are
        # in the schema, every catalogue event and every entry kind with its own type.
        types=[Child, Worker, *EVENT_TYPES.values(), *ENTRY_TYPES.values()],
        extensions=extensions or [],
        scalar_overrides=SCALARS,
    )

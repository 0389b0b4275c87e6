"""What every resolver shares: the request's context, the arguments described once, and
how the adapter reads page sizes and instants (cursors and global ids are
``graphql_api.relay``'s, re-exported here for the modules that read them from here).

Conventions: ``asOf`` is valid time and ``knownAt`` system time wherever they apply; ISO
8601 ``Date`` and ``DateTime``; global ``ID``s for nodes; Relay connections
(``first``/``after``/``last``/``before``) with opaque cursors bound to their list and its
arguments (ADR 0029).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

import strawberry
from strawberry.dataloader import DataLoader

from domain.authorization import Principal
from graphql_api.errors import INPUT, client_error
from graphql_api.limits import DEFAULT_PAGE, MAX_PAGE
from graphql_api.relay import Cursors, PageArgs, global_id, parse_global_id
from graphql_api.service import Service
from projections import compliance as compliance_model

# -- arguments, described once -----------------------------------------------------------------

AsOfTime = Annotated[
    datetime | None,
    strawberry.argument(description="Valid time: what had happened in the world by then."),
]
AsOfDay = Annotated[
    date, strawberry.argument(description="Valid day: findings as they stood that day.")
]
KnownAt = Annotated[
    datetime | None,
    strawberry.argument(description="System time: only what had been recorded by then."),
]
First = Annotated[
    int | None,
    strawberry.argument(
        description=f"Page forwards: at most this many items (1 to {MAX_PAGE}; "
        f"{DEFAULT_PAGE} when neither first nor last is given), from the start or after "
        "`after`."
    ),
]
After = Annotated[
    str | None,
    strawberry.argument(
        description="Start after this cursor (a page's endCursor, or a subscription "
        "payload's cursor) of this list asked with the same arguments; any other cursor "
        "is refused."
    ),
]
Last = Annotated[
    int | None,
    strawberry.argument(
        description=f"Page backwards: at most this many items (1 to {MAX_PAGE}) from the "
        "end or before `before`; not with first."
    ),
]
Before = Annotated[
    str | None,
    strawberry.argument(
        description="End before this cursor (a page's startCursor) of this list asked "
        "with the same arguments; any other cursor is refused."
    ),
]
Since = Annotated[
    date | None, strawberry.argument(description="Window start (default: a year before).")
]
Team = Annotated[
    str | None,
    strawberry.argument(
        description="Only the subjects of this team, as workers' records name it (a team "
        "manager may ask for their own team only)."
    ),
]
OpenOnly = Annotated[
    bool,
    strawberry.argument(
        description="Only items still open on asOf: the queue as it stood that day (false: "
        "those closed by then too)."
    ),
]
ChildId = Annotated[str, strawberry.argument(description="The child's id in the authority.")]
StaffId = Annotated[
    str,
    strawberry.argument(description="The worker's staff id in the authority (their record's key)."),
]
ConsistentWith = Annotated[
    strawberry.ID | None,
    strawberry.argument(
        description="A position a mutation returned: wait (briefly) until it is readable."
    ),
]

PURPOSE = "Why the record is read: kept on its access log [DUR-4.8]."


@dataclass
class Context:
    """Per request: the service and who is asking (None: no token was sent)."""

    service: Service
    principal: Principal | None
    #: A subscription's ``connection_init`` payload (graphql-transport-ws).
    connection_params: dict[str, Any] | None = None
    #: Per request: batches the open work of every case a list shows into one query.
    open_work: DataLoader[tuple[str, date], compliance_model.OpenWork] | None = None

    def open_work_loader(self) -> DataLoader[tuple[str, date], compliance_model.OpenWork]:
        if self.open_work is None:
            engine = self.service.engine

            async def load(
                keys: list[tuple[str, date]],
            ) -> list[compliance_model.OpenWork]:
                by_day: dict[date, list[str]] = {}
                for subject_id, day in keys:
                    by_day.setdefault(day, []).append(subject_id)
                found: dict[tuple[str, date], compliance_model.OpenWork] = {}
                for day, subjects in by_day.items():
                    batch = await asyncio.to_thread(
                        compliance_model.open_work, engine, subjects, day
                    )
                    found.update({(s, day): work for s, work in batch.items()})
                return [found[key] for key in keys]

            self.open_work = DataLoader(load_fn=load)
        return self.open_work

    def who(self) -> Principal:
        if self.principal is None:
            raise client_error("sign in: send a bearer token", "UNAUTHENTICATED")
        return self.principal


Info = strawberry.Info[Context, None]


# -- reading arguments ----------------------------------------------------------------------


def bounded(first: int) -> int:
    """A page size the API serves, or a typed refusal naming ``first``."""
    if not 1 <= first <= MAX_PAGE:
        raise client_error(f"first must be between 1 and {MAX_PAGE}", INPUT, field="first")
    return first


def instant(value: datetime | None, name: str) -> datetime | None:
    """An instant with its offset: a naive one would be read in the server's zone."""
    if value is not None and value.tzinfo is None:
        raise client_error(f"{name} needs a time zone offset (ISO 8601)", INPUT, field=name)
    return value


def page(first: int | None, after: str | None, last: int | None, before: str | None) -> PageArgs:
    """The page a connection's arguments ask for, checked (a typed refusal naming them)."""
    return PageArgs(first=first, after=after, last=last, before=before)


def cursor(kind: str, value: str) -> str:
    """An opaque cursor for a list of ``kind`` asked with no arguments of its own."""
    return Cursors(kind, {}).encode((value,))


def cursor_value(kind: str, given: str | None) -> str | None:
    """What a cursor ``cursor`` issued for a list of ``kind`` stands for."""
    key = Cursors(kind, {}).decode(given, "after")
    return None if key is None else str(key[0])


__all__ = [
    "PURPOSE",
    "After",
    "AsOfDay",
    "AsOfTime",
    "Before",
    "ChildId",
    "ConsistentWith",
    "Context",
    "First",
    "Info",
    "KnownAt",
    "Last",
    "OpenOnly",
    "Since",
    "StaffId",
    "Team",
    "bounded",
    "cursor",
    "cursor_value",
    "global_id",
    "instant",
    "page",
    "parse_global_id",
]

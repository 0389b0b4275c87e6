"""What every resolver shares: the request's context, the arguments described once, and
how the adapter reads page sizes, instants, cursors and global ids.

Conventions: ``asOf`` is valid time and ``knownAt`` system time wherever they apply; ISO
8601 ``Date`` and ``DateTime``; global ``ID``s for nodes; keyset connections with opaque
cursors for lists that grow.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

import strawberry
from strawberry.dataloader import DataLoader

from domain.authorization import Principal
from graphql_api.errors import INPUT, client_error
from graphql_api.limits import MAX_PAGE
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
First = Annotated[int, strawberry.argument(description=f"Page size, 1 to {MAX_PAGE}.")]
After = Annotated[str | None, strawberry.argument(description="The endCursor of the page before.")]
Kinds = Annotated[list[str] | None, strawberry.argument(description="Only entries of these kinds.")]
Since = Annotated[
    date | None, strawberry.argument(description="Window start (default: a year before).")
]
Team = Annotated[str | None, strawberry.argument(description="Only this team.")]
OpenOnly = Annotated[bool, strawberry.argument(description="Only items open on asOf.")]
ChildId = Annotated[str, strawberry.argument(description="The child's id in the authority.")]
StaffId = Annotated[str, strawberry.argument(description="The worker's staff id.")]
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


def cursor(kind: str, value: str) -> str:
    """An opaque cursor for a list of ``kind``."""
    return base64.urlsafe_b64encode(f"{kind}:{value}".encode()).decode().rstrip("=")


def cursor_value(kind: str, given: str | None) -> str | None:
    """What a cursor this API issued for a list of ``kind`` stands for."""
    if given is None:
        return None
    try:
        raw = base64.urlsafe_b64decode((given + "=" * (-len(given) % 4)).encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    if not raw.startswith(f"{kind}:"):
        raise client_error("not a cursor this list issued", INPUT, field="after")
    return raw[len(kind) + 1 :]


def global_id(kind: str, authority: str, local_id: str) -> strawberry.ID:
    raw = f"{kind}:{authority}:{local_id}".encode()
    return strawberry.ID(base64.urlsafe_b64encode(raw).decode().rstrip("="))


def parse_global_id(value: str) -> tuple[str, str, str]:
    try:
        padded = value + "=" * (-len(value) % 4)
        kind, authority, local_id = base64.urlsafe_b64decode(padded.encode()).decode().split(":", 2)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise client_error("not an id this API issued", INPUT, field="id") from None
    return kind, authority, local_id

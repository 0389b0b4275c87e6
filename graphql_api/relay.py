"""Relay, once for every connection and node (issue 22 item 4, ADR 0029).

- **Global ids**: opaque (base64url of kind, authority and local id), typed by kind, so
  ``node(id:)`` knows which read to make and which authority the id belongs to.
- **Cursors** are bound to their connection and its arguments: the payload names the
  connection, a digest of every argument other than the page's (filters, ``asOf``, the
  subject whose trail it is, the caller whose caseload it is) and the item's key in the
  connection's order. A cursor of another connection, or of the same one asked with other
  arguments, is ``BAD_USER_INPUT`` naming ``after`` or ``before``: paging on with it would
  silently skip or repeat items. Cursors are not signed: they carry no authority (every
  page is authorised as it is read), and they must outlive the process that issued them
  (a subscription resumes from one on another server).
- **One paging helper** (``paginate``) for ``first``/``after``/``last``/``before`` over any
  ordered ``Source`` (a SQL keyset, or a list already in memory), giving ``PageInfo``
  (``hasNextPage``, ``hasPreviousPage``, ``startCursor``, ``endCursor``) and ``totalCount``.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import hashlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

import orjson
import strawberry
from graphql import GraphQLError
from sqlalchemy import Column, ColumnElement, Engine, Select, and_, func, or_, select

from graphql_api.codes import BAD_USER_INPUT, NOT_FOUND
from graphql_api.errors import client_error
from graphql_api.limits import DEFAULT_PAGE, MAX_PAGE

if TYPE_CHECKING:
    from graphql_api.context import Info

T = TypeVar("T")
#: An item's place in its connection's order: scalars only, so it fits in a cursor.
Key = tuple[str | int, ...]


# -- the Node interface and global ids --------------------------------------------------------


@strawberry.interface(
    description="Anything the API can fetch again by its global id with node(id:) or "
    "nodes(ids:): a child's or worker's record, or an item of a list. The read is "
    "authorised (and, for a record, logged) exactly as the field that lists it."
)
class Node:
    id: strawberry.ID = strawberry.field(
        description="A global id: opaque, stable, and naming the kind, the authority and "
        "the id within it; another authority's id never resolves."
    )


def global_id(kind: str, authority: str, local_id: str) -> strawberry.ID:
    """The global id of ``local_id`` of ``kind`` in ``authority``."""
    raw = f"{kind}:{authority}:{local_id}".encode()
    return strawberry.ID(base64.urlsafe_b64encode(raw).decode().rstrip("="))


def position_in(text: str) -> int | None:
    """A log position written in a global id (ASCII digits, at most 18 of them), or None
    for anything else, so a forged id is a missing record, never a crash."""
    if 1 <= len(text) <= 18 and text.isascii() and text.isdigit():
        return int(text)
    return None


def parse_global_id(value: str, field: str = "id") -> tuple[str, str, str]:
    """The kind, authority and local id a global id names, or a typed refusal."""
    try:
        padded = value + "=" * (-len(value) % 4)
        raw = base64.urlsafe_b64decode(padded.encode()).decode()
        kind, authority, local_id = raw.split(":", 2)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise client_error("not an id this API issued", BAD_USER_INPUT, field=field) from None
    return kind, authority, local_id


#: How a kind of node is read again: (info, local id, purpose) -> the node. Each is the
#: same read, with the same authorisation and logging, as the field that lists it.
NodeReader = Callable[["Info", str, str], Awaitable[Any]]


async def read_node(
    info: Info, value: str, purpose: str, readers: Mapping[str, NodeReader], field: str = "id"
) -> Any:
    """The node a global id names, if the caller may read it. Another authority's id, or a
    kind no reader knows, answers as a missing one (never data, never a different code)."""
    kind, authority, local_id = parse_global_id(value, field)
    who = info.context.who()
    reader = readers.get(kind)
    if authority != who.authority_code or reader is None:
        raise no_such_record(field)
    return await reader(info, local_id, purpose)


def no_such_record(field: str = "id") -> GraphQLError:
    """A node that is not there, or not the caller's to see: one answer for both."""
    return client_error("no such record in this authority", NOT_FOUND, field=field)


# -- cursors -------------------------------------------------------------------------------------


def _plain(value: object) -> object:
    """An argument as the digest sees it: dates and enums by their ISO or value text."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "value") and not isinstance(value, str | int | float | bool):
        return _plain(value.value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def digest(arguments: Mapping[str, object]) -> str:
    """A short digest of a connection's arguments (not the page's): equal arguments, equal
    digest, in any order they were given."""
    canonical = orjson.dumps(
        {k: _plain(v) for k, v in arguments.items()}, option=orjson.OPT_SORT_KEYS
    )
    return hashlib.sha256(canonical).hexdigest()[:16]


@dataclass(frozen=True)
class Cursors:
    """The cursors of one connection asked with given arguments."""

    connection: str
    arguments: Mapping[str, object]

    @property
    def bound(self) -> str:
        return digest(self.arguments)

    def encode(self, key: Key) -> str:
        payload = orjson.dumps([self.connection, self.bound, list(key)])
        return base64.urlsafe_b64encode(payload).decode().rstrip("=")

    def decode(self, given: str | None, field: str) -> Key | None:
        """The key a cursor this connection issued for these arguments stands for."""
        if given is None:
            return None
        try:
            raw = base64.urlsafe_b64decode((given + "=" * (-len(given) % 4)).encode())
            connection, bound, key = orjson.loads(raw)
        except (binascii.Error, ValueError, TypeError, orjson.JSONDecodeError):
            raise client_error(
                f"{field} is not a cursor this API issued", BAD_USER_INPUT, field=field
            ) from None
        if connection != self.connection:
            raise client_error(
                f"{field} is a cursor of another list ({connection}), not of {self.connection}",
                BAD_USER_INPUT,
                field=field,
            )
        if bound != self.bound:
            raise client_error(
                f"{field} is a cursor of {self.connection} asked with other arguments "
                "(filters, asOf, subject): ask again without it",
                BAD_USER_INPUT,
                field=field,
            )
        if not (
            isinstance(key, list)
            and key
            and all(isinstance(v, str | int) and not isinstance(v, bool) for v in key)
        ):
            raise client_error(
                f"{field} is not a cursor this API issued", BAD_USER_INPUT, field=field
            )
        return tuple(key)


# -- the page asked for ------------------------------------------------------------------------


@dataclass(frozen=True)
class PageArgs:
    """``first``/``after``/``last``/``before`` as given, checked."""

    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None

    def __post_init__(self) -> None:
        if self.first is not None and self.last is not None:
            raise client_error(
                "give first (page forwards) or last (page backwards), not both",
                BAD_USER_INPUT,
                field="last",
            )
        for name, size in (("first", self.first), ("last", self.last)):
            if size is not None and not 1 <= size <= MAX_PAGE:
                raise client_error(
                    f"{name} must be between 1 and {MAX_PAGE}", BAD_USER_INPUT, field=name
                )

    @property
    def backwards(self) -> bool:
        return self.last is not None

    @property
    def size(self) -> int:
        return self.last if self.last is not None else (self.first or DEFAULT_PAGE)


# -- sources: what a connection pages over --------------------------------------------------------


class KeyMismatch(ValueError):
    """A cursor's key that is not of its list's shape (forged, or of a list since changed):
    ``paginate`` refuses it naming the argument that carried it."""


class Source(Protocol[T]):
    """A connection's items in one order, each with its key in that order."""

    def count(self) -> int: ...

    def fetch(
        self,
        lower: Key | None,
        upper: Key | None,
        limit: int,
        *,
        descending: bool = False,
        inclusive: bool = False,
    ) -> list[tuple[Key, T]]:
        """Up to ``limit`` items with keys strictly between ``lower`` and ``upper`` (a bound
        of None: open; ``inclusive``: both bounds included), nearest ``lower`` first, or
        nearest ``upper`` first when ``descending``."""
        ...


class ListSource(Generic[T]):
    """Items already in memory, put in the connection's order: their keys ascending (keys
    unique). A small list computed whole, and the reference the paging tests hold the
    SQL keysets to."""

    def __init__(self, items: Sequence[T], key: Callable[[T], Key]) -> None:
        ordered = sorted(((key(item), n) for n, item in enumerate(items)))
        self.keys = [k for k, _ in ordered]
        self.items = [items[n] for _, n in ordered]

    def count(self) -> int:
        return len(self.items)

    def fetch(
        self,
        lower: Key | None,
        upper: Key | None,
        limit: int,
        *,
        descending: bool = False,
        inclusive: bool = False,
    ) -> list[tuple[Key, T]]:
        try:
            start = 0
            if lower is not None:
                find = bisect.bisect_left if inclusive else bisect.bisect_right
                start = find(self.keys, lower)
            end = len(self.keys)
            if upper is not None:
                find = bisect.bisect_right if inclusive else bisect.bisect_left
                end = find(self.keys, upper)
        except TypeError:  # a key of another shape: not one of this list's cursors
            raise KeyMismatch(lower or upper) from None
        chosen = range(start, end)
        picked = chosen[::-1][:limit] if descending else chosen[:limit]
        return [(self.keys[i], self.items[i]) for i in picked]


def _after(columns: Sequence[ColumnElement[Any]], key: Sequence[Any], inclusive: bool) -> Any:
    """Rows whose key (the columns, compared in order) is after ``key``."""
    first, value = columns[0], key[0]
    if len(columns) == 1:
        return first >= value if inclusive else first > value
    return or_(first > value, and_(first == value, _after(columns[1:], key[1:], inclusive)))


def _before(columns: Sequence[ColumnElement[Any]], key: Sequence[Any], inclusive: bool) -> Any:
    first, value = columns[0], key[0]
    if len(columns) == 1:
        return first <= value if inclusive else first < value
    return or_(first < value, and_(first == value, _before(columns[1:], key[1:], inclusive)))


def _python_type(column: ColumnElement[Any]) -> type:
    """What a key column's values are in Python (``object`` when the type will not say)."""
    try:
        found: type = column.type.python_type
    except NotImplementedError:
        return object
    return found


class SqlSource:
    """A keyset over a query: its rows ordered by ``key_columns`` (unique together), paged
    in the database, so a page costs the same however long the list."""

    def __init__(
        self,
        engine: Engine,
        query: Select[Any],
        key_columns: Sequence[Column[Any] | ColumnElement[Any]],
        key: Callable[[Any], Key],
        bind: Callable[[Key], Sequence[Any]] | None = None,
    ) -> None:
        self.engine = engine
        self.query = query
        self.key_columns = list(key_columns)
        self.key = key
        #: A cursor's key as the columns' values (an instant from its ISO text, say).
        self.bind = bind

    def count(self) -> int:
        counted = select(func.count()).select_from(self.query.order_by(None).subquery())
        with self.engine.connect() as conn:
            return int(conn.execute(counted).scalar_one())

    def fetch(
        self,
        lower: Key | None,
        upper: Key | None,
        limit: int,
        *,
        descending: bool = False,
        inclusive: bool = False,
    ) -> list[tuple[Key, Any]]:
        low, high = self._values(lower), self._values(upper)
        query = self.query
        if low is not None:
            query = query.where(_after(self.key_columns, low, inclusive))
        if high is not None:
            query = query.where(_before(self.key_columns, high, inclusive))
        order = [c.desc() if descending else c.asc() for c in self.key_columns]
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(None).order_by(*order).limit(limit)).all()
        return [(self.key(r), r) for r in rows]

    def _values(self, key: Key | None) -> Sequence[Any] | None:
        if key is None:
            return None
        try:
            if len(key) != len(self.key_columns):
                raise ValueError(key)
            values = self.bind(key) if self.bind is not None else key
            for column, value in zip(self.key_columns, values, strict=True):
                if not isinstance(value, _python_type(column)):
                    raise ValueError(value)
                if isinstance(value, int) and not -(2**63) <= value < 2**63:
                    raise ValueError(value)  # no column holds it: a forged key
            return values
        except (ValueError, TypeError):
            raise KeyMismatch(key) from None


# -- one page ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Paged(Generic[T]):
    """One page: its items with their cursors, and where it sits in the whole list."""

    items: list[tuple[str, T]]
    has_next_page: bool
    has_previous_page: bool
    total_count: int

    @property
    def start_cursor(self) -> str | None:
        return self.items[0][0] if self.items else None

    @property
    def end_cursor(self) -> str | None:
        return self.items[-1][0] if self.items else None


def paginate(source: Source[T], page: PageArgs, cursors: Cursors) -> Paged[T]:
    """The page of ``source`` that ``first``/``after``/``last``/``before`` ask for (Relay's
    cursor connections specification). ``hasPreviousPage`` and ``hasNextPage`` say whether
    the whole list has items before the page's first and after its last, whichever way it
    is paged; an empty page has them before ``after`` (inclusive) and from ``before`` on."""
    after = cursors.decode(page.after, "after")
    before = cursors.decode(page.before, "before")
    size = page.size
    try:
        rows = source.fetch(after, before, size, descending=page.backwards)
    except KeyMismatch:
        field = "after" if after is not None else "before"
        raise client_error(
            f"{field} is not a cursor this list issued", BAD_USER_INPUT, field=field
        ) from None
    if page.backwards:
        rows.reverse()
    if rows:
        has_previous = bool(source.fetch(None, rows[0][0], 1, descending=True))
        has_next = bool(source.fetch(rows[-1][0], None, 1))
    else:
        has_previous = after is not None and bool(
            source.fetch(None, after, 1, descending=True, inclusive=True)
        )
        has_next = before is not None and bool(source.fetch(before, None, 1, inclusive=True))
    return Paged(
        items=[(cursors.encode(key), item) for key, item in rows],
        has_next_page=has_next,
        has_previous_page=has_previous,
        total_count=source.count(),
    )

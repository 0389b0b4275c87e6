"""Bounded work per request (issue 23, ADR 0017): the limits, and what is checked before
GraphQL sees a request.

Everything a client sends is held to a limit before it costs us more than reading it:

- the body (here): its size (``max_body_bytes``, counted as it arrives in ``app.py``),
  JSON that is an object, nested at most ``max_json_depth`` deep; variables at most
  ``max_variables_depth`` deep; a rate per principal; persisted and trusted documents;
- the document (``gate.py``, ``measure.py``): at most ``max_tokens`` tokens, then its
  depth, introspection depth, aliases, directives, pairwise merge checks and **cost**,
  measured once per fragment; the cost against the caller's role's budget
  (``COST_BUDGETS``): one a field, a page (``first``/``last``) multiplying its
  selections, an unpaged list counting ``UNPAGED_LIST_SIZE``;
- arguments and dates (``arguments.py``): within ``ARGUMENT_BOUNDS`` and
  ``SUPPORTED_DATES``, named by the argument (or variable) that carries them.

A refusal is a typed error: ``extensions.code`` ``LIMITED`` with ``extensions.limit``
naming which limit, or ``BAD_USER_INPUT`` naming the field.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from threading import Lock
from typing import Any

import orjson
from graphql import (
    GraphQLError,
)

from domain.vocabulary import Role
from graphql_api.codes import BAD_USER_INPUT as BAD_USER_INPUT  # re-exported: its old home
from graphql_api.codes import LIMITED as LIMITED
from graphql_api.codes import OVER_HTTP, typed

#: The largest page a connection serves (``first``/``last``): a larger one is refused
#: by the resolver, so the cost counts at most this.
MAX_PAGE = 200
#: A list field that takes no page size counts as this many items.
UNPAGED_LIST_SIZE = 100
#: The page size assumed for ``first``/``last`` given by a variable that is absent.
DEFAULT_PAGE = 50
#: What a mutation field costs beside its selections: a write (one transaction).
MUTATION_COST = 10

#: Query cost budgets per role (docs/security.md gives the figures and how to read them).
#: Without a token only introspection answers; the standard introspection query costs 220.
COST_BUDGETS: Mapping[Role | None, int] = {
    None: 1_000,
    Role.PRACTITIONER: 5_000,
    Role.TEAM_MANAGER: 20_000,
    Role.SERVICE_MANAGER: 20_000,
    Role.HEAD_OF_SERVICE: 20_000,
    Role.QA_AUDITOR: 20_000,
    Role.INSPECTOR: 20_000,
    Role.INVESTIGATING_OFFICER: 5_000,
    Role.HR: 5_000,
    Role.DATA_PROTECTION_OFFICER: 20_000,
    Role.ADMINISTRATOR: 5_000,
}

#: The dates the API takes, in arguments and variables alike. Wide enough for a child's
#: date of birth and for the latest retention date any pack sets (100 years after an
#: adoption order [AAR-42]); beyond it the calendar's arithmetic is not defined for us.
SUPPORTED_DATES = (date(1900, 1, 1), date(2199, 12, 31))
DATE_SCALARS = frozenset({"Date", "DateTime"})


@dataclass(frozen=True)
class Limits:
    """What one request may ask of the server. The defaults are production's."""

    max_body_bytes: int = 1_000_000
    max_json_depth: int = 32
    max_variables_depth: int = 8
    max_depth: int = 12
    max_introspection_depth: int = 16
    max_aliases: int = 20
    max_directives: int = 50
    #: An upper bound of the comparisons that check fields of one response name can be
    #: merged: quadratic in the repeats (800 copies of ``viewer { staffId }`` took 1.3 s).
    max_overlap: int = 50_000
    max_tokens: int = 5_000
    validation_seconds: float = 2.0
    cost_budgets: Mapping[Role | None, int] = field(default_factory=lambda: COST_BUDGETS)
    #: Requests a second per principal (or, without a token, per client address), and
    #: the burst allowed above it; ``None`` turns the rate limit off.
    rate_per_second: float | None = None
    rate_burst: int = 100
    introspection: bool = True
    ide: bool = True
    #: Trusted documents: the only documents executed (sha256 of the text -> text), as
    #: written by graphql-codegen's persisted documents; ``None`` accepts any document.
    trusted_documents: Mapping[str, str] | None = None
    #: Automatic persisted queries (Apollo's protocol): a client may send a document's
    #: hash alone once it has sent the document with it. Development only by default.
    automatic_persisted_queries: bool = False


class RequestRefused(Exception):
    """A request refused before any GraphQL work: answered as a typed JSON error."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: Mapping[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})
        self.extensions = extensions


def limited(message: str, limit: str, **extensions: Any) -> GraphQLError:
    return GraphQLError(
        message,
        extensions=typed(LIMITED, limit=limit, **extensions),
    )


# -- the body ------------------------------------------------------------------------------


def load_body(data: str | bytes, limits: Limits) -> object:
    """The request body as JSON: an object (or a batch's array), nested within bounds.
    orjson refuses what ``json`` would turn into a crash or a surprise: infinite numbers
    (``1e999999``), ``NaN``, and nesting past 1,024 levels (``json`` recurses until the
    interpreter's stack gives out)."""
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        if "depth" in str(error) or "recursion" in str(error):
            raise RequestRefused(
                400,
                LIMITED,
                f"the request body nests deeper than {limits.max_json_depth} levels",
                limit="jsonDepth",
            ) from None
        raise RequestRefused(
            400, BAD_USER_INPUT, "the request body is not JSON (RFC 8259)", rule=OVER_HTTP
        ) from None
    if not isinstance(value, dict | list):
        raise RequestRefused(
            400, BAD_USER_INPUT, "the request body must be a JSON object", rule=OVER_HTTP
        )
    if depth_of(value, limits.max_json_depth) > limits.max_json_depth:
        raise RequestRefused(
            400,
            LIMITED,
            f"the request body nests deeper than {limits.max_json_depth} levels",
            limit="jsonDepth",
        )
    return value


def depth_of(value: object, ceiling: int) -> int:
    """How deeply ``value`` nests lists and objects (a scalar is 0), looking no further
    than ``ceiling + 1`` levels: iterative, so no input can exhaust the stack."""
    deepest = 0
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        level += 1
        deepest = max(deepest, level)
        if level > ceiling:
            return level
        stack.extend((child, level) for child in children)
    return deepest


# -- trusted documents and automatic persisted queries ---------------------------------------


def document_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class PersistedDocuments:
    """Resolves ``extensions.persistedQuery.sha256Hash`` to a document, and in trusted
    mode refuses any document not in the allow-list."""

    def __init__(self, limits: Limits, capacity: int = 10_000) -> None:
        self.trusted = dict(limits.trusted_documents) if limits.trusted_documents else None
        self.automatic = limits.automatic_persisted_queries
        self.capacity = capacity
        self._known: OrderedDict[str, str] = OrderedDict()
        self._lock = Lock()

    def resolve(self, query: str | None, extensions: Mapping[str, Any] | None) -> str | None:
        persisted = (extensions or {}).get("persistedQuery")
        if persisted is None:
            trusted = self.trusted
            if query is not None and trusted is not None and document_hash(query) not in trusted:
                raise RequestRefused(
                    400,
                    "FORBIDDEN",
                    "this server runs trusted documents only",
                    rule="TRUSTED-DOCUMENTS",
                )
            return query
        if not isinstance(persisted, dict):
            raise RequestRefused(
                400,
                BAD_USER_INPUT,
                "extensions.persistedQuery must be an object",
                field="extensions.persistedQuery",
            )
        wanted = persisted.get("sha256Hash")
        if not (
            isinstance(wanted, str)
            and len(wanted) == 64
            and all(c in "0123456789abcdef" for c in wanted)
        ):
            raise RequestRefused(
                400,
                BAD_USER_INPUT,
                "sha256Hash must be 64 lower-case hexadecimal digits",
                field="extensions.persistedQuery.sha256Hash",
            )
        if self.trusted is None and not self.automatic:
            raise RequestRefused(
                400, "PERSISTED_QUERY_NOT_SUPPORTED", "persisted queries are not enabled"
            )
        if query is not None:
            if document_hash(query) != wanted:
                raise RequestRefused(
                    400,
                    BAD_USER_INPUT,
                    "the document's sha256 is not sha256Hash",
                    field="extensions.persistedQuery.sha256Hash",
                )
            if self.trusted is not None:
                if wanted not in self.trusted:
                    raise RequestRefused(
                        400,
                        "FORBIDDEN",
                        "this server runs trusted documents only",
                        rule="TRUSTED-DOCUMENTS",
                    )
                return query
            with self._lock:
                self._known[wanted] = query
                self._known.move_to_end(wanted)
                while len(self._known) > self.capacity:
                    self._known.popitem(last=False)
            return query
        found = self.trusted.get(wanted) if self.trusted is not None else None
        if found is None:
            with self._lock:
                found = self._known.get(wanted)
        if found is None:
            raise RequestRefused(
                400, "PERSISTED_QUERY_NOT_FOUND", "no document is known by this sha256Hash"
            )
        return found


# -- the rate ---------------------------------------------------------------------------------


class RateLimiter:
    """A token bucket per key (a principal, or a client address without a token).
    In-process: each API process counts its own (docs/security.md)."""

    def __init__(self, per_second: float, burst: int, max_keys: int = 100_000) -> None:
        self.per_second = per_second
        self.burst = burst
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = Lock()

    def take(self, key: str, now: float | None = None) -> float:
        """0 when a request may go ahead, else the seconds until it may."""
        moment = time.monotonic() if now is None else now
        with self._lock:
            tokens, since = self._buckets.pop(key, (float(self.burst), moment))
            tokens = min(float(self.burst), tokens + (moment - since) * self.per_second)
            wait = 0.0
            if tokens >= 1:
                tokens -= 1
            else:
                wait = (1 - tokens) / self.per_second
            self._buckets[key] = (tokens, moment)
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
            return wait


def variables_too_deep(variables: object, limits: Limits) -> bool:
    return depth_of(variables, limits.max_variables_depth) > limits.max_variables_depth


def document_text_for_log(query: str | None) -> str:
    """What a log line says of a document: its sha256, never its text."""
    return document_hash(query)[:16] if query else "-"

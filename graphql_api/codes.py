"""The error codes a client can see: one documented set (docs/api-errors.md, ADR 0027).

Every error the API sends, from the transport, the document's checks, a token, a limit
or a resolver, carries ``extensions.code`` from ``CODES`` and the
``extensions.classification`` that code has: ``BAD_REQUEST`` for what the caller's
request was refused for (graphql-java's and Apollo's label, which generic clients and
tools such as schemathesis read as "the caller's, not the server's"), except
``UNAUTHORIZED`` for a missing or bad token (sign in, do not change the request),
``INTERNAL_ERROR`` for a fault of ours and ``UNAVAILABLE`` for what a retry later fixes.
Its own module because the app, the limits and the errors all need it and none of them
should import another for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

#: Input the caller must change: a value, a variable, an argument, the document, the body.
BAD_USER_INPUT = "BAD_USER_INPUT"
#: No token, or one that does not verify (HTTP 401).
UNAUTHENTICATED = "UNAUTHENTICATED"
#: The caller is known and may not do this; the access rule is cited where there is one.
FORBIDDEN = "FORBIDDEN"
#: Not there, or not visible to the caller (the two are not told apart).
NOT_FOUND = "NOT_FOUND"
#: The record asked for was destroyed under its retention rule (ADR 0012): not found.
PURGED = "PURGED"

#: Another write got there first, or the idempotency key was used for another input.
CONFLICT = "CONFLICT"
#: Over a limit: size, depth, aliases, cost, rate (``extensions.limit`` says which).
LIMITED = "LIMITED"
#: A fault of ours: masked, with ``extensions.correlationId`` (also in the log line).
INTERNAL = "INTERNAL"

#: Retryable, the service's state and not the request: the store cannot serve it now.
UNAVAILABLE = "UNAVAILABLE"
READ_ONLY = "READ_ONLY"
STORAGE_FULL = "STORAGE_FULL"
#: The read models are behind the position asked for (``consistentWith``).
PROJECTION_LAGGING = "PROJECTION_LAGGING"
#: A purge that stopped before it finished (ADR 0018): run it again.
PURGE_INCOMPLETE = "PURGE_INCOMPLETE"
COMPACTION_INCOMPLETE = "COMPACTION_INCOMPLETE"
PURGE_LEDGER_MISSING = "PURGE_LEDGER_MISSING"

#: Apollo's automatic persisted queries: the codes its clients act on (send the document).
PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
PERSISTED_QUERY_NOT_SUPPORTED = "PERSISTED_QUERY_NOT_SUPPORTED"

#: ``extensions.rule`` of a request that is not a GraphQL request at all (not JSON, no
#: query, a method the endpoint does not take): GraphQL over HTTP's.
OVER_HTTP = "GraphQLOverHttp"

#: Every code, with its classification.
CLASSIFICATIONS: Mapping[str, str] = MappingProxyType(
    {
        BAD_USER_INPUT: "BAD_REQUEST",
        UNAUTHENTICATED: "UNAUTHORIZED",
        FORBIDDEN: "BAD_REQUEST",
        NOT_FOUND: "BAD_REQUEST",
        PURGED: "BAD_REQUEST",
        CONFLICT: "BAD_REQUEST",
        LIMITED: "BAD_REQUEST",
        INTERNAL: "INTERNAL_ERROR",
        UNAVAILABLE: "UNAVAILABLE",
        READ_ONLY: "UNAVAILABLE",
        STORAGE_FULL: "UNAVAILABLE",
        PROJECTION_LAGGING: "UNAVAILABLE",
        PURGE_INCOMPLETE: "UNAVAILABLE",
        COMPACTION_INCOMPLETE: "UNAVAILABLE",
        PURGE_LEDGER_MISSING: "INTERNAL_ERROR",
        PERSISTED_QUERY_NOT_FOUND: "BAD_REQUEST",
        PERSISTED_QUERY_NOT_SUPPORTED: "BAD_REQUEST",
    }
)
CODES = frozenset(CLASSIFICATIONS)

#: The domain's codes as the API names them (ADR 0017, ADR 0027).
DOMAIN_CODES: Mapping[str, str] = MappingProxyType(
    {
        "VALIDATION": BAD_USER_INPUT,
        "RULE_VIOLATION": BAD_USER_INPUT,
        "ALREADY_EXISTS": CONFLICT,
        "IDEMPOTENCY_KEY_REUSED": CONFLICT,
        "POLICY_PACK": BAD_USER_INPUT,
    }
)


def classification(code: str) -> str:
    """The classification of ``code`` (a code outside the set is a fault of ours)."""
    return CLASSIFICATIONS.get(code, "INTERNAL_ERROR")


def typed(code: str, **extensions: object) -> dict[str, object]:
    """An error's extensions: its code and classification first, then the rest."""
    return {"code": code, "classification": classification(code), **extensions}

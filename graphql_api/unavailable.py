"""Storage that cannot serve a request: the database down, unreachable or starting up,
read-only, or full (issue 8). Each is a typed error with a retry hint, and the
response is HTTP 503 with ``Retry-After``: the client's request was fine, and the same
request (with the same idempotency key, for a mutation) will do once storage is back.
Nothing was written: every command is one transaction."""

from __future__ import annotations

import logging
import sqlite3
from typing import NoReturn

import psycopg
import psycopg_pool
from eventsourcing.persistence import InterfaceError as StoreInterfaceError
from eventsourcing.persistence import OperationalError as StoreOperationalError
from graphql import GraphQLError
from psycopg import errors as pg
from sqlalchemy import exc as sa

log = logging.getLogger(__name__)

#: Codes that make the response a 503.
CODES = frozenset({"UNAVAILABLE", "READ_ONLY", "STORAGE_FULL"})
RETRY_AFTER_SECONDS = 5

_MESSAGES = {
    "UNAVAILABLE": "the database is unavailable; retry shortly",
    "READ_ONLY": "the database is read-only at the moment; nothing was written",
    "STORAGE_FULL": "the database's storage is full; nothing was written",
}


def _causes(error: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and len(chain) < 8 and current not in chain:
        chain.append(current)
        if isinstance(current, sa.DBAPIError) and isinstance(current.orig, BaseException):
            chain.append(current.orig)
        current = current.__cause__ or current.__context__
    return chain


def _code(error: BaseException) -> str | None:
    if isinstance(error, sqlite3.OperationalError):
        text = str(error).lower()
        if "readonly" in text or "read-only" in text:
            return "READ_ONLY"
        if "full" in text:
            return "STORAGE_FULL"
        if "unable to open" in text or "locked" in text or "disk i/o" in text:
            return "UNAVAILABLE"
        return None
    if isinstance(error, pg.ReadOnlySqlTransaction):
        return "READ_ONLY"
    if isinstance(error, pg.DiskFull):
        return "STORAGE_FULL"
    if isinstance(
        error,
        psycopg.OperationalError
        | psycopg.InterfaceError
        | psycopg_pool.PoolTimeout
        | StoreOperationalError
        | StoreInterfaceError
        | sa.OperationalError
        | sa.InterfaceError,
    ):
        return "UNAVAILABLE"
    if isinstance(error, sa.DBAPIError) and error.connection_invalidated:
        return "UNAVAILABLE"
    return None


def storage_problem(error: BaseException) -> GraphQLError | None:
    """The typed error for a storage failure anywhere in ``error``'s causes, else None."""
    codes = [code for cause in _causes(error) if (code := _code(cause)) is not None]
    if not codes:
        return None
    # The most specific: read-only or full says more than "unavailable".
    code = next((c for c in codes if c != "UNAVAILABLE"), codes[0])
    return GraphQLError(
        _MESSAGES[code],
        extensions={"code": code, "retryable": True, "retryAfterSeconds": RETRY_AFTER_SECONDS},
    )


def reraise(error: Exception, instead: Exception | None = None) -> NoReturn:
    """In a resolver's ``except``: raise the typed storage error for ``error``, or, when
    it is not a storage failure, ``instead`` (its typed error) or else ``error`` itself
    (masked as unexpected)."""
    problem = storage_problem(error)
    if problem is None:
        if instead is not None:
            raise instead from None
        raise error
    log.warning("storage unavailable: %s", error)
    raise problem from None

"""The library's SQLite and PostgreSQL application recorders, plus command receipts.

A command's receipt is inserted in the same transaction as its events (through the
library's ``_insert_events`` hook, the one it uses for tracking records), so a command is
either wholly recorded with its receipt or not at all. The receipt's primary key is
(authority_code, command_id): a second insert of the same key fails the whole
transaction, which is what makes a retried command write nothing twice (ADR 0002).

Every event is written hash-chained on its aggregate, with its salt and commitment, on
every path (one command, a purge, a batch): ``oversight.integrity``, ADR 0019.
"""

from __future__ import annotations

import json
import select
import sqlite3
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import (
    IntegrityError,
    InterfaceError,
    Notification,
    OperationalError,
    StoredEvent,
)
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteDatastore
from eventsourcing.utils import retry
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier, Literal
from psycopg_pool import ConnectionPool
from psycopg_pool.base import AttemptWithBackoff

from application.receipts import CommandReceipt, StaleRead
from application.relationships import COLUMNS as RELATIONSHIP_COLUMNS
from application.relationships import TABLE as RELATIONSHIPS_TABLE
from application.relationships import Relationship, from_values, updated_rows
from domain.subject import Tombstone
from oversight.integrity import Seal, commitment, new_salt, redaction_digest, seal

RECEIPTS_TABLE = "command_receipts"
#: The library names the PostgreSQL events table (and its NOTIFY channel) after the
#: application: ``OversightApplication.name`` + ``_events``.
POSTGRES_EVENTS_TABLE = "oversight_events"


def _receipt_row(receipt: CommandReceipt) -> tuple[Any, ...]:
    return (
        receipt.authority_code,
        receipt.command_id,
        receipt.command_name,
        receipt.fingerprint,
        receipt.last_originator_id.hex if receipt.last_originator_id else None,
        receipt.last_originator_version,
        _id_list(receipt.aggregate_ids),
    )


def _id_list(ids: Sequence[UUID]) -> str:
    """``json.dumps([i.hex for i in ids])``, the same text (a hex string needs no
    escaping) without the encoder's set-up: a fifth of a receipt's row (session 10)."""
    return '["' + '", "'.join([i.hex for i in ids]) + '"]' if ids else "[]"


def _receipt_from_row(row: Sequence[Any]) -> CommandReceipt:
    authority, command_id, name, fingerprint, last_id, last_version, aggregate_ids = row
    return CommandReceipt(
        authority_code=authority,
        command_id=command_id,
        command_name=name,
        fingerprint=fingerprint,
        last_originator_id=UUID(str(last_id)) if last_id else None,
        last_originator_version=last_version,
        aggregate_ids=tuple(UUID(a) for a in json.loads(aggregate_ids)),
    )


_COLUMNS = (
    "authority_code, command_id, command_name, fingerprint, "
    "last_originator_id, last_originator_version, aggregate_ids"
)

#: Events that change relationships, by subject (``application.relationships``): passed
#: to the recorders as ``relationships=`` and written with the events they come from.
Changes = dict[UUID, list[Any]]

_RELATIONSHIP_SELECT = f"SELECT {', '.join(RELATIONSHIP_COLUMNS)} FROM {RELATIONSHIPS_TABLE}"
_RELATIONSHIP_UPDATE = ", ".join(
    f"{c} = excluded.{c}" for c in RELATIONSHIP_COLUMNS if c != "subject_id"
)


def _sqlite_write_relationships(c: SQLiteCursor, changes: Changes) -> None:
    """Fold ``changes`` into the rows they change, read and written in the caller's
    transaction (which holds the write lock): the relationship table reads its own
    writes (ADR 0020, addendum)."""
    if not changes:
        return
    ids = [str(i) for i in changes]
    previous: dict[str, Relationship] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        c.execute(
            f"{_RELATIONSHIP_SELECT} WHERE subject_id IN ({', '.join('?' * len(chunk))})", chunk
        )
        for values in c.fetchall():
            row = from_values(tuple(values))
            previous[row.subject_id] = row
    rows = [r.values() for r in updated_rows(changes, previous)]
    if rows:
        c.executemany(
            f"INSERT INTO {RELATIONSHIPS_TABLE} ({', '.join(RELATIONSHIP_COLUMNS)}) "
            f"VALUES ({', '.join('?' * len(RELATIONSHIP_COLUMNS))}) "
            f"ON CONFLICT (subject_id) DO UPDATE SET {_RELATIONSHIP_UPDATE}",
            rows,
        )


class SQLiteOversightRecorder(SQLiteApplicationRecorder):
    """The library's SQLite recorder, writing command receipts atomically with events."""

    def __init__(
        self, datastore: SQLiteDatastore, events_table_name: str = "stored_events"
    ) -> None:
        super().__init__(datastore, events_table_name)
        events = self.events_table_name
        self._select_chain = (
            f"SELECT chain_hash FROM {events} WHERE originator_id = ? "
            "ORDER BY originator_version DESC LIMIT 1"
        )
        self._select_head_and_chain = (
            f"SELECT (SELECT MAX(rowid) FROM {events}), ({self._select_chain})"
        )
        self._insert_chained_sql = (
            f"INSERT INTO {events} (rowid, originator_id, originator_version, topic, state, "
            "salt, commitment, chain_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        )

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            f"CREATE TABLE IF NOT EXISTS {RECEIPTS_TABLE} ("
            "authority_code TEXT NOT NULL, command_id TEXT NOT NULL, "
            "command_name TEXT NOT NULL, fingerprint TEXT NOT NULL, "
            "last_originator_id TEXT, last_originator_version INTEGER, "
            "aggregate_ids TEXT NOT NULL, "
            "recorded_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')), "
            "PRIMARY KEY (authority_code, command_id))",
        ]

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        receipt: CommandReceipt | None = kwargs.get("command_receipt")
        if receipt is not None:
            c.execute(
                f"INSERT INTO {RECEIPTS_TABLE} ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                _receipt_row(receipt),
            )
        else:
            # Take the write lock before reading what the chain continues from: a read
            # first would leave a stale snapshot another writer's commit makes unwritable.
            c.execute(f"UPDATE {self.events_table_name} SET topic = topic WHERE 0")
        tombstones: Sequence[Tombstone] = kwargs.get("tombstones", ())
        if tombstones:
            if not stored_events:
                raise IntegrityError("a purge is recorded by the event that made it")
            # Overwrite, don't leave the old bytes in free pages (ADR 0012).
            c.execute("PRAGMA secure_delete = ON")
            for originator_id, head in {(t.originator_id, t.head) for t in tombstones}:
                if self._head(c, originator_id) != head:
                    raise IntegrityError("appended to since the purge was planned")
        positions = self._insert_chained(c, stored_events, tombstones)
        # After inserting, so the write lock is held: what the command read but does
        # not change must be as it read it (ADR 0016).
        for originator_id, version in kwargs.get("read_versions", ()):
            if self._head(c, originator_id) != version:
                raise StaleRead("a record this command read has changed since")
        _sqlite_write_relationships(c, kwargs.get("relationships") or {})
        return positions

    def _insert_chained(
        self,
        c: SQLiteCursor,
        stored_events: Sequence[StoredEvent],
        tombstones: Sequence[Tombstone] = (),
    ) -> list[int]:
        """Insert events at the next positions, each chained on its aggregate's last
        (ADR 0019); a purge's tombstones lose their salt and name the purge's event.
        The caller holds the write lock."""
        if not stored_events:
            return []
        events = [
            (
                s.originator_id if type(s.originator_id) is UUID else UUID(str(s.originator_id)),
                s.originator_version,
                s.topic,
                s.state,
            )
            for s in stored_events
        ]
        # One statement for the next position and the first aggregate's last chain hash
        # (a command usually changes one aggregate): each statement costs ~10 µs here.
        aggregates = list(dict.fromkeys(e[0] for e in events))
        c.execute(self._select_head_and_chain, (aggregates[0].hex,))
        last, chain = c.fetchone()
        start = int(last or 0) + 1
        positions = list(range(start, start + len(stored_events)))
        previous: dict[UUID, bytes] = {}
        if chain is not None:
            previous[aggregates[0]] = bytes(chain)
        for originator_id in aggregates[1:]:
            c.execute(self._select_chain, (originator_id.hex,))
            row = c.fetchone()
            if row is not None and row[0] is not None:
                previous[originator_id] = bytes(row[0])
        redactions = None
        if tombstones:
            redactions = redaction_digest([(t.position, t.topic, t.state) for t in tombstones])
            for t in tombstones:
                c.execute(
                    f"UPDATE {self.events_table_name} SET topic = ?, state = ?, salt = NULL, "
                    "purged_by = ? "
                    "WHERE rowid = ? AND originator_id = ? AND originator_version = ?",
                    (
                        t.topic,
                        t.state,
                        positions[-1],
                        t.position,
                        t.originator_id.hex,
                        t.originator_version,
                    ),
                )
                if c.sqlite_cursor.rowcount != 1:
                    raise IntegrityError(f"no stored event at position {t.position} to purge")
        seals = seal(events, positions, previous, redactions)
        rows = [
            (position, e[0].hex, e[1], e[2], e[3], x.salt, x.commitment, x.chain_hash)
            for position, e, x in zip(positions, events, seals, strict=True)
        ]
        if len(rows) == 1:
            c.execute(self._insert_chained_sql, rows[0])
        else:
            c.executemany(self._insert_chained_sql, rows)
        return positions

    def _head(self, c: SQLiteCursor, originator_id: UUID) -> int | None:
        """An aggregate's last version in the store (inside the caller's transaction)."""
        c.execute(
            f"SELECT MAX(originator_version) FROM {self.events_table_name} WHERE originator_id = ?",
            (originator_id.hex,),
        )
        head = c.fetchone()[0]
        return None if head is None else int(head)

    def select_subject_notifications(self, originator_id: UUID) -> list[Notification]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT rowid, originator_id, originator_version, topic, state "
                f"FROM {self.events_table_name} WHERE originator_id = ? "
                "ORDER BY originator_version",
                (originator_id.hex,),
            )
            return [
                Notification(
                    id=int(row[0]),
                    originator_id=UUID(row[1]),
                    originator_version=int(row[2]),
                    topic=str(row[3]),
                    state=bytes(row[4]),
                )
                for row in c.fetchall()
            ]

    def select_command_receipt(self, authority_code: str, command_id: str) -> CommandReceipt | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT {_COLUMNS} FROM {RECEIPTS_TABLE} "
                "WHERE authority_code = ? AND command_id = ?",
                (authority_code, command_id),
            )
            row = c.fetchone()
        return _receipt_from_row(tuple(row)) if row else None

    def select_command_receipts(
        self, authority_code: str, command_ids: Sequence[str]
    ) -> dict[str, CommandReceipt]:
        found: dict[str, CommandReceipt] = {}
        with self.datastore.transaction(commit=False) as c:
            for start in range(0, len(command_ids), 500):
                ids = list(command_ids[start : start + 500])
                c.execute(
                    f"SELECT {_COLUMNS} FROM {RECEIPTS_TABLE} WHERE authority_code = ? "
                    f"AND command_id IN ({', '.join('?' * len(ids))})",
                    (authority_code, *ids),
                )
                for row in c.fetchall():
                    receipt = _receipt_from_row(tuple(row))
                    found[receipt.command_id] = receipt
        return found

    def insert_batch(
        self,
        stored_events: Sequence[StoredEvent],
        receipts: Sequence[CommandReceipt],
        relationships: Changes | None = None,
    ) -> int | None:
        try:
            with self.datastore.transaction(commit=True) as c:
                c.executemany(
                    f"INSERT INTO {RECEIPTS_TABLE} ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [_receipt_row(r) for r in receipts],
                )
                if not receipts:
                    c.execute(f"UPDATE {self.events_table_name} SET topic = topic WHERE 0")
                self._insert_chained(c, stored_events)
                _sqlite_write_relationships(c, relationships or {})
                c.execute(f"SELECT MAX(rowid) FROM {self.events_table_name}")
                head = c.fetchone()[0]
        except sqlite3.IntegrityError as error:
            raise IntegrityError(str(error)) from error
        return None if head is None else int(head)

    def analyze(self) -> None:
        with self.datastore.transaction(commit=True) as c:
            c.execute(f"ANALYZE {self.events_table_name}")
            c.execute(f"ANALYZE {RECEIPTS_TABLE}")

    def notification_id_of(self, originator_id: UUID, originator_version: int) -> int | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT rowid FROM {self.events_table_name} "
                "WHERE originator_id = ? AND originator_version = ?",
                (originator_id.hex, originator_version),
            )
            row = c.fetchone()
        return int(row[0]) if row else None


#: While PostgreSQL is down, the pool tries to reconnect every second or so (psycopg_pool
#: doubles the wait after each failure by default, without a ceiling: measured, a command
#: took 19.6 s to succeed after a 100 s outage). Issue 8: recover on our own, promptly.
AttemptWithBackoff.DELAY_BACKOFF = 1.0

#: How often a store call is tried before the outage is reported (the library's own
#: decorator tries 10 times, each waiting up to the pool timeout: 100 s before a client
#: heard "unavailable"). Three tries, each waiting at most POSTGRES_CONNECT_TIMEOUT for
#: a connection, ride out a restart and answer 503 within seconds when it is down.
STORE_ATTEMPTS = 3


def _store_call(method: Any) -> Any:
    return _retrying(method.__wrapped__)


def _retrying(function: Any) -> Any:
    return retry((InterfaceError, OperationalError), max_attempts=STORE_ATTEMPTS, wait=0.2)(
        function
    )


def _quick_check(conn: psycopg.Connection[Any]) -> None:
    """The pool's check of a connection before lending it, without a round trip.

    An idle connection's socket has nothing to read unless the server has written to it
    unasked, and what a server writes to an idle session is that it is going away (a
    restart, a crash, an administrator's terminate). Only then is the connection pinged
    (``check_connection``, which raises if it is dead, so the pool discards it and lends
    another). A ping on every loan was a round trip on every read and every command:
    a fifth of a command's time (issue 7, benchmark 1). A connection that died without
    a word (a network partition) fails its first statement instead; the store's retry
    (``STORE_ATTEMPTS``) then takes another.
    """
    pgconn = conn.pgconn
    if pgconn.status != psycopg.pq.ConnStatus.OK:
        raise psycopg.OperationalError("the connection is closed")
    readable, _, _ = select.select([pgconn.socket], [], [], 0)
    if readable:
        ConnectionPool.check_connection(conn)


class PostgresOversightRecorder(PostgresApplicationRecorder):
    """The library's PostgreSQL recorder, writing command receipts atomically with events."""

    select_notifications = _store_call(PostgresApplicationRecorder.select_notifications)
    max_notification_id = _store_call(PostgresApplicationRecorder.max_notification_id)

    def __init__(
        self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"
    ) -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        if datastore.pre_ping:
            # The library's pre-ping is a round trip on every loan; see _quick_check.
            datastore.pool._check = _quick_check
        schema = Identifier(self.datastore.schema)
        table = Identifier(RECEIPTS_TABLE)
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {schema}.{table} ("
                "authority_code text NOT NULL, command_id text NOT NULL, "
                "command_name text NOT NULL, fingerprint text NOT NULL, "
                "last_originator_id uuid, last_originator_version bigint, "
                "aggregate_ids text NOT NULL, "
                "recorded_at timestamptz NOT NULL DEFAULT now(), "
                "PRIMARY KEY (authority_code, command_id))"
            ).format(schema=schema, table=table)
        )
        # ON CONFLICT ... RETURNING, checked here: in the library's pipelined insert a
        # unique violation would surface only later, as "pipeline aborted" (an
        # OperationalError the library retries), not as the IntegrityError it is.
        self._insert_receipt = SQL(
            "INSERT INTO {schema}.{table} (" + _COLUMNS + ") VALUES (%s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (authority_code, command_id) DO NOTHING RETURNING command_id"
        ).format(schema=schema, table=table)
        self._select_receipt = SQL(
            "SELECT " + _COLUMNS + " FROM {schema}.{table} "
            "WHERE authority_code = %s AND command_id = %s"
        ).format(schema=schema, table=table)
        events = Identifier(self.events_table_name)
        # Migration 0007: receipt and events in one statement, one round trip.
        # Statements run on every command are plain strings: psycopg converts a string
        # once and caches it, an SQL composition on every execute.
        self._record_command = (
            "SELECT oversight_record_command(%s, %s, %s, %s, %s, %s, %s, %s::uuid[], "
            "%s::bigint[], %s::text[], %s::bytea[], %s::bytea[], %s::bytea[], %s::uuid[], "
            "%s::bigint[], %s) AS notification_id"
        )
        self._select_history = (
            "SELECT originator_id, originator_version, topic, state FROM "
            + SQL("{schema}.{events}").format(schema=schema, events=events).as_string()
            + " WHERE originator_id = %s ORDER BY originator_version ASC"
        )
        self._select_history_after = self._select_history.replace(
            " ORDER BY", " AND originator_version > %s ORDER BY"
        )
        self._record_command_relationships = (
            "SELECT oversight_record_command_relationships(%s, %s, %s, %s, %s, %s, %s, "
            "%s::uuid[], %s::bigint[], %s::text[], %s::bytea[], %s::bytea[], %s::bytea[], "
            "%s::uuid[], %s::bigint[], %s, %s::text[], %s::integer[], %s::text[], %s::text[], "
            "%s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::boolean[], "
            "%s::integer[]) AS notification_id"
        )
        self._lock_timeout = f"{self.datastore.lock_timeout}s"
        self._select_receipts = SQL(
            "SELECT " + _COLUMNS + " FROM {schema}.{table} "
            "WHERE authority_code = %s AND command_id = ANY(%s)"
        ).format(schema=schema, table=table)
        self._copy_receipts = SQL("COPY {schema}.{table} (" + _COLUMNS + ") FROM STDIN").format(
            schema=schema, table=table
        )
        self._copy_events = SQL(
            "COPY {schema}.{events} (originator_id, originator_version, topic, state, "
            "notification_id, salt, commitment, chain_hash) FROM STDIN (FORMAT BINARY)"
        ).format(schema=schema, events=events)
        self._analyze = SQL("ANALYZE {schema}.{events}, {schema}.{table}").format(
            schema=schema, events=events, table=table
        )
        self._select_max_position = SQL(
            "SELECT MAX(notification_id) AS head FROM {schema}.{events}"
        ).format(schema=schema, events=events)
        self._purge_event = SQL(
            "UPDATE {schema}.{events} SET topic = %s, state = %s, salt = NULL, purged_by = %s "
            "WHERE notification_id = %s AND originator_id = %s AND originator_version = %s "
            "RETURNING notification_id"
        ).format(schema=schema, events=events)
        self._next_positions = SQL(
            "SELECT nextval(pg_get_serial_sequence({table}, 'notification_id')) AS position "
            "FROM generate_series(1, %s)"
        ).format(table=Literal(f'"{self.datastore.schema}"."{self.events_table_name}"'))
        self._select_chain_heads = SQL(
            "SELECT a.id AS originator_id, e.chain_hash FROM unnest(%s::uuid[]) AS a (id) "
            "CROSS JOIN LATERAL (SELECT chain_hash FROM {schema}.{events} "
            "WHERE originator_id = a.id ORDER BY originator_version DESC LIMIT 1) AS e"
        ).format(schema=schema, events=events)
        self._insert_chained = SQL(
            "INSERT INTO {schema}.{events} (originator_id, originator_version, topic, state, "
            "notification_id, salt, commitment, chain_hash) "
            "SELECT * FROM unnest(%s::uuid[], %s::bigint[], %s::text[], %s::bytea[], "
            "%s::bigint[], %s::bytea[], %s::bytea[], %s::bytea[]) RETURNING notification_id"
        ).format(schema=schema, events=events)
        self._select_head = SQL(
            "SELECT MAX(originator_version) AS head FROM {schema}.{events} WHERE originator_id = %s"
        ).format(schema=schema, events=events)
        self._select_subject = SQL(
            "SELECT notification_id, originator_id, originator_version, topic, state "
            "FROM {schema}.{events} WHERE originator_id = %s ORDER BY originator_version"
        ).format(schema=schema, events=events)
        relationships = Identifier(RELATIONSHIPS_TABLE)
        self._select_relationships = (
            SQL(
                "SELECT " + ", ".join(RELATIONSHIP_COLUMNS) + " FROM {schema}.{table} "
                "WHERE subject_id = ANY(%s::text[])"
            )
            .format(schema=schema, table=relationships)
            .as_string()
        )
        self._upsert_relationships = SQL(
            "INSERT INTO {schema}.{table} (" + ", ".join(RELATIONSHIP_COLUMNS) + ") "
            "SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[], "
            "%s::text[], %s::text[], %s::text[], %s::boolean[], %s::integer[]) "
            "ON CONFLICT (subject_id) DO UPDATE SET " + _RELATIONSHIP_UPDATE
        ).format(schema=schema, table=relationships)
        self._select_notification_id = SQL(
            "SELECT notification_id FROM {schema}.{events} "
            "WHERE originator_id = %s AND originator_version = %s"
        ).format(schema=schema, events=Identifier(self.events_table_name))

    def _select_events(
        self,
        originator_id: UUID | str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Sequence[StoredEvent]:
        """A command's read (an aggregate's whole history, or what follows the version
        the aggregate cache holds) by a statement composed once; any other read by the
        library's, composed per call (issue 7, benchmark 1: composing cost as much as
        the rest of the read's Python)."""
        if lte is not None or desc or limit is not None:
            return PostgresApplicationRecorder.select_events.__wrapped__(  # type: ignore[no-any-return]
                self, originator_id, gt=gt, lte=lte, desc=desc, limit=limit
            )
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            if gt is None:
                curs.execute(self._select_history, (originator_id,), prepare=True)
            else:
                curs.execute(self._select_history_after, (originator_id, gt), prepare=True)
            return [
                StoredEvent(
                    originator_id=row["originator_id"],
                    originator_version=row["originator_version"],
                    topic=row["topic"],
                    state=bytes(row["state"]),
                )
                for row in curs.fetchall()
            ]

    select_events = _retrying(_select_events)

    def _record(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        """A command's events with its receipt: one call of ``oversight_record_command``,
        or of ``oversight_record_command_relationships`` with the relationship rows its
        events change (read first: one more round trip, for those commands only).
        Anything else (a purge's tombstones, events without a receipt) goes the library's
        way, through ``_insert_events`` below."""
        receipt: CommandReceipt | None = kwargs.get("command_receipt")
        if receipt is None or kwargs.get("tombstones"):
            return PostgresApplicationRecorder.insert_events.__wrapped__(  # type: ignore[no-any-return]
                self, stored_events, **kwargs
            )
        read: Sequence[tuple[UUID, int]] = kwargs.get("read_versions", ())
        changes: Changes = kwargs.get("relationships") or {}
        # The salt and commitment here, the chain in the function (it needs the
        # aggregate's last chain hash and the position, known under the lock).
        salts = [new_salt() for _ in stored_events]
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            statement, rows = self._record_command, ()
            if changes:
                # A command that changes a relationship: its rows go in the same one
                # statement (migration 0010), folded here from the rows read now; the
                # function checks, under the insert lock, that they are still as read.
                statement = self._record_command_relationships
                rows = self._relationship_arrays(curs, changes)
            try:
                curs.execute(
                    statement,
                    (
                        *_receipt_row(receipt),
                        [s.originator_id for s in stored_events],
                        [s.originator_version for s in stored_events],
                        [s.topic for s in stored_events],
                        [s.state for s in stored_events],
                        salts,
                        [
                            commitment(salt, s.topic, s.state)
                            for salt, s in zip(salts, stored_events, strict=True)
                        ],
                        [i for i, _ in read],
                        [v for _, v in read],
                        self._lock_timeout,
                        *rows,
                    ),
                    prepare=True,
                )
            except psycopg.errors.SerializationFailure as error:
                # Ours (the read check), not a reason to try the same write again.
                raise StaleRead(str(error)) from error
            return [int(row["notification_id"]) for row in curs.fetchall()]

    insert_events = _retrying(_record)

    def _relationship_arrays(self, curs: Cursor[DictRow], changes: Changes) -> tuple[Any, ...]:
        """The rows ``changes`` leave, as the arrays ``oversight_record_command_relationships``
        takes: each subject's id and the version its row was read at (None: no row yet),
        then the rest of each row's columns."""
        curs.execute(self._select_relationships, ([str(i) for i in changes],), prepare=True)
        previous = {
            r.subject_id: r for r in (from_values(tuple(v.values())) for v in curs.fetchall())
        }
        rows = updated_rows(changes, previous)
        read_at = [
            previous[r.subject_id].version if r.subject_id in previous else None for r in rows
        ]
        values = [r.values() for r in rows]
        columns = (
            [list(column) for column in zip(*values, strict=True)]
            if values
            else [[] for _ in RELATIONSHIP_COLUMNS]
        )
        return (columns[0], read_at, *columns[1:])

    def _insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        receipt: CommandReceipt | None = kwargs.get("command_receipt")
        if receipt is not None:
            curs.execute(self._insert_receipt, _receipt_row(receipt), prepare=True)
            if not curs.fetchall():
                raise IntegrityError(f"command id {receipt.command_id!r} was already used")
        tombstones: Sequence[Tombstone] = kwargs.get("tombstones", ())
        read: Sequence[tuple[UUID, int]] = kwargs.get("read_versions", ())
        if tombstones or read:
            # Hold the insert lock from here (the library takes it only later), so that
            # nothing can be appended between these checks and the commit.
            self._lock_table(curs)
            for originator_id, head in {(t.originator_id, t.head) for t in tombstones}:
                if self._head(curs, originator_id) != head:
                    raise IntegrityError("appended to since the purge was planned")
            for originator_id, version in read:
                if self._head(curs, originator_id) != version:
                    raise StaleRead("a record this command read has changed since")
        if tombstones and not stored_events:
            raise IntegrityError("a purge is recorded by the event that made it")
        super()._insert_events(curs, stored_events, **kwargs)
        # After the insert, under its lock: the rows before are what the last writer left.
        self._write_relationships(curs, kwargs.get("relationships") or {})

    def _write_relationships(self, curs: Cursor[DictRow], changes: Changes) -> None:
        """Fold ``changes`` into the rows they change, in the caller's transaction (the
        events table's insert lock held): the relationship table reads its own writes
        (ADR 0020, addendum). One read, one upsert."""
        if not changes:
            return
        curs.execute(self._select_relationships, ([str(i) for i in changes],))
        previous = {
            r.subject_id: r for r in (from_values(tuple(v.values())) for v in curs.fetchall())
        }
        rows = [r.values() for r in updated_rows(changes, previous)]
        if rows:
            curs.execute(
                self._upsert_relationships, [list(column) for column in zip(*rows, strict=True)]
            )

    def _insert_stored_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        """The library's insert (lock, notify, insert), with each event chained at the
        position it takes (ADR 0019); a purge's tombstones are written here, naming the
        purge's event. The library then reads the positions back from the INSERT."""
        self._lock_table(curs)
        self._notify_channel(curs)
        tombstones: Sequence[Tombstone] = kwargs.get("tombstones", ())
        positions = self._positions(curs, len(stored_events))
        redactions = None
        if tombstones:
            redactions = redaction_digest([(t.position, t.topic, t.state) for t in tombstones])
            for t in tombstones:
                curs.execute(
                    self._purge_event,
                    (
                        t.topic,
                        t.state,
                        positions[-1],
                        t.position,
                        t.originator_id,
                        t.originator_version,
                    ),
                )
                # (RETURNING, not rowcount: the library's cursor may be pipelined.)
                if len(curs.fetchall()) != 1:
                    raise IntegrityError(f"no stored event at position {t.position} to purge")
        self._insert_sealed(curs, stored_events, positions, redactions)

    def _positions(self, curs: Cursor[DictRow], count: int) -> list[int]:
        """``count`` positions, in order (the caller holds the insert lock)."""
        curs.execute(self._next_positions, (count,))
        return sorted(int(row["position"]) for row in curs.fetchall())

    def _insert_sealed(
        self,
        curs: Cursor[DictRow],
        stored_events: Sequence[StoredEvent],
        positions: Sequence[int],
        redactions: bytes | None = None,
    ) -> None:
        """INSERT … RETURNING the events, chained at ``positions``."""
        events, seals = self._sealed(curs, stored_events, positions, redactions)
        curs.execute(
            self._insert_chained,
            (
                [e[0] for e in events],
                [e[1] for e in events],
                [e[2] for e in events],
                [e[3] for e in events],
                list(positions),
                [x.salt for x in seals],
                [x.commitment for x in seals],
                [x.chain_hash for x in seals],
            ),
        )

    def _sealed(
        self,
        curs: Cursor[DictRow],
        stored_events: Sequence[StoredEvent],
        positions: Sequence[int],
        redactions: bytes | None = None,
    ) -> tuple[list[tuple[UUID, int, str, bytes]], list[Seal]]:
        """The events as rows, and their seals: each chained on its aggregate's last
        chain hash in the store (read in one statement; the caller holds the lock)."""
        events = [
            (UUID(str(s.originator_id)), s.originator_version, s.topic, bytes(s.state))
            for s in stored_events
        ]
        curs.execute(self._select_chain_heads, (list(dict.fromkeys(e[0] for e in events)),))
        previous = {
            row["originator_id"]: bytes(row["chain_hash"])
            for row in curs.fetchall()
            if row["chain_hash"] is not None
        }
        return events, seal(events, positions, previous, redactions)

    def _head(self, curs: Cursor[DictRow], originator_id: UUID) -> int | None:
        """An aggregate's last version in the store (inside the caller's transaction;
        RETURNING-style fetch, the cursor may be pipelined)."""
        curs.execute(self._select_head, (originator_id,))
        head = curs.fetchall()[0]["head"]
        return None if head is None else int(head)

    def select_subject_notifications(self, originator_id: UUID) -> list[Notification]:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self._select_subject, (originator_id,))
            return [
                Notification(
                    id=int(row["notification_id"]),
                    originator_id=row["originator_id"],
                    originator_version=int(row["originator_version"]),
                    topic=str(row["topic"]),
                    state=bytes(row["state"]),
                )
                for row in curs.fetchall()
            ]

    def select_command_receipt(self, authority_code: str, command_id: str) -> CommandReceipt | None:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self._select_receipt, (authority_code, command_id), prepare=True)
            row = curs.fetchone()
        if row is None:
            return None
        return _receipt_from_row(tuple(row.values()))

    def select_command_receipts(
        self, authority_code: str, command_ids: Sequence[str]
    ) -> dict[str, CommandReceipt]:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self._select_receipts, (authority_code, list(command_ids)))
            rows = curs.fetchall()
        receipts = (_receipt_from_row(tuple(row.values())) for row in rows)
        return {receipt.command_id: receipt for receipt in receipts}

    def insert_batch(
        self,
        stored_events: Sequence[StoredEvent],
        receipts: Sequence[CommandReceipt],
        relationships: Changes | None = None,
    ) -> int | None:
        try:
            with (
                self.datastore.get_connection() as conn,
                conn.transaction(),
                conn.cursor() as curs,
            ):
                # The library's insert lock: positions are issued in commit order.
                self._lock_table(curs)
                self._notify_channel(curs)
                with curs.copy(self._copy_receipts) as copy:
                    for receipt in receipts:
                        copy.write_row(_receipt_row(receipt))
                self._copy_sealed(curs, stored_events)
                self._write_relationships(curs, relationships or {})
                curs.execute(self._select_max_position)
                row = curs.fetchone()
        except psycopg.IntegrityError as error:
            raise IntegrityError(str(error)) from error
        return None if row is None or row["head"] is None else int(row["head"])

    def _copy_sealed(self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent]) -> None:
        """COPY events chained at positions taken under the insert lock (ADR 0019)."""
        if not stored_events:
            return
        positions = self._positions(curs, len(stored_events))
        events, seals = self._sealed(curs, stored_events, positions)
        with curs.copy(self._copy_events) as copy:
            copy.set_types(["uuid", "int8", "text", "bytea", "int8", "bytea", "bytea", "bytea"])
            for e, position, x in zip(events, positions, seals, strict=True):
                copy.write_row((*e, position, x.salt, x.commitment, x.chain_hash))

    def analyze(self) -> None:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self._analyze)

    def notification_id_of(self, originator_id: UUID, originator_version: int) -> int | None:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self._select_notification_id, (originator_id, originator_version))
            row = curs.fetchone()
        return int(row["notification_id"]) if row else None

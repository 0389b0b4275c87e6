"""The projection engine: exactly-once read models over the event store's notification log.

A projection is a module with its tables, the events it handles and pure handler
functions that turn one event into row operations. The runner here:

- reads the notification log in order from the position the projection reached;
- applies a batch of row operations and moves the position forward **in the same
  database transaction**, with a compare-and-set on the old position, so a crash at any
  point neither skips nor repeats an event, and a second runner can never apply twice;
- treats notification ids as ordered, not contiguous, so gaps are harmless (ADR 0006);
- holds a leader lock per projection (a PostgreSQL advisory lock, or an exclusive file
  lock beside a SQLite file): other runners stand by and take over when it dies;
- wakes on PostgreSQL NOTIFY (the event store's own channel) and polls as a fallback.

Read models live in generations (``<table>__g<N>``) behind stable views (``<table>``).
A rebuild fills generation N+1 from position 0 while readers keep the old one, then
switches the views over in one transaction once caught up.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import hashlib
import logging
import os
import select as sockets
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, NamedTuple, Protocol

import psycopg
from eventsourcing.persistence import Mapper, Notification
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    create_engine,
    delete,
    event,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.exc import DisconnectionError, IntegrityError
from sqlalchemy.pool import NullPool
from sqlalchemy.schema import CreateTable

log = logging.getLogger(__name__)

# -- what a projection module provides ------------------------------------------------------


Row = Mapping[str, Any] | tuple[Any, ...]


class Insert(NamedTuple):
    """Insert one row into the projection's table ``table``: a mapping by column name,
    or a tuple with every column in the table's order (cheaper in bulk: ADR 0006). (A
    named tuple: handlers make millions of these during a rebuild, and a frozen
    dataclass costs 4x as much.)"""

    table: str
    values: Row


class Update(NamedTuple):
    """Update the rows of ``table`` matching every ``where`` column."""

    table: str
    where: Mapping[str, Any]
    values: Mapping[str, Any]


class Delete(NamedTuple):
    """Delete the rows of ``table`` matching every ``where`` column."""

    table: str
    where: Mapping[str, Any]


class SameAs(NamedTuple):
    """In an ``Update``'s values: the row's own value of another column."""

    column: str


Operation = Insert | Update | Delete


class Projection(Protocol):
    """A read model: its tables, the events it handles, and a pure handler."""

    name: ClassVar[str]
    #: Stable names readers use; each is a view over the active generation's table.
    table_names: ClassVar[tuple[str, ...]]

    def define_tables(self, metadata: MetaData, generation: int) -> dict[str, Table]:
        """This generation's tables, keyed by stable name."""
        ...

    def handle(self, event: Any, notification: Notification) -> Sequence[Operation]:
        """The row operations for one event (none for events it ignores). Pure."""
        ...


class Settling(Protocol):
    """A projection with derived rows that depend on many events at once (compliance
    obligations): its handlers insert facts and mark subjects dirty in the batch's
    transaction; ``settle`` recomputes some dirty subjects from the stored facts and
    clears their marks, in one transaction of its own. Recomputing is a pure function of
    the facts, so a crash between the two loses nothing: the marks are still there."""

    def settle(self, conn: Connection, tables: Mapping[str, Table], limit: int) -> int:
        """Recompute up to ``limit`` dirty subjects; return how many (0: none left)."""
        ...


def settler(projection: Projection) -> Settling | None:
    settle = getattr(projection, "settle", None)
    return projection if callable(settle) else None  # type: ignore[return-value]


def generation_table_name(name: str, generation: int) -> str:
    return f"{name}__g{generation}"


# -- the engine's own bookkeeping ----------------------------------------------------------

metadata = MetaData()

#: One row per projection generation. ``active`` marks the one behind the views.
projection_state = Table(
    "projection_state",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("generation", Integer, primary_key=True),
    Column("position", BigInteger, nullable=False, default=0),
    Column("active", Boolean, nullable=False, default=False),
    Column("updated_at", DateTime(timezone=True), nullable=True),
)


class ProjectionLagging(TimeoutError):
    """A read asked to wait for a position the projection has not reached in time."""

    code = "PROJECTION_LAGGING"
    retryable = True

    def __init__(self, projection: str, wanted: int, reached: int) -> None:
        super().__init__(
            f"projection {projection!r} has reached position {reached}, not yet {wanted}; "
            "retry shortly"
        )
        self.projection = projection
        self.wanted = wanted
        self.reached = reached


@dataclass(frozen=True)
class Status:
    name: str
    generation: int
    position: int
    head: int
    lag_events: int
    lag_seconds: float


def make_engine(sqlalchemy_url: str) -> Engine:
    """A SQLAlchemy engine on the event store's own database (read models live beside it)."""
    if sqlalchemy_url.startswith("sqlite"):
        engine = create_engine(sqlalchemy_url, poolclass=NullPool, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            # A deleted or rewritten row's bytes are overwritten, not left in free pages
            # (a purge must leave no plaintext behind, ADR 0012).
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.close()
            # pysqlite's own transaction handling does not BEGIN before SELECTs; take
            # control so that a read-then-write batch is one serialisable transaction.
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection: Connection) -> None:
            # A transaction that reads before it writes takes the write lock up front
            # (``immediate``): upgrading a read snapshot that another writer has moved
            # past fails at once with SQLITE_BUSY, whatever the busy timeout.
            immediate = connection.get_execution_options().get("immediate", False)
            connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    # Sessions in UTC by name: psycopg then hands times back in ``datetime.UTC`` itself,
    # which ``utc`` passes through, rather than in a ZoneInfo ("Etc/UTC", a server's
    # usual default) converted per value (2.4 million conversions in a medium rebuild).
    engine = create_engine(
        sqlalchemy_url,
        pool_size=5,
        max_overflow=5,
        connect_args={"options": "-c timezone=UTC"},
    )
    event.listen(engine.pool, "checkout", _quick_check)
    return engine


def _readable(fd: int) -> bool:
    """Whether the socket has bytes waiting, without waiting: ``poll``, which takes any
    descriptor (``select`` refuses one numbered past 1024, as a server holding many
    subscriptions' sockets will have)."""
    if hasattr(sockets, "poll"):
        poller = sockets.poll()
        poller.register(fd, sockets.POLLIN)
        return bool(poller.poll(0))
    readable, _, _ = sockets.select([fd], [], [], 0)
    return bool(readable)


def _quick_check(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """The pool's check of a connection before lending it, without a round trip (in
    place of ``pool_pre_ping``'s ``SELECT 1`` on every loan: one round trip of every
    read, session 10, issue 18). An idle connection's socket has nothing to read unless
    the server wrote to it unasked, and what a server writes to an idle session is that
    it is going away (a restart, a crash, an administrator's terminate), or it closed
    it: only then is the connection pinged, and a dead one is refused
    (``DisconnectionError``: the pool discards it and lends a fresh one, as after a
    failed pre-ping). A connection that died without a word fails its first statement
    instead, which the API answers as unavailable (503) and the pool then replaces."""
    pgconn = getattr(dbapi_connection, "pgconn", None)
    if pgconn is None:  # not psycopg's: nothing to look at without a round trip
        return
    if pgconn.status != psycopg.pq.ConnStatus.OK:
        raise DisconnectionError("the connection is closed")
    if not _readable(pgconn.socket):
        return
    try:
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        if not dbapi_connection.autocommit:
            dbapi_connection.rollback()
    except psycopg.Error as error:
        raise DisconnectionError(str(error)) from error


# -- generations, views and state ----------------------------------------------------------


def create_generation(
    conn: Connection, projection: Projection, generation: int, *, defer_indexes: bool = False
) -> None:
    """Create a generation's tables and its state row (position 0, inactive). With
    ``defer_indexes`` the secondary indexes wait for ``create_indexes`` (bulk loading)."""
    md = MetaData()
    tables = projection.define_tables(md, generation)
    for table in tables.values():
        conn.execute(CreateTable(table))
        if not defer_indexes:
            for index in table.indexes:
                index.create(conn)
    conn.execute(
        insert(projection_state).values(
            name=projection.name,
            generation=generation,
            position=0,
            active=False,
            updated_at=_now(),
        )
    )


def create_indexes(conn: Connection, projection: Projection, generation: int) -> None:
    if conn.dialect.name == "postgresql":
        # One sort per index, in memory rather than spilled (a rebuild's last step).
        conn.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
    for table in projection.define_tables(MetaData(), generation).values():
        for index in table.indexes:
            index.create(conn)


#: A catch-up that applied at least this many events refreshes the planner's statistics
#: of the tables it wrote (PostgreSQL), so the first reads after a rebuild or a bulk
#: import are not planned on a table the planner believes empty (measured: the medium
#: authority's compliance summary at 294 ms before autovacuum's ANALYZE, 75 after).
ANALYZE_AFTER = 50_000


def analyze_generation(conn: Connection, projection: Projection, generation: int) -> None:
    if conn.dialect.name != "postgresql":
        return
    for table in projection.define_tables(MetaData(), generation).values():
        conn.execute(text(f'ANALYZE "{table.name}"'))


def activate_generation(conn: Connection, projection: Projection, generation: int) -> None:
    """Point the stable views at ``generation`` and mark it active, in the caller's
    transaction; drop the generations it replaces."""
    old = (
        conn.execute(
            select(projection_state.c.generation).where(
                projection_state.c.name == projection.name,
                projection_state.c.generation != generation,
            )
        )
        .scalars()
        .all()
    )
    for view in projection.table_names:
        conn.execute(text(f'DROP VIEW IF EXISTS "{view}"'))
        conn.execute(
            text(
                f'CREATE VIEW "{view}" AS SELECT * FROM "{generation_table_name(view, generation)}"'
            )
        )
    conn.execute(
        update(projection_state)
        .where(projection_state.c.name == projection.name)
        .values(active=projection_state.c.generation == generation, updated_at=_now())
    )
    for old_generation in old:
        drop_generation(conn, projection, old_generation)


def drop_generation(conn: Connection, projection: Projection, generation: int) -> None:
    """Drop a generation's tables and its state row (a replaced or abandoned one)."""
    for view in projection.table_names:
        conn.execute(text(f'DROP TABLE IF EXISTS "{generation_table_name(view, generation)}"'))
    conn.execute(
        projection_state.delete().where(
            projection_state.c.name == projection.name,
            projection_state.c.generation == generation,
        )
    )


def install(conn: Connection, projection: Projection) -> None:
    """First generation of a projection (used by migrations)."""
    create_generation(conn, projection, 1)
    activate_generation(conn, projection, 1)


def active_generation(conn: Connection, name: str) -> tuple[int, int]:
    row = conn.execute(
        select(projection_state.c.generation, projection_state.c.position).where(
            projection_state.c.name == name, projection_state.c.active.is_(True)
        )
    ).one_or_none()
    if row is None:
        msg = f"projection {name!r} is not installed; run: oversight db upgrade"
        raise LookupError(msg)
    return int(row[0]), int(row[1])


def _now() -> datetime:
    return datetime.now(UTC)


def utc(value: datetime) -> datetime:
    """Read models store UTC; SQLite hands times back naive, so they are UTC by contract."""
    zone = value.tzinfo
    if zone is UTC:
        return value
    if zone is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


# -- leader election --------------------------------------------------------------------


class LeaderLock(Protocol):
    def try_acquire(self) -> bool: ...

    def release(self) -> None: ...


def _lock_key(name: str) -> int:
    digest = hashlib.sha256(f"oversight.projection.{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class PostgresAdvisoryLock:
    """A session advisory lock, held on a dedicated connection; released by PostgreSQL
    itself when the holder's connection ends, however the process died."""

    def __init__(self, conninfo: str, name: str) -> None:
        self.conninfo = conninfo
        self.key = _lock_key(name)
        self.conn: psycopg.Connection[Any] | None = None

    def try_acquire(self) -> bool:
        if self.conn is None or self.conn.closed:
            self.conn = psycopg.connect(self.conninfo, autocommit=True)
        row = self.conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()
        return bool(row and row[0])

    def release(self) -> None:
        if self.conn is not None and not self.conn.closed:
            with contextlib.suppress(psycopg.Error):
                self.conn.execute("SELECT pg_advisory_unlock(%s)", (self.key,))
            self.conn.close()
        self.conn = None


class FileLock:
    """An exclusive ``flock`` beside the SQLite file; the kernel releases it when the
    holding process dies."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None

    def try_acquire(self) -> bool:
        if self.fd is None:
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def release(self) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


# -- the runner ------------------------------------------------------------------------

#: The interpreter's thread switch interval while a catch-up's three stages overlap. A
#: thread whose database call has returned waits for the GIL until the thread holding it
#: gives it up: at the default 5 ms the reader and writer queue behind the decoder
#: (measured on 106,544 events, audit trail rebuild: 0.25 x raw read at 5 ms, 0.28 x
#: at 1 ms, 0.27 x at 2 ms and 0.5 ms; ADR 0006).
PIPELINE_SWITCH_INTERVAL = 0.001
_switching = threading.Lock()
_switch_holders = 0
_switch_saved = 0.005


@contextlib.contextmanager
def pipelined_switching() -> Iterator[None]:
    """Use ``PIPELINE_SWITCH_INTERVAL`` while any runner of this process is catching up,
    and restore the process's own interval when the last one finishes."""
    global _switch_holders, _switch_saved
    with _switching:
        if _switch_holders == 0:
            _switch_saved = sys.getswitchinterval()
            sys.setswitchinterval(min(_switch_saved, PIPELINE_SWITCH_INTERVAL))
        _switch_holders += 1
    try:
        yield
    finally:
        with _switching:
            _switch_holders -= 1
            if _switch_holders == 0:
                sys.setswitchinterval(_switch_saved)


@dataclass
class Source:
    """Where events come from: the application's recorder and mapper."""

    select_notifications: Callable[[int, int], Sequence[Notification]]
    max_notification_id: Callable[[], int | None]
    mapper: Mapper[Any]


@dataclass
class Runner:
    """Keeps one projection up to date. Start several: one leads, the others stand by."""

    projection: Projection
    engine: Engine
    source: Source
    lock: LeaderLock
    listen_conninfo: str | None = None  # PostgreSQL: LISTEN on the event store channel
    channel: str = "oversight_events"
    batch_size: int = 500
    poll_interval: float = 1.0
    on_progress: Callable[[int, int], None] | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _tables: dict[int, dict[str, Table]] = field(default_factory=dict)

    def stop(self) -> None:
        self._stop.set()

    # -- applying ------------------------------------------------------------------------

    def tables(self, generation: int) -> dict[str, Table]:
        if generation not in self._tables:
            self._tables[generation] = self.projection.define_tables(MetaData(), generation)
        return self._tables[generation]

    def apply_batch(self, generation: int, limit: int | None = None) -> int:
        """Apply the next batch to ``generation``; return how many events were read."""
        with self.engine.connect() as conn:
            position = self._position(conn, generation)
        notifications = self.source.select_notifications(position + 1, limit or self.batch_size)
        return self._apply(generation, position, notifications)

    def _apply(self, generation: int, position: int, notifications: Sequence[Notification]) -> int:
        """Apply ``notifications`` (the log after ``position``) and move the position to
        the last of them, in one transaction."""
        if not notifications:
            return 0
        self._write(generation, position, notifications[-1].id, self._operations(notifications))
        return len(notifications)

    def _operations(self, notifications: Sequence[Notification]) -> list[Operation]:
        """Decode and handle a batch: its row operations, in log order."""
        operations: list[Operation] = []
        # Decoding and handling a batch allocates many short-lived, acyclic objects; the
        # cyclic collector only slows that down (measured: handle 15.7 -> 8.0 us/event).
        collecting = gc.isenabled()
        gc.disable()
        try:
            to_domain_event = self.source.mapper.to_domain_event
            handle = self.projection.handle
            for notification in notifications:
                operations.extend(handle(to_domain_event(notification), notification))
        finally:
            if collecting:
                gc.enable()
        return operations

    def _write(
        self, generation: int, position: int, reached: int, operations: Sequence[Operation]
    ) -> None:
        """Write a batch's rows and move the position from ``position`` to ``reached``, in
        one transaction; raise ``_PositionMoved`` if another applier got there first."""
        try:
            self._commit(generation, position, reached, self.tables(generation), operations)
        except (IntegrityError, psycopg.IntegrityError):
            # Rows already there: legitimate only if another applier moved the position
            # past them (its transaction won). Otherwise the model is inconsistent: stop.
            with self.engine.connect() as conn:
                if self._position(conn, generation) != position:
                    raise _PositionMoved from None
            raise

    def _commit(
        self,
        generation: int,
        position: int,
        reached: int,
        tables: Mapping[str, Table],
        operations: Sequence[Operation],
    ) -> None:
        with self.engine.begin() as conn:
            execute_operations(conn, tables, operations)
            moved = conn.execute(
                update(projection_state)
                .where(
                    and_(
                        projection_state.c.name == self.projection.name,
                        projection_state.c.generation == generation,
                        projection_state.c.position == position,
                    )
                )
                .values(position=reached, updated_at=_now())
            ).rowcount
            if moved != 1:
                # Another runner moved this generation on: roll back, apply nothing.
                raise _PositionMoved

    def _position(self, conn: Connection, generation: int) -> int:
        row = conn.execute(
            select(projection_state.c.position).where(
                projection_state.c.name == self.projection.name,
                projection_state.c.generation == generation,
            )
        ).one_or_none()
        if row is None:
            msg = f"projection {self.projection.name!r} has no generation {generation}"
            raise LookupError(msg)
        return int(row[0])

    def settle(self, generation: int | None = None, chunk: int = 200) -> int:
        """Recompute every dirty subject of a settling projection, ``chunk`` at a time,
        each chunk in its own transaction; return how many."""
        projection = settler(self.projection)
        if projection is None:
            return 0
        if generation is None:
            with self.engine.connect() as conn:
                generation, _ = active_generation(conn, self.projection.name)
        tables = self.tables(generation)
        total = 0
        while not self._stop.is_set():
            with (
                self.engine.connect().execution_options(immediate=True) as conn,
                conn.begin(),
            ):
                done = projection.settle(conn, tables, chunk)
            total += done
            if done == 0:
                break
        return total

    def catch_up(self, generation: int | None = None, *, settle: bool = True) -> int:
        """Apply batches until the log is exhausted; return events applied.

        Three stages overlap (ADR 0006): while batch N is decoded and handled on this
        thread, batch N+1 is read ahead and batch N-1 is written, each on a thread of
        its own (the driver releases the GIL while it waits for the server). Batches
        still commit one at a time, in order, each with its position; a batch is
        written only after the one before it committed, and its compare-and-set starts
        from where that one ended, so a failure anywhere rolls back that batch and
        everything after it is re-read from the committed position."""
        applied = 0
        position: int | None = None  # None: (re)read the committed position
        current = generation
        ahead: tuple[int, Future[Sequence[Notification]]] | None = None
        writing: _Writing | None = None  # the batch whose commit is in flight
        name = self.projection.name
        with (
            pipelined_switching(),
            ThreadPoolExecutor(1, thread_name_prefix=f"read-{name}") as reader,
            ThreadPoolExecutor(1, thread_name_prefix=f"write-{name}") as writer,
        ):
            try:
                while not self._stop.is_set():
                    if position is None:
                        with self.engine.connect() as conn:
                            if generation is None:
                                current, _ = active_generation(conn, name)
                            assert current is not None
                            position = self._position(conn, current)
                    assert current is not None
                    if ahead is not None and ahead[0] == position:
                        notifications = ahead[1].result()
                    else:
                        notifications = self.source.select_notifications(
                            position + 1, self.batch_size
                        )
                    ahead = None
                    if len(notifications) == self.batch_size:
                        last = notifications[-1].id
                        ahead = (
                            last,
                            reader.submit(
                                self.source.select_notifications, last + 1, self.batch_size
                            ),
                        )
                    operations = self._operations(notifications) if notifications else []
                    if writing is not None:
                        try:
                            applied += self._await_commit(writing)
                        except _PositionMoved:
                            # Another applier got there first: that batch rolled back
                            # whole, and this one was to start where it would have ended.
                            writing, position, ahead = None, None, None
                            continue
                        writing = None
                    if not notifications:
                        break
                    reached = notifications[-1].id
                    commit = writer.submit(self._write, current, position, reached, operations)
                    writing = _Writing(len(notifications), reached, commit)
                    position = reached
                if writing is not None:
                    last_write, writing = writing, None
                    with contextlib.suppress(_PositionMoved):
                        applied += self._await_commit(last_write)
                if settle and not self._stop.is_set():
                    # After a bulk catch-up nearly every subject is marked: settle in a
                    # rebuild's larger transactions (each settle call first finds the
                    # oldest marks among all of them: 99 calls took 15 s of a medium
                    # authority's 63; issue 7, benchmark 3).
                    self.settle(current, chunk=1000 if applied >= ANALYZE_AFTER else 200)
                if applied >= ANALYZE_AFTER and current is not None and not self._stop.is_set():
                    with self.engine.begin() as conn:
                        analyze_generation(conn, self.projection, current)
            finally:
                # Leaving on an error: never leave a commit running behind our back.
                if ahead is not None:
                    ahead[1].cancel()
                if writing is not None:
                    wait([writing.commit])
        return applied

    def _await_commit(self, writing: _Writing) -> int:
        """Wait for a batch's commit; report progress; return its event count."""
        writing.commit.result()
        if self.on_progress is not None:
            self.on_progress(writing.reached, self.source.max_notification_id() or 0)
        return writing.events

    # -- leading and standing by -----------------------------------------------------------

    def run_forever(self, *, once: bool = False) -> None:
        """Lead when the lock is free, otherwise stand by and retry. A failure while
        leading (the database restarting, say) releases the lock and tries again."""
        while not self._stop.is_set():
            try:
                acquired = self.lock.try_acquire()
            except Exception:
                log.exception("projection %s: cannot reach the lock", self.projection.name)
                acquired = False
            if not acquired:
                if once:
                    return
                self._stop.wait(self.poll_interval)
                continue
            try:
                self._lead(once=once)
            except Exception:
                log.exception("projection %s: runner failed; retrying", self.projection.name)
                self._stop.wait(self.poll_interval)
            finally:
                with contextlib.suppress(Exception):
                    self.lock.release()
            if once:
                return

    def _lead(self, *, once: bool) -> None:
        with self._listener() as wait:
            while not self._stop.is_set():
                self.catch_up()
                if once:
                    return
                wait(self.poll_interval)

    @contextlib.contextmanager
    def _listener(self) -> Iterator[Callable[[float], None]]:
        if self.listen_conninfo is None:

            def sleep(timeout: float) -> None:
                self._stop.wait(timeout)

            yield sleep
            return
        conn = psycopg.connect(self.listen_conninfo, autocommit=True)
        try:
            conn.execute(f'LISTEN "{self.channel}"')

            def wait(timeout: float) -> None:
                # Returns on the first NOTIFY, or after ``timeout`` (the polling fallback).
                for _ in conn.notifies(timeout=timeout, stop_after=1):
                    break

            yield wait
        finally:
            conn.close()

    # -- rebuilding ----------------------------------------------------------------------

    def rebuild(self) -> int:
        """Fill a new generation from the start and switch the views to it once caught up.
        Holds the leader lock throughout, so the live runner stands by meanwhile."""
        while not self.lock.try_acquire():
            if self._stop.wait(self.poll_interval):
                return 0
        try:
            with self.engine.begin() as conn:
                current, _ = active_generation(conn, self.projection.name)
                stale = (
                    conn.execute(
                        select(projection_state.c.generation).where(
                            projection_state.c.name == self.projection.name,
                            projection_state.c.active.is_(False),
                        )
                    )
                    .scalars()
                    .all()
                )
                for generation in stale:  # an interrupted earlier rebuild
                    drop_generation(conn, self.projection, generation)
                new = max([current, *stale]) + 1
                create_generation(conn, self.projection, new, defer_indexes=True)
            # Holding the lock keeps the live runner out. Events recorded after this
            # catch-up are applied by the live runner, to the new generation.
            # Large batches, and secondary indexes built once at the end (ADR 0006):
            # nobody reads this generation yet.
            live_batch, self.batch_size = self.batch_size, max(self.batch_size, 2000)
            try:
                applied = self.catch_up(new, settle=False)
            finally:
                self.batch_size = live_batch
            if self._stop.is_set():
                return applied  # never switch to a half-built generation
            with self.engine.begin() as conn:
                create_indexes(conn, self.projection, new)
            self.settle(new, chunk=1000)  # derived rows once, from every fact (indexes first)
            if self._stop.is_set():
                return applied
            with self.engine.begin() as conn:
                analyze_generation(conn, self.projection, new)
                activate_generation(conn, self.projection, new)
            self._tables.clear()
            return applied
        finally:
            self.lock.release()


class _Writing(NamedTuple):
    events: int
    reached: int
    commit: Future[None]


class _PositionMoved(Exception):
    """Compare-and-set on the position failed; the batch was rolled back."""


def _copy_rows(conn: Connection, table: Table, rows: Sequence[Row]) -> None:
    """PostgreSQL: COPY the rows in, inside the caller's transaction (measured in ADR 0006:
    an executemany costs a round trip per row even when pipelined)."""
    columns = [c.name for c in table.columns]
    driver = conn.connection.driver_connection
    assert driver is not None
    names = ", ".join(f'"{c}"' for c in columns)
    types = [_PG_TYPES[type(c.type).__name__] for c in table.columns]
    with (
        driver.cursor() as cursor,
        cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN (FORMAT BINARY)') as stream,
    ):
        stream.set_types(types)
        for row in rows:
            stream.write_row(row if isinstance(row, tuple) else [row.get(c) for c in columns])


#: SQLAlchemy column types to the PostgreSQL types binary COPY needs declared.
_PG_TYPES = {
    "BigInteger": "int8",
    "Integer": "int4",
    "String": "text",
    "Text": "text",
    "DateTime": "timestamptz",
    "Date": "date",
    "Boolean": "bool",
}


def execute_operations(
    conn: Connection, tables: Mapping[str, Table], operations: Sequence[Operation]
) -> None:
    """Run operations: inserts are grouped per table into one multi-row statement each,
    and every pending insert is flushed before an update, so updates see their rows."""
    pending: dict[str, list[Row]] = {}

    copy = conn.dialect.name == "postgresql"

    def flush() -> None:
        for name, rows in pending.items():
            table = tables[name]
            if copy:
                _copy_rows(conn, table, rows)
            else:
                columns = [c.name for c in table.columns]
                named = [
                    dict(zip(columns, r, strict=True)) if isinstance(r, tuple) else r for r in rows
                ]
                conn.execute(insert(table), named)
        pending.clear()

    for operation in operations:
        if isinstance(operation, Insert):
            pending.setdefault(operation.table, []).append(operation.values)
            continue
        flush()
        table = tables[operation.table]
        # A list or tuple in ``where`` matches any of its values.
        conditions = [
            table.c[column].in_(list(value))
            if isinstance(value, list | tuple)
            else table.c[column] == value
            for column, value in operation.where.items()
        ]
        if isinstance(operation, Delete):
            conn.execute(delete(table).where(and_(*conditions)))
            continue
        values = {
            name: table.c[value.column] if isinstance(value, SameAs) else value
            for name, value in operation.values.items()
        }
        conn.execute(update(table).where(and_(*conditions)).values(**values))
    flush()


# -- reading state -----------------------------------------------------------------------


def status(engine: Engine, source: Source, projections: Sequence[Projection]) -> list[Status]:
    head = source.max_notification_id() or 0
    result: list[Status] = []
    with engine.connect() as conn:
        for projection in projections:
            generation, position = active_generation(conn, projection.name)
            lag_seconds = 0.0
            if position < head:
                oldest = source.select_notifications(position + 1, 1)
                if oldest:
                    recorded: datetime = getattr(
                        source.mapper.to_domain_event(oldest[0]), "timestamp", _now()
                    )
                    lag_seconds = max(0.0, (_now() - recorded).total_seconds())
            result.append(
                Status(projection.name, generation, position, head, head - position, lag_seconds)
            )
    return result


def wait_for(engine: Engine, name: str, position: int | None, timeout: float = 5.0) -> None:
    """Read-your-writes: return once ``name`` has applied ``position``; raise
    ``ProjectionLagging`` after ``timeout`` seconds (bounded)."""
    if position is None:
        return
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        with engine.connect() as conn:
            _, reached = active_generation(conn, name)
        if reached >= position:
            return
        if time.monotonic() >= deadline:
            raise ProjectionLagging(name, position, reached)
        time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
        delay = min(delay * 2, 0.2)


def sqlite_lock_path(sqlite_path: str, name: str) -> Path:
    return Path(f"{sqlite_path}.projection-{name}.lock")

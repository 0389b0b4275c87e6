"""The eventsourcing library's own recorder contract tests, run against our recorders on
tables created by our migrations (not by the library), on SQLite and PostgreSQL."""

from __future__ import annotations

import select
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from unittest import TestCase
from uuid import uuid4

import psycopg
from eventsourcing.persistence import IntegrityError, StoredEvent
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore
from eventsourcing.tests.persistence import (
    ApplicationRecorderTestCase,
    NonInterleavingNotificationIDsBaseCase,
)

from application.receipts import CommandReceipt, StaleRead
from oversight.eventstore import (
    PostgresOversightRecorder,
    SQLiteOversightRecorder,
    _quick_check,
)
from oversight.schema import upgrade
from oversight.settings import DatabaseSettings
from tests.conftest import drop_postgres_database, new_postgres_database


def _join_stray_threads() -> None:
    """The library's concurrency test stops its reader threads without joining them;
    closing a connection under a live reader crashes sqlite3, so wait for them first."""
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join(timeout=10)


class _SQLiteStore:
    datastore: SQLiteDatastore

    def setUp(self) -> None:
        self.directory = tempfile.mkdtemp()
        path = Path(self.directory) / "recorder.sqlite3"
        upgrade(DatabaseSettings.from_url(f"sqlite:///{path}"))
        self.datastore = SQLiteDatastore(str(path), lock_timeout=30)
        super().setUp()  # type: ignore[misc]

    def tearDown(self) -> None:
        super().tearDown()  # type: ignore[misc]
        _join_stray_threads()
        self.datastore.close()
        shutil.rmtree(self.directory, ignore_errors=True)

    def create_recorder(self) -> SQLiteOversightRecorder:
        return SQLiteOversightRecorder(self.datastore)


class _PostgresStore:
    datastore: PostgresDatastore

    def setUp(self) -> None:
        self.url = new_postgres_database()
        settings = DatabaseSettings.from_url(self.url)
        upgrade(settings)
        self.datastore = PostgresDatastore(
            dbname=settings.dbname or "",
            host=settings.host or "",
            port=str(settings.port),
            user=settings.user or "",
            password=settings.password or "",
            pool_size=12,
            max_overflow=12,
        )
        super().setUp()  # type: ignore[misc]

    def tearDown(self) -> None:
        super().tearDown()  # type: ignore[misc]
        _join_stray_threads()
        self.datastore.close()
        drop_postgres_database(self.url)

    def create_recorder(self) -> PostgresOversightRecorder:
        return PostgresOversightRecorder(self.datastore, events_table_name="oversight_events")


class TestSQLiteApplicationRecorder(_SQLiteStore, ApplicationRecorderTestCase):
    pass


class TestPostgresApplicationRecorder(_PostgresStore, ApplicationRecorderTestCase):
    pass


class TestPostgresNonInterleavingNotificationIDs(
    _PostgresStore, NonInterleavingNotificationIDsBaseCase
):
    pass


class _ReceiptContract:
    """Our addition to the contract: a receipt is written with its events, or neither is."""

    def create_recorder(self) -> Any:
        raise NotImplementedError

    def _receipt(self, command_id: str, last: StoredEvent | None) -> CommandReceipt:
        return CommandReceipt(
            authority_code="LA",
            command_id=command_id,
            command_name="Test",
            fingerprint="f" * 64,
            last_originator_id=last.originator_id if last else None,  # type: ignore[arg-type]
            last_originator_version=last.originator_version if last else None,
            aggregate_ids=(last.originator_id,) if last else (),  # type: ignore[arg-type]
        )

    def test_receipt_is_atomic_with_events(self) -> None:
        recorder = self.create_recorder()
        first = StoredEvent(uuid4(), 1, "topic", b"{}")
        ids = recorder.insert_events([first], command_receipt=self._receipt("c1", first))
        receipt = recorder.select_command_receipt("LA", "c1")
        assert receipt is not None and receipt.last_originator_version == 1
        assert recorder.notification_id_of(first.originator_id, 1) == ids[0]
        # Same command id again: nothing of the second batch is written.
        second = StoredEvent(uuid4(), 1, "topic", b"{}")
        try:
            recorder.insert_events([second], command_receipt=self._receipt("c1", second))
        except IntegrityError:
            pass
        else:
            raise AssertionError("a duplicate command id must fail the transaction")
        assert recorder.select_events(second.originator_id) == []
        # A conflicting event: the receipt of that command is not written either.
        clash = StoredEvent(first.originator_id, 1, "topic", b"{}")
        try:
            recorder.insert_events([clash], command_receipt=self._receipt("c2", clash))
        except IntegrityError:
            pass
        else:
            raise AssertionError("a version clash must fail the transaction")
        assert recorder.select_command_receipt("LA", "c2") is None
        assert recorder.select_command_receipt("OTHER", "c1") is None

    def test_a_commands_events_get_ascending_positions_with_its_receipt(self) -> None:
        recorder = self.create_recorder()
        child, worker = uuid4(), uuid4()
        events = [
            StoredEvent(child, 1, "topic", b'{"n": 1}'),
            StoredEvent(child, 2, "topic", b'{"n": 2}'),
            StoredEvent(worker, 1, "topic", b'{"n": 3}'),
        ]
        ids = recorder.insert_events(events, command_receipt=self._receipt("c3", events[-1]))
        assert ids is not None and len(ids) == 3 and list(ids) == sorted(ids)
        stored = recorder.select_notifications(start=ids[0], limit=10)
        assert [(n.originator_id, n.originator_version, n.state) for n in stored] == [
            (e.originator_id, e.originator_version, e.state) for e in events
        ]
        assert [e.originator_version for e in recorder.select_events(child)] == [1, 2]
        assert [e.originator_version for e in recorder.select_events(child, gt=1)] == [2]

    def test_a_write_is_refused_whole_when_what_its_command_read_has_changed(self) -> None:
        """``read_versions`` (ADR 0016): each aggregate the command read but does not
        change must still be at the version it read, or nothing is written."""
        recorder = self.create_recorder()
        worker = uuid4()
        recorder.insert_events([StoredEvent(worker, 1, "topic", b"{}")])
        child = StoredEvent(uuid4(), 1, "topic", b"{}")
        try:
            recorder.insert_events(
                [child], command_receipt=self._receipt("r1", child), read_versions=[(worker, 0)]
            )
        except StaleRead:
            pass
        else:
            raise AssertionError("a changed read must refuse the write")
        assert recorder.select_events(child.originator_id) == []
        assert recorder.select_command_receipt("LA", "r1") is None
        recorder.insert_events(
            [child], command_receipt=self._receipt("r1", child), read_versions=[(worker, 1)]
        )
        assert len(recorder.select_events(child.originator_id)) == 1


class TestSQLiteReceipts(_SQLiteStore, _ReceiptContract, TestCase):
    pass


class TestPostgresReceipts(_PostgresStore, _ReceiptContract, TestCase):
    pass


class TestPostgresRecordingFunction(_PostgresStore, TestCase):
    """Migration 0007: the one-statement write wakes the projection runners (NOTIFY on
    the library's channel), and the pool's check discards a dead connection without a
    round trip on a live one."""

    def create_recorder(self) -> PostgresOversightRecorder:
        return PostgresOversightRecorder(self.datastore, events_table_name="oversight_events")

    def test_a_recorded_command_notifies_listeners(self) -> None:
        recorder = self.create_recorder()
        with psycopg.connect(self.url, autocommit=True) as listener:
            listener.execute("LISTEN oversight_events")
            event = StoredEvent(uuid4(), 1, "topic", b"{}")
            receipt = CommandReceipt("LA", "n1", "Test", "f" * 64, event.originator_id, 1, ())
            recorder.insert_events([event], command_receipt=receipt)
            notices = list(listener.notifies(timeout=5, stop_after=1))
        assert [n.channel for n in notices] == ["oversight_events"]

    def test_the_pool_checks_with_ours_not_with_a_ping(self) -> None:
        datastore = PostgresDatastore(
            dbname=self.datastore.pool.kwargs["dbname"],
            host=self.datastore.pool.kwargs["host"],
            port=self.datastore.pool.kwargs["port"],
            user=self.datastore.pool.kwargs["user"],
            password=self.datastore.pool.kwargs["password"],
            pre_ping=True,
        )
        try:
            PostgresOversightRecorder(datastore, events_table_name="oversight_events")
            assert datastore.pool._check is _quick_check  # psycopg_pool's attribute
        finally:
            datastore.close()

    def test_the_pool_check_discards_a_terminated_connection(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as live:
            _quick_check(live)  # idle and alive: passes
            pid = live.info.backend_pid
            with psycopg.connect(self.url, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
            deadline = time.monotonic() + 5
            while not select.select([live.pgconn.socket], [], [], 0.05)[0]:
                assert time.monotonic() < deadline, "the server never closed the session"
            try:
                _quick_check(live)
            except psycopg.OperationalError:
                pass
            else:
                raise AssertionError("a terminated connection must fail the check")

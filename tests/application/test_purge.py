"""One purge use case on every path (issue 20, ADR 0018), on SQLite and PostgreSQL.

A unique sentinel is written into a personal supervision record, projected, and the
record purged through each entry point: the CLI (``oversight retention purge``), a
scheduled run (``--scheduled``), GraphQL ``purgeRecord`` and ``purgeDueRecords``. When
the call returns, before anything else runs, the sentinel is in no file of the database
(SQLite: the file, its ``-wal`` and ``-shm``; PostgreSQL: every relation's data files,
read after a checkpoint), in no table, in no log line captured during the purge and in
no response. Each purge leaves a certificate in the table and in the ledger; a backup
taken before the purge and restored is refused by ``oversight serve`` until
``oversight retention reapply`` destroys the records again.
"""

from __future__ import annotations

import json
import logging
import shutil
import struct
import subprocess
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, inspect, text

from application import certificates as certs
from application.app import OversightApplication
from application.certificates import Certificate, Intent, Ledger, LedgerMissing
from application.purge import Purges
from application.storage import compact
from domain import commands as c
from domain.provenance import Actor
from domain.vocabulary import Role
from oversight.cli import main
from oversight.projecting import read_engine
from oversight.serving import PurgesNotApplied, refuse_unapplied_purges
from oversight.settings import DatabaseSettings, Settings
from tests.conftest import drop_postgres_database, new_postgres_database
from tests.graphql_api.conftest import AUTHORITY as API_AUTHORITY
from tests.graphql_api.conftest import Api
from tests.helpers import AUTHORITY, opened, register_worker, setup_authority
from tests.projections.conftest import catch_up_all

THEN = datetime(2012, 3, 1, 10, 0, tzinfo=UTC)
AS_OF = date(2026, 1, 1)  # DUR-4.9: a supervision record is kept 6 years: due in 2018


def _sentinel() -> str:
    return f"SENTINEL-{uuid.uuid4().hex}-PURGE"


def _seed(app: OversightApplication, authority: str, staff_id: str, sentinel: str) -> str:
    """A worker of 2012 with one supervision session and its personal record carrying
    ``sentinel`` (corrected once, with the sentinel again); the session's id."""
    admin = Actor("ADMIN", Role.ADMINISTRATOR, authority)

    def common(days: int) -> dict[str, Any]:
        return {
            "command_id": uuid.uuid4().hex,
            "actor": admin,
            "occurred_at": THEN + timedelta(days=days),
        }

    register_worker(
        app, staff_id, when=THEN, start_date=THEN.date(), who=admin, line_manager_id=None
    )
    session = f"{staff_id}-S1"
    app.execute(
        c.ScheduleSupervisionSession(
            **common(10), staff_id=staff_id, session_id=session, supervisor_id="TM1",
            scheduled_for=THEN + timedelta(days=11),
        )
    )  # fmt: skip
    app.execute(
        c.HoldSupervisionSession(
            **common(11), staff_id=staff_id, session_id=session, supervisor_id="TM1",
            duration_minutes=90, functions_covered=["management", "support"],
            wellbeing_discussed=True, equality_and_diversity_discussed=True,
        )
    )  # fmt: skip
    app.execute(
        c.WritePersonalSupervisionRecord(
            **common(12), staff_id=staff_id, record_id=f"{session}-R", session_id=session,
            actions_reviewed=f"Reviewed {sentinel}", wellbeing=f"Wellbeing {sentinel}",
            workload="Manageable", development="Court skills", disagreements=None,
            agreed_actions=[],
        )
    )  # fmt: skip
    app.execute(
        c.CorrectEntry(
            **common(13), staff_id=staff_id, entry_id=f"{session}-R",
            changes={"workload": f"Heavy {sentinel}"}, reason=f"Asked {sentinel}",
        )
    )  # fmt: skip
    return session


# -- where a sentinel could survive ---------------------------------------------------------


def _sqlite_files(database: DatabaseSettings) -> bytes:
    assert database.sqlite_path is not None
    path = Path(database.sqlite_path)
    return b"".join(
        p.read_bytes() for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()
    )


PAGE = 8192
LP_NORMAL, LP_DEAD = 1, 3


def _postgres_files(database: DatabaseSettings) -> list[bytes]:
    """Every relation's data files (tables, TOAST, indexes, the catalogs) as the server
    has written them after a checkpoint."""
    url = database.sqlalchemy_url().replace("+psycopg", "")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CHECKPOINT")
        row = conn.execute("SHOW data_directory").fetchone()
        assert row is not None
        directory = Path(str(row[0]))
        paths = [
            str(p)
            for (p,) in conn.execute(
                "SELECT pg_relation_filepath(oid) FROM pg_class "
                "WHERE pg_relation_filepath(oid) IS NOT NULL"
            ).fetchall()
        ]
    assert len(paths) > 100  # the catalogs too: the search did look
    found = []
    for relative in paths:
        first = directory / relative
        for segment in [first, *sorted(first.parent.glob(f"{first.name}.[0-9]*"))]:
            if segment.exists():
                found.append(segment.read_bytes())
    return found


def _tuples(files: list[bytes]) -> bytes:
    """What the pages' line pointers point at: every live tuple, every dead one not yet
    vacuumed, every index entry. Not the free space between them, where VACUUM leaves
    the bytes of the tuples it removed until the page is written over (ADR 0018)."""
    items = bytearray()
    for data in files:
        for start in range(0, len(data) - PAGE + 1, PAGE):
            page = data[start : start + PAGE]
            lower = struct.unpack_from("<H", page, 12)[0]
            for pointer in range(24, min(lower, PAGE), 4):
                (word,) = struct.unpack_from("<I", page, pointer)
                offset, flags, length = word & 0x7FFF, (word >> 15) & 3, word >> 17
                if length and flags in (LP_NORMAL, LP_DEAD) and offset + length <= PAGE:
                    items += page[offset : offset + length] + b"\0"
    return bytes(items)


def _database_files(database: DatabaseSettings) -> bytes:
    """SQLite: the files, byte for byte. PostgreSQL: every tuple and index entry in them."""
    if database.backend == "sqlite":
        return _sqlite_files(database)
    return _tuples(_postgres_files(database))


def _tables(engine: Engine) -> str:
    """Every row of every table and view of the schema, as text."""
    out: list[str] = []
    with engine.connect() as conn:
        names = inspect(conn).get_table_names() + inspect(conn).get_view_names()
        for name in names:
            out.extend(repr(tuple(r)) for r in conn.execute(text(f'SELECT * FROM "{name}"')))
    return "\n".join(out)


def assert_nowhere(
    sentinel: str,
    database: DatabaseSettings,
    engine: Engine,
    caplog: pytest.LogCaptureFixture,
    *responses: str,
) -> None:
    assert sentinel.encode() not in _database_files(database)
    assert sentinel not in _tables(engine)
    assert all(sentinel not in r.getMessage() for r in caplog.records)
    assert all(sentinel not in response for response in responses)


def assert_present(sentinel: str, database: DatabaseSettings, engine: Engine) -> None:
    """The search finds the sentinel before the purge (so its absence after means
    something)."""
    assert sentinel in _tables(engine)
    assert sentinel.encode() in _database_files(database)


# -- the CLI and a scheduled run -----------------------------------------------------------


def _cli(database: DatabaseSettings, ledger: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        main,
        list(args),
        env={"OVERSIGHT_DATABASE_URL": database.url, "OVERSIGHT_PURGE_LEDGER": str(ledger)},
        catch_exceptions=False,
    )
    return result.exit_code, result.output


@pytest.mark.parametrize("scheduled", [False, True], ids=["cli", "scheduled"])
def test_a_purge_from_the_cli_leaves_no_copy_and_certifies_it(
    database: DatabaseSettings,
    app: OversightApplication,
    engine: Engine,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
    scheduled: bool,
) -> None:
    sentinel = _sentinel()
    setup_authority(app)
    session = _seed(app, AUTHORITY, "SW1", sentinel)
    catch_up_all(database, app, engine)
    assert_present(sentinel, database, engine)

    caplog.clear()
    caplog.set_level(logging.DEBUG)
    ledger = tmp_path / "ledger.jsonl"
    who = ["--scheduled"] if scheduled else ["--authorised-by", "DPO1"]
    code, output = _cli(database, ledger, "retention", "purge", "--as-of", AS_OF.isoformat(), *who)
    assert code == 0, output
    assert f"destroyed: {AUTHORITY} worker SW1 personal_supervision {session}" in output
    assert_nowhere(sentinel, database, engine, caplog, output)

    issued = Ledger(ledger).read()
    assert [(k.local_id, k.record_class, k.record_id, k.rule_id) for k in issued] == [
        ("SW1", "personal_supervision", session, "DUR-4.9")
    ]
    certificate = issued[0]
    assert certificate.ran_by == ("schedule" if scheduled else "DPO1")
    assert certificate.due_on == date(2018, 3, 12) and certificate.as_of == AS_OF
    assert certificate.events_rewritten == 4  # scheduled, held, written, corrected
    assert certificate.read_model_rows_redacted > 0
    assert certificate.legal_hold_check.startswith("clear")
    assert certs.certificates(engine) == issued  # the table says what the ledger says
    assert sentinel not in ledger.read_text()

    # The CLI lists them, in every format, and never anyone's words.
    for fmt in ("table", "json", "csv"):
        code, listed = _cli(database, ledger, "retention", "certificates", "--format", fmt)
        assert code == 0 and session in listed and sentinel not in listed
    code, listed = _cli(database, ledger, "retention", "certificates", "--format", "json")
    assert json.loads(listed) == [certificate.to_json()]

    # Again: nothing more is destroyed, no second certificate.
    code, output = _cli(database, ledger, "retention", "purge", "--as-of", "2026-01-01", *who)
    assert code == 0 and "destroyed 0 records" in output
    assert len(Ledger(ledger).read()) == 1 and len(certs.certificates(engine)) == 1


def test_a_full_compaction_leaves_no_byte_in_the_data_directory(
    database: DatabaseSettings, app: OversightApplication, engine: Engine, tmp_path: Path
) -> None:
    """PostgreSQL's VACUUM frees a purged tuple's space without zeroing it; ``oversight
    retention compact --full`` rewrites the tables, after which no byte of it is left in
    any relation's file (SQLite zeroes as it goes: the same check holds there)."""
    sentinel = _sentinel()
    setup_authority(app)
    _seed(app, AUTHORITY, "SW1", sentinel)
    catch_up_all(database, app, engine)
    ledger = tmp_path / "ledger.jsonl"
    code, output = _cli(
        database, ledger, "retention", "purge", "--as-of", "2026-01-01", "--authorised-by", "DPO1"
    )
    assert code == 0 and "destroyed 1 records" in output, output
    assert sentinel.encode() not in _database_files(database)
    code, output = _cli(database, ledger, "retention", "compact", "--full")
    assert code == 0, output
    if database.backend == "sqlite":
        assert sentinel.encode() not in _sqlite_files(database)
    else:
        assert all(sentinel.encode() not in data for data in _postgres_files(database))


def test_without_a_ledger_nothing_is_destroyed(app: OversightApplication, engine: Engine) -> None:
    setup_authority(app)
    _seed(app, AUTHORITY, "SW1", _sentinel())
    dpo = Actor("DPO1", Role.DATA_PROTECTION_OFFICER, AUTHORITY)
    purges = Purges(app, engine, None)
    dry = purges.run(authority_code=AUTHORITY, as_of=AS_OF, dpo=dpo, dry_run=True)
    assert len(dry.destroyed) == 0  # not projected yet: the schedule proposes nothing
    with pytest.raises(LedgerMissing):
        purges.run(authority_code=AUTHORITY, as_of=AS_OF, dpo=dpo, dry_run=False)


# -- GraphQL ------------------------------------------------------------------------------

PURGE_RECORD = """mutation($input: PurgeRecordInput!, $key: String!) {
  purgeRecord(input: $input, idempotencyKey: $key) {
    __typename
    ... on CommandSuccess { position replayed }
    ... on ValidationProblem { message field }
  }
}"""
PURGE_DUE = """mutation($asOf: Date!) {
  purgeDueRecords(asOf: $asOf, dryRun: false) {
    destroyed { localId recordClass recordId ruleId } refused { message }
  }
}"""
CERTIFICATES = """query($first: Int!, $after: String) {
  purgeCertificates(first: $first, after: $after) {
    totalCount
    edges { cursor node { id certificateId subjectKind subjectId localId recordClass recordId
                          ruleId dueOn asOf legalHoldCheck eventsRewritten
                          readModelRowsRedacted ranBy purgedAt } }
    pageInfo { hasNextPage endCursor }
  }
}"""


@pytest.fixture
def seeded(api: Api) -> Iterator[tuple[Api, str, list[str]]]:
    """Two old workers in the API's authority, each with a sentinel record."""
    sentinel = _sentinel()
    sessions = [_seed(api.application, API_AUTHORITY, s, sentinel) for s in ("OLD1", "OLD2")]
    api.catch_up()
    yield api, sentinel, sessions


def test_purge_record_over_graphql_leaves_no_copy(
    seeded: tuple[Api, str, list[str]], caplog: pytest.LogCaptureFixture
) -> None:
    api, sentinel, sessions = seeded
    assert_present(sentinel, api.database, api.engine)
    dpo = api.token("DPO1", Role.DATA_PROTECTION_OFFICER)
    caplog.clear()
    caplog.set_level(logging.DEBUG)
    responses = []
    for staff_id, session in zip(("OLD1", "OLD2"), sessions, strict=True):
        variables = {
            "input": {"staffId": staff_id, "recordClass": "personal_supervision",
                      "recordId": session, "asOf": AS_OF.isoformat()},
            "key": f"purge-{session}",
        }  # fmt: skip
        done = api.query(PURGE_RECORD, dpo, variables)
        assert done["purgeRecord"]["__typename"] == "CommandSuccess", done
        responses.append(json.dumps(done))
        # A retry with the same key, no occurredAt given either time (each filled with the
        # adapter's "now"), replays the purge: not a conflict (ADR 0027).
        again = api.query(PURGE_RECORD, dpo, variables)["purgeRecord"]
        assert (again["__typename"], again["replayed"]) == ("CommandSuccess", True), again
        assert again["position"] == done["purgeRecord"]["position"]
    assert_nowhere(sentinel, api.database, api.engine, caplog, *responses)

    page = api.query(CERTIFICATES, dpo, {"first": 1, "after": None})["purgeCertificates"]
    rest = api.query(CERTIFICATES, dpo, {"first": 10, "after": page["pageInfo"]["endCursor"]})[
        "purgeCertificates"
    ]
    assert page["pageInfo"]["hasNextPage"] and not rest["pageInfo"]["hasNextPage"]
    nodes = [e["node"] for e in page["edges"] + rest["edges"]]
    assert [(n["localId"], n["recordId"], n["ranBy"]) for n in nodes] == [
        ("OLD1", sessions[0], "DPO1"),
        ("OLD2", sessions[1], "DPO1"),
    ]
    ledger = Ledger.configured(api.engine)
    assert ledger is not None
    assert {k.certificate_id for k in ledger.read()} == {n["certificateId"] for n in nodes}
    qa = api.query(CERTIFICATES, api.token("QA1", Role.QA_AUDITOR), {"first": 10})
    assert len(qa["purgeCertificates"]["edges"]) == 2
    refused = api.error(CERTIFICATES, api.token("TM1", Role.TEAM_MANAGER), {"first": 10})
    assert refused["extensions"]["code"] == "FORBIDDEN"
    # Relay: counted, paged backwards, and each certificate given again by its global id
    # to those who may read the list, and to no one else (ADR 0029).
    assert page["totalCount"] == rest["totalCount"] == 2
    backwards = api.query(
        """query($before: String) { purgeCertificates(last: 1, before: $before) {
            edges { node { certificateId } } pageInfo { hasPreviousPage } } }""",
        dpo,
        {"before": rest["edges"][0]["cursor"]},
    )["purgeCertificates"]
    assert [e["node"]["certificateId"] for e in backwards["edges"]] == [nodes[0]["certificateId"]]
    assert not backwards["pageInfo"]["hasPreviousPage"]
    by_id = """query($id: ID!) { node(id: $id) { id ... on PurgeCertificate { certificateId } } }"""
    again = api.query(by_id, dpo, {"id": nodes[1]["id"]})["node"]
    assert again == {"id": nodes[1]["id"], "certificateId": nodes[1]["certificateId"]}
    hidden = api.error(by_id, api.token("TM1", Role.TEAM_MANAGER), {"id": nodes[1]["id"]})
    assert hidden["extensions"]["code"] == "FORBIDDEN"


def test_purge_due_records_over_graphql_leaves_no_copy(
    seeded: tuple[Api, str, list[str]], caplog: pytest.LogCaptureFixture
) -> None:
    api, sentinel, sessions = seeded
    dpo = api.token("DPO1", Role.DATA_PROTECTION_OFFICER)
    caplog.clear()
    caplog.set_level(logging.DEBUG)
    done = api.query(PURGE_DUE, dpo, {"asOf": AS_OF.isoformat()})["purgeDueRecords"]
    assert {(d["localId"], d["recordId"]) for d in done["destroyed"]} == {
        ("OLD1", sessions[0]),
        ("OLD2", sessions[1]),
    }
    assert_nowhere(sentinel, api.database, api.engine, caplog, json.dumps(done))
    nodes = api.query(CERTIFICATES, dpo, {"first": 10})["purgeCertificates"]["edges"]
    assert sorted(e["node"]["recordId"] for e in nodes) == sorted(sessions)
    assert all(e["node"]["ruleId"] == "DUR-4.9" for e in nodes)


# -- restore must not resurrect ---------------------------------------------------------------


def _backup(database: DatabaseSettings, engine: Engine, tmp_path: Path) -> Path:
    if database.backend == "sqlite":
        compact(engine)  # everything in the main file
        assert database.sqlite_path is not None
        copy = tmp_path / "backup.sqlite3"
        shutil.copy(database.sqlite_path, copy)
        return copy
    pg_dump = shutil.which("pg_dump")
    assert pg_dump is not None
    copy = tmp_path / "backup.dump"
    url = database.sqlalchemy_url().replace("+psycopg", "")
    subprocess.run([pg_dump, "-Fc", "--no-owner", "-f", str(copy), url], check=True)
    return copy


@pytest.fixture
def restore_target(backend: str, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    url = new_postgres_database()
    try:
        yield url
    finally:
        drop_postgres_database(url)


def _restore(backup: Path, url: str) -> DatabaseSettings:
    restored = DatabaseSettings.from_url(url)
    if restored.backend == "sqlite":
        assert restored.sqlite_path is not None
        shutil.copy(backup, restored.sqlite_path)
        return restored
    pg_restore = shutil.which("pg_restore")
    assert pg_restore is not None
    target = restored.sqlalchemy_url().replace("+psycopg", "")
    subprocess.run([pg_restore, "--no-owner", "-d", target, str(backup)], check=True)
    return restored


def test_a_restored_backup_is_refused_until_reapply_destroys_the_records_again(
    database: DatabaseSettings,
    app: OversightApplication,
    engine: Engine,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
    restore_target: str,
) -> None:
    sentinel = _sentinel()
    setup_authority(app)
    session = _seed(app, AUTHORITY, "SW1", sentinel)
    _seed(app, AUTHORITY, "SW2", sentinel)
    catch_up_all(database, app, engine)
    backup = _backup(database, engine, tmp_path)

    ledger = tmp_path / "ledger.jsonl"
    code, output = _cli(
        database, ledger, "retention", "purge", "--as-of", "2026-01-01", "--authorised-by", "DPO1"
    )
    assert code == 0 and "destroyed 2 records" in output, output
    issued = sorted(certs.certificates(engine), key=lambda k: k.certificate_id)
    assert len(issued) == 2 and session in {k.record_id for k in issued}

    restored = _restore(backup, restore_target)
    restored_engine = read_engine(restored)
    try:
        assert sentinel in _tables(restored_engine)  # the backup brought it back
        assert certs.certificates(restored_engine) == []
        with opened(restored) as restored_app:
            purges = Purges(restored_app, restored_engine, Ledger(ledger))
            assert len(purges.unapplied()) == 2
            with pytest.raises(PurgesNotApplied, match="oversight retention reapply"):
                refuse_unapplied_purges(purges, Settings(restored))
        # `oversight serve` refuses the restored database.
        result = CliRunner().invoke(
            main,
            ["serve", "--port", "1"],
            env={
                "OVERSIGHT_DATABASE_URL": restored.url,
                "OVERSIGHT_PURGE_LEDGER": str(ledger),
                "OVERSIGHT_ENV": "development",
                "OVERSIGHT_JWKS_FILE": str(tmp_path / "keys" / "dev-jwks.json"),
            },
        )
        assert result.exit_code == 1 and "names 2 destroyed records" in result.output

        caplog.clear()
        caplog.set_level(logging.DEBUG)
        code, output = _cli(restored, ledger, "retention", "reapply")
        assert code == 0 and "destroyed again 2, already destroyed 0" in output, output
        assert_nowhere(sentinel, restored, restored_engine, caplog, output)
        again = sorted(certs.certificates(restored_engine), key=lambda k: k.certificate_id)
        assert again == issued  # the certificates match the ledger's
        assert sorted(Ledger(ledger).read(), key=lambda k: k.certificate_id) == issued

        # Idempotent: a second reapply destroys nothing, and serving is allowed.
        code, output = _cli(restored, ledger, "retention", "reapply")
        assert code == 0 and "destroyed again 0, already destroyed 2" in output, output
        with opened(restored) as restored_app:
            purges = Purges(restored_app, restored_engine, Ledger(ledger))
            assert purges.unapplied() == []
            refuse_unapplied_purges(purges, Settings(restored))
    finally:
        restored_engine.dispose()


def test_the_ledger_is_beside_a_sqlite_file_and_must_be_named_on_postgres(
    database: DatabaseSettings, engine: Engine, tmp_path: Path
) -> None:
    ledger = Ledger.configured(engine, {})
    if database.backend == "sqlite":
        assert ledger == Ledger(Path(f"{database.sqlite_path}.purge-ledger.jsonl"))
    else:
        assert ledger is None
    named = tmp_path / "elsewhere.jsonl"
    assert Ledger.configured(engine, {"OVERSIGHT_PURGE_LEDGER": str(named)}) == Ledger(named)


def test_a_certificate_round_trips_through_the_ledger(tmp_path: Path) -> None:
    certificate = Certificate(
        certificate_id="x", authority_code="LA", subject_kind="worker",
        subject_id=str(uuid.uuid4()), local_id="SW1", record_class="personal_supervision",
        record_id="S1", rule_id="DUR-4.9", due_on=date(2018, 1, 1), as_of=date(2026, 1, 1),
        legal_hold_check="clear", events_rewritten=3, read_model_rows_redacted=7,
        ran_by="schedule", purged_at=datetime(2026, 1, 1, 9, tzinfo=UTC), position=42,
    )  # fmt: skip
    ledger = Ledger(tmp_path / "sub" / "ledger.jsonl")
    ledger.append([certificate])
    ledger.append([certificate])  # a line again: the same certificate
    assert ledger.read() == [certificate]


def test_the_ledger_pairs_each_intent_with_its_certificate_and_reads_old_ledgers(
    tmp_path: Path,
) -> None:
    """Line types (ADR 0018, addendum): an intent is pending until a certificate of its
    record or an abandonment of its command follows; a line without ``line`` is a
    certificate, as every line of a ledger written before intents was."""
    subject = str(uuid.uuid4())

    def intent(record_id: str, command_id: str) -> Intent:
        return Intent(
            command_id=command_id,
            certificate_id=certs.certificate_id("LA", subject, "personal_supervision", record_id),
            authority_code="LA", subject_kind="worker", subject_id=subject, local_id="SW1",
            record_class="personal_supervision", record_id=record_id, rule_id="DUR-4.9",
            due_on=date(2018, 1, 1), as_of=date(2026, 1, 1), authorised_by="DPO1",
            occurred_at=datetime(2026, 1, 1, 10, tzinfo=timezone(timedelta(hours=1))),
            read_model_rows_redacted=7, legal_holds_lifted=1,
        )  # fmt: skip

    done, killed, refused = intent("S1", "p-1"), intent("S2", "p-2"), intent("S3", "p-3")
    certificate = Certificate(
        certificate_id=done.certificate_id, authority_code="LA", subject_kind="worker",
        subject_id=subject, local_id="SW1", record_class="personal_supervision",
        record_id="S1", rule_id="DUR-4.9", due_on=date(2018, 1, 1), as_of=date(2026, 1, 1),
        legal_hold_check="clear", events_rewritten=3, read_model_rows_redacted=7,
        ran_by="DPO1", purged_at=datetime(2026, 1, 1, 9, tzinfo=UTC), position=42,
    )  # fmt: skip
    path = tmp_path / "ledger.jsonl"
    # A ledger of before intents: bare certificate lines.
    old = dict(certificate.to_json(), certificate_id="old", record_id="S0")
    path.write_text(json.dumps(old) + "\n")
    ledger = Ledger(path)
    for each in (done, killed, refused):
        ledger.intend(each)
    ledger.append([certificate])
    ledger.abandon(refused, "held by legal hold H1 (litigation): lift it first")

    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line.get("line") for line in lines] == [
        None, "intent", "intent", "intent", "certificate", "abandoned"
    ]  # fmt: skip
    assert {k.certificate_id for k in ledger.read()} == {"old", certificate.certificate_id}
    assert ledger.pending() == [killed]
    # Its command's time keeps its offset: the command run again is the same command.
    assert ledger.pending()[0].occurred_at.utcoffset() == timedelta(hours=1)

    path.write_text(path.read_text() + '{"line": "promise"}\n')
    with pytest.raises(ValueError, match=r"ledger.jsonl:7: not a ledger line"):
        ledger.read()

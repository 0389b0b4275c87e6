"""The tamper-evident log (issue 20, ADR 0019): every write path chains its events, a
store verifies intact, and a row altered, deleted, inserted or reordered in the
database is named by ``oversight log verify``; purges keep it verifiable; checkpoints
are signed, cover subjects' histories, and catch what the chains alone cannot."""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from application.app import OversightApplication
from domain import commands as c
from domain.events import CaseSupervisionRecorded
from domain.identifiers import child_id
from domain.vocabulary import (
    Role,
)
from oversight.cli import main
from oversight.integrity import (
    LogStore,
    Verification,
    catch_up,
    export_history,
    inclusion_proof,
    inclusion_proofs,
    key_id,
    leaf_hash,
    merkle_root,
    root_from_inclusion,
    verify,
    write_checkpoint,
)
from oversight.settings import DatabaseSettings, psycopg_conninfo
from tests.helpers import (
    AUTHORITY,
    NOW,
    actor,
    case_supervision,
    common,
    register_child,
    setup_team,
)

THEN = datetime(2012, 3, 1, 10, 0, tzinfo=UTC)
DPO = actor("DPO1", Role.DATA_PROTECTION_OFFICER)
TM1 = actor("TM1", Role.SUPERVISOR)


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def _keys(key: Ed25519PrivateKey) -> dict[str, Any]:
    return {key_id(key.public_key()): key.public_key()}


def _populate(app: OversightApplication) -> None:
    """Single commands (the one-statement path on PostgreSQL), a batch (COPY), and
    several events per command."""
    setup_team(app, children=("C1", "C2"))
    for n, child in enumerate(("C1", "C2", "C1")):
        app.execute(case_supervision(NOW - timedelta(hours=30 - n), TM1, child, f"CS{n}"))
    batch = [case_supervision(NOW - timedelta(hours=20 - n), TM1, "C2", f"B{n}") for n in range(5)]
    report = app.execute_batch(batch)
    assert report.executed == 5 and not report.refused


def _sql(database: DatabaseSettings, statement: str, *params: Any) -> list[Any]:
    """Run SQL straight against the database, as someone tampering with it would."""
    if database.backend == "sqlite":
        assert database.sqlite_path is not None
        with sqlite3.connect(database.sqlite_path) as conn:
            return conn.execute(statement.replace("%s", "?"), params).fetchall()
    with psycopg.connect(psycopg_conninfo(database), autocommit=True) as pg:
        cursor = pg.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


def _names(database: DatabaseSettings) -> tuple[str, str]:
    if database.backend == "sqlite":
        return "stored_events", "rowid"
    return "oversight_events", "notification_id"


def _rows(database: DatabaseSettings) -> list[tuple[int, str, int]]:
    table, pos = _names(database)
    return [
        (int(r[0]), str(r[1]), int(r[2]))
        for r in _sql(
            database,
            f"SELECT {pos}, originator_id, originator_version FROM {table} ORDER BY {pos}",
        )
    ]


def _broken(report: Verification) -> int:
    assert not report.intact, "verification must fail"
    first = report.first_broken
    assert first is not None
    return first.position


def test_every_write_path_chains_and_an_untouched_store_verifies(
    database: DatabaseSettings, app: OversightApplication, key: Ed25519PrivateKey
) -> None:
    _populate(app)
    report = verify(database)
    assert report.intact, report.problems
    assert report.events == len(_rows(database)) > 10
    checkpoint = write_checkpoint(database, key)
    assert checkpoint is not None and checkpoint.verify(key.public_key())
    assert write_checkpoint(database, key) is None  # nothing new since
    app.execute(case_supervision(NOW - timedelta(hours=1), TM1, "C1", "CS-late"))
    second = write_checkpoint(database, key)
    assert second is not None and second.previous_hash == checkpoint.digest()
    report = verify(database, _keys(key))
    assert report.intact and report.checkpoints == 2, report.problems
    # Another key's signature is refused.
    other = Ed25519PrivateKey.generate()
    assert not verify(database, _keys(other)).intact


def _middle(database: DatabaseSettings) -> tuple[int, str, int]:
    """An event with events of the same aggregate after it."""
    rows = _rows(database)
    by_aggregate: dict[str, list[tuple[int, str, int]]] = {}
    for row in rows:
        by_aggregate.setdefault(row[1], []).append(row)
    longest = max(by_aggregate.values(), key=len)
    return longest[len(longest) // 2]


def _update_state(database: DatabaseSettings) -> int:
    table, pos = _names(database)
    position, _, _ = _middle(database)
    _sql(database, f"UPDATE {table} SET state = %s WHERE {pos} = %s", b'{"forged":1}', position)
    return position


def _delete_row(database: DatabaseSettings) -> int:
    table, pos = _names(database)
    position, originator, version = _middle(database)
    _sql(database, f"DELETE FROM {table} WHERE {pos} = %s", position)
    # Named at the next event of the same aggregate, which no longer follows.
    return next(p for p, o, v in _rows(database) if o == originator and v > version)


def _insert_forged(database: DatabaseSettings) -> int:
    table, _ = _names(database)
    _, originator, _ = _middle(database)
    head = max(v for _, o, v in _rows(database) if o == originator)
    _sql(
        database,
        f"INSERT INTO {table} (originator_id, originator_version, topic, state, commitment, "
        "chain_hash) VALUES (%s, %s, %s, %s, %s, %s)",
        originator,
        head + 1,
        f"domain.child:Child.{CaseSupervisionRecorded.__name__}",
        b"{}",
        bytes(32),
        bytes(32),
    )
    return max(p for p, _, _ in _rows(database))


def _swap_versions(database: DatabaseSettings) -> int:
    table, pos = _names(database)
    position, originator, version = _middle(database)
    following = next(p for p, o, v in _rows(database) if o == originator and v == version + 1)
    # Through a free version, as the key allows only one row per version at a time.
    swap = f"UPDATE {table} SET originator_version = %s WHERE {pos} = %s"
    _sql(database, swap, -1, position)
    _sql(database, swap, version, following)
    _sql(database, swap, version + 1, position)
    return position


def _swap_positions(database: DatabaseSettings) -> int:
    table, _ = _names(database)
    rows = _rows(database)
    # Two neighbours of different aggregates: each chain alone still reads in order.
    first, second = next((a, b) for a, b in itertools.pairwise(rows) if a[1] != b[1])
    if database.backend == "sqlite":
        swap = f"UPDATE {table} SET rowid = %s WHERE rowid = %s"
    else:
        swap = f"UPDATE {table} SET notification_id = %s WHERE notification_id = %s"
    _sql(database, swap, -1, first[0])
    _sql(database, swap, first[0], second[0])
    _sql(database, swap, second[0], -1)
    return first[0]


TAMPERING: dict[str, Callable[[DatabaseSettings], int]] = {
    "update state": _update_state,
    "delete a row": _delete_row,
    "insert a forged row": _insert_forged,
    "swap two versions": _swap_versions,
    "swap two positions": _swap_positions,
}


@pytest.mark.parametrize("tamper", TAMPERING, ids=list(TAMPERING))
def test_tampering_is_named_at_the_first_broken_position(
    database: DatabaseSettings, app: OversightApplication, tamper: str
) -> None:
    _populate(app)
    assert verify(database).intact
    broken = TAMPERING[tamper](database)
    assert _broken(verify(database)) == broken


def test_a_checkpoint_catches_an_aggregates_last_event_deleted(
    database: DatabaseSettings, app: OversightApplication, key: Ed25519PrivateKey
) -> None:
    """Deleting an aggregate's last event leaves its chain whole; the signed checkpoint
    over the log is what notices."""
    _populate(app)
    assert write_checkpoint(database, key) is not None
    table, pos = _names(database)
    rows = _rows(database)
    last = {o: p for p, o, _ in rows}
    victim = min(last.values())
    _sql(database, f"DELETE FROM {table} WHERE {pos} = %s", victim)
    report = verify(database, _keys(key))
    assert _broken(report) == 1
    assert "checkpoint 1" in str(report.first_broken)


def test_a_checkpoint_catches_a_rewritten_chain(
    database: DatabaseSettings, app: OversightApplication, key: Ed25519PrivateKey
) -> None:
    """Someone who recomputes the chain after altering an event (the hashes are not
    secret) still cannot match the signed root."""
    from oversight.integrity import GENESIS, commitment, link

    _populate(app)
    assert write_checkpoint(database, key) is not None
    table, pos = _names(database)
    position, originator, _ = _middle(database)
    _sql(database, f"UPDATE {table} SET state = %s WHERE {pos} = %s", b'{"forged":1}', position)
    # Re-chain that aggregate from scratch, as a careful forger would.
    with LogStore(database) as store:
        from uuid import UUID

        rows = store.subject_rows(UUID(originator))
    previous = GENESIS
    for row in rows:
        assert row.salt is not None
        committed = commitment(row.salt, row.topic, row.state)
        chained = link(previous, row.originator_id, row.version, row.position, committed)
        _sql(
            database,
            f"UPDATE {table} SET commitment = %s, chain_hash = %s WHERE {pos} = %s",
            committed,
            chained,
            row.position,
        )
        previous = chained
    report = verify(database, _keys(key))
    # The chains alone are fooled; the signed root is not.
    assert report.problems and all("checkpoint 1" in str(p) for p in report.problems)


# -- purges ------------------------------------------------------------------------------


def _purge_scenario(app: OversightApplication) -> None:
    """A child in need only, born 1990 (due 2015 [RET-CIN]) with a read on its access
    log, and a child kept; then the old child's record is purged."""
    setup_team(app)
    register_child(app, "C-OLD", when=THEN, date_of_birth=date(1990, 1, 5), case_type="cin")
    app.execute(
        c.TriggerOversight(
            **common(THEN + timedelta(days=2)),
            child_id="C-OLD",
            trigger_id="T1",
            kind="drift_or_delay",
            detail="Drift noticed",
        )
    )
    app.execute(
        c.RecordAccess(
            **common(datetime.now(UTC) - timedelta(days=10), actor("AUD1", Role.AUDITOR)),
            child_id="C-OLD",
            what="case file",
            purpose="Review",
        )
    )
    app.execute(case_supervision(NOW - timedelta(hours=3), TM1, "C1", "CS1"))
    app.execute(
        c.PurgeRecord(
            **common(who=DPO),
            child_id="C-OLD",
            record_class="child_record",
            record_id="C-OLD",
            as_of=date(2026, 1, 1),
        )
    )
    app.execute(case_supervision(NOW - timedelta(hours=2), TM1, "C1", "CS2"))


def test_a_purge_keeps_the_log_verifiable_and_its_tombstones_guarded(
    database: DatabaseSettings, app: OversightApplication, key: Ed25519PrivateKey
) -> None:
    # Checkpointed before the purge too: the purge must not disturb what was signed.
    setup_team(app)
    register_child(app, "C-OLD", when=THEN, date_of_birth=date(1990, 1, 5), case_type="cin")
    assert write_checkpoint(database, key) is not None
    app.execute(
        c.RecordAccess(
            **common(datetime.now(UTC) - timedelta(days=10), actor("AUD1", Role.AUDITOR)),
            child_id="C-OLD",
            what="case file",
            purpose="Review",
        )
    )
    app.execute(
        c.PurgeRecord(
            **common(who=DPO),
            child_id="C-OLD",
            record_class="child_record",
            record_id="C-OLD",
            as_of=date(2026, 1, 1),
        )
    )
    app.execute(case_supervision(NOW - timedelta(hours=2), TM1, "C1", "CS2"))
    assert write_checkpoint(database, key) is not None
    report = verify(database, _keys(key))
    assert report.intact, report.problems
    assert report.purged >= 2  # the registration and the read
    table, pos = _names(database)
    tombstones = _sql(
        database, f"SELECT {pos}, salt, purged_by FROM {table} WHERE purged_by IS NOT NULL"
    )
    assert tombstones and all(salt is None for _, salt, _ in tombstones)
    # The purged child's history still checks offline: commitments without content.
    exported = export_history(database, child_id(AUTHORITY, "C-OLD"))
    assert any(e["salt"] is None for e in exported["events"])
    assert any(e["redactions"] is not None for e in exported["events"])
    namespace: dict[str, Any] = {}
    exec(compile(_doc_snippet(), "verifying-a-history.md", "exec"), namespace)
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert namespace["verify_history"](exported, public_pem)[1] == len(exported["events"])
    # Altering a tombstone breaks the purge's link.
    victim = min(int(p) for p, _, _ in tombstones)
    purge_position = int(tombstones[0][2])
    _sql(
        database,
        f"UPDATE {table} SET state = %s WHERE {pos} = %s",
        b'{"record_id":"someone else"}',
        victim,
    )
    broken = verify(database, _keys(key))
    assert _broken(broken) == purge_position
    assert f"positions {victim}" in str(broken.first_broken)


def test_a_purge_scenario_verifies_through_the_cli(
    database: DatabaseSettings,
    app: OversightApplication,
    key: Ed25519PrivateKey,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _purge_scenario(app)
    pem = tmp_path / "log-key.pem"
    pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    monkeypatch.setenv("OVERSIGHT_DATABASE_URL", database.url)
    monkeypatch.setenv("OVERSIGHT_LOG_SIGNING_KEY_FILE", str(pem))
    runner = CliRunner()
    written = runner.invoke(main, ["log", "checkpoint"])
    assert written.exit_code == 0, written.output
    assert "checkpoint 1" in written.output
    public = runner.invoke(main, ["log", "public-key"])
    assert public.exit_code == 0 and "BEGIN PUBLIC KEY" in public.output
    checked = runner.invoke(main, ["log", "verify"])
    assert checked.exit_code == 0, checked.output
    assert "intact" in checked.output
    scoped = runner.invoke(main, ["log", "verify", "--authority", AUTHORITY])
    assert scoped.exit_code == 0, scoped.output
    position = _update_state(database)
    failed = runner.invoke(main, ["log", "verify"])
    assert failed.exit_code == 1
    assert f"first broken position: {position}" in failed.output


# -- the auditor's check -----------------------------------------------------------------


def test_merkle_proofs_verify_for_every_leaf_of_every_size() -> None:
    for size in range(1, 34):
        leaves = [leaf_hash(bytes([n]) * 32) for n in range(size)]
        root = merkle_root(leaves)
        together_root, together = inclusion_proofs(leaves, range(size))
        assert together_root == root
        for index in range(size):
            proof = inclusion_proof(leaves, index)
            assert together[index] == proof
            assert root_from_inclusion(leaves[index], index, size, proof) == root
            if size > 1:
                assert root_from_inclusion(leaves[index], index, size, proof[:-1]) != root
                other = (index + 1) % size
                assert root_from_inclusion(leaves[other], index, size, proof) != root


def test_a_long_log_is_caught_up_by_bounded_checkpoints(
    database: DatabaseSettings,
    app: OversightApplication,
    key: Ed25519PrivateKey,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import oversight.integrity

    _populate(app)
    monkeypatch.setattr(oversight.integrity, "MAX_LEAVES", 4)
    written = catch_up(database, key)
    total = len(_rows(database))
    assert len(written) == -(-total // 4)
    assert [c.leaf_count for c in written][:-1] == [4] * (len(written) - 1)
    report = verify(database, _keys(key))
    assert report.intact and report.checkpoints == len(written), report.problems
    # Each aggregate is covered by the checkpoint holding its last event.
    exported = export_history(database, child_id(AUTHORITY, "C2"))
    last = exported["events"][-1]
    assert exported["coverage"]["position"] == last["position"]


@pytest.fixture
def exported(
    database: DatabaseSettings, app: OversightApplication, key: Ed25519PrivateKey
) -> Iterator[dict[str, Any]]:
    _populate(app)
    assert write_checkpoint(database, key) is not None
    yield export_history(database, child_id(AUTHORITY, "C2"))


def test_the_documented_offline_check_verifies_an_exported_history(
    exported: dict[str, Any], key: Ed25519PrivateKey
) -> None:
    """The snippet in docs/verifying-a-history.md, run as written, on a real export."""
    snippet = _doc_snippet()
    namespace: dict[str, Any] = {}
    exec(compile(snippet, "verifying-a-history.md", "exec"), namespace)
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert exported["coverage"] is not None
    result = namespace["verify_history"](exported, public_pem)
    assert result == (exported["coverage"]["checkpoint"]["number"], len(exported["events"]))
    # Any change to the history is refused.
    forged = {**exported, "events": [dict(e) for e in exported["events"]]}
    forged["events"][1]["salt"] = "00" * 16
    with pytest.raises(ValueError):
        namespace["verify_history"](forged, public_pem)
    dropped = {**exported, "events": exported["events"][:-1]}
    with pytest.raises(ValueError):
        namespace["verify_history"](dropped, public_pem)
    other = (
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(ValueError):
        namespace["verify_history"](exported, other)


def _doc_snippet() -> str:
    doc = Path(__file__).resolve().parents[2] / "docs" / "verifying-a-history.md"
    text = doc.read_text(encoding="utf-8")
    start = text.index("```python\n") + len("```python\n")
    return text[start : text.index("```\n", start)]


def test_migration_chains_a_store_written_before_it(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """A store at 0008 (today's main) verifies after the upgrade to 0009."""
    from oversight.schema import upgrade
    from tests.conftest import drop_postgres_database, new_postgres_database
    from tests.helpers import opened

    if backend == "sqlite":
        database = DatabaseSettings.from_url(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    else:
        database = DatabaseSettings.from_url(new_postgres_database())
    try:
        upgrade(database, "0008")
        _write_as_0008(database)
        upgrade(database)
        report = verify(database)
        assert report.intact, report.problems
        assert report.events == 3
        with opened(database) as app:  # and it goes on from there
            setup_team(app)
        assert verify(database).intact
    finally:
        if backend == "postgres":
            drop_postgres_database(database.url)


def _write_as_0008(database: DatabaseSettings) -> None:
    """Three events of two aggregates, as the 0008 recorders wrote them (no chain)."""
    from uuid import uuid4

    table, _ = _names(database)
    a, b = uuid4(), uuid4()
    for originator, version in ((a, 1), (b, 1), (a, 2)):
        _sql(
            database,
            f"INSERT INTO {table} (originator_id, originator_version, topic, state) "
            "VALUES (%s, %s, %s, %s)",
            originator.hex if database.backend == "sqlite" else originator,
            version,
            "tests:Event",
            b'{"n":1}',
        )


def test_the_signing_key_comes_from_configuration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from oversight.settings import (
        DEVELOPMENT_LOG_SIGNING_KEY,
        SettingsError,
        log_signing_key_file,
    )

    assert log_signing_key_file({}) is None  # production: none unless configured
    development = {"OVERSIGHT_ENV": "development"}
    assert log_signing_key_file(development) == DEVELOPMENT_LOG_SIGNING_KEY
    with pytest.raises(SettingsError, match="OVERSIGHT_LOG_SIGNING_KEY_FILE"):
        log_signing_key_file({"OVERSIGHT_LOG_SIGNING_KEY_FILE": str(tmp_path / "missing.pem")})
    # The CLI refuses to sign without a key, and makes one in development.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OVERSIGHT_DATABASE_URL", f"sqlite:///{tmp_path / 'none.sqlite3'}")
    monkeypatch.delenv("OVERSIGHT_LOG_SIGNING_KEY_FILE", raising=False)
    monkeypatch.setenv("OVERSIGHT_ENV", "production")
    refused = CliRunner().invoke(main, ["log", "public-key"])
    assert refused.exit_code == 1 and "OVERSIGHT_LOG_SIGNING_KEY_FILE" in refused.output
    monkeypatch.setenv("OVERSIGHT_ENV", "development")
    made = CliRunner().invoke(main, ["log", "public-key"])
    assert made.exit_code == 0 and "BEGIN PUBLIC KEY" in made.output
    assert (tmp_path / DEVELOPMENT_LOG_SIGNING_KEY).exists()
    assert CliRunner().invoke(main, ["log", "public-key"]).output == made.output

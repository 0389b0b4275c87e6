"""Purge certificates: what was destroyed, under which rule, checked how, by whom and
when; no personal data (ADR 0018).

Each certificate goes to two places: the ``purge_certificates`` table (migration 0008),
queried by the API and the CLI, and an append-only JSON-lines ledger outside the database
(``OVERSIGHT_PURGE_LEDGER``), because restoring a backup restores the table too: the
ledger is what says, after a restore, which records must be destroyed again.

The ledger's lines, one JSON object each (ADR 0018, addendum of 2026-12-03):

- ``"line": "intent"``: a purge about to run, written and fsynced *before* its command,
  so a process killed between the command's commit and its certificate still leaves a
  trace outside the database: the record, the rule and due day, who authorised it, the
  command (its id and time: executing it again replays it where it committed);
- ``"line": "certificate"``, or no ``line`` at all (every line of a ledger written before
  intents existed): a destroyed record's certificate, the fields of ``Certificate``;
- ``"line": "abandoned"``: an intent whose command the domain refused when it ran (the
  record changed between the check and the command), so it certainly did not commit.

An intent is *pending* while no certificate for its record (the same
``certificate_id``) and no abandonment of its command follow it: its purge may or may
not have committed, and ``oversight retention reapply`` settles it.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    or_,
    select,
)
from sqlalchemy.exc import IntegrityError

from projections.engine import utc

#: The setting naming the ledger file.
LEDGER_SETTING = "OVERSIGHT_PURGE_LEDGER"
#: A SQLite store's ledger, when the setting is not given: beside the database file.
SQLITE_LEDGER_SUFFIX = ".purge-ledger.jsonl"

_NAMESPACE = uuid.UUID("6f0c5a52-4a5e-4c1e-9b1a-2d7b0b9e8f11")

metadata = MetaData()

#: Made by migration 0008; one row per destroyed record.
purge_certificates = Table(
    "purge_certificates",
    metadata,
    Column("certificate_id", String(36), primary_key=True),
    Column("authority_code", String(100), nullable=False),
    Column("subject_kind", String(10), nullable=False),
    Column("subject_id", String(36), nullable=False),
    Column("local_id", String(200), nullable=False),
    Column("record_class", String(40), nullable=False),
    Column("record_id", String(200), nullable=False),
    Column("rule_id", String(50), nullable=False),
    Column("due_on", Date, nullable=False),
    Column("as_of", Date, nullable=False),
    Column("legal_hold_check", String(200), nullable=False),
    Column("events_rewritten", Integer, nullable=False),
    Column("read_model_rows_redacted", Integer, nullable=False),
    Column("ran_by", String(200), nullable=False),
    Column("purged_at", DateTime(timezone=True), nullable=False),
    Column("position", BigInteger, nullable=False),
)


def certificate_id(authority_code: str, subject_id: str, record_class: str, record_id: str) -> str:
    """One record, one certificate: the same id however often it is destroyed again."""
    return str(uuid.uuid5(_NAMESPACE, f"{authority_code}/{subject_id}/{record_class}/{record_id}"))


@dataclass(frozen=True)
class Certificate:
    """A destroyed record, without its content or anyone's name."""

    certificate_id: str
    authority_code: str
    subject_kind: str  # worker | child
    subject_id: str  # the aggregate's UUID
    local_id: str  # the staff id or the child's id in the authority (an identifier)
    record_class: str
    record_id: str
    rule_id: str  # the retention rule cited, e.g. DUR-4.9
    due_on: date  # when its retention period ended
    as_of: date  # the day the purge checked due dates against
    legal_hold_check: str  # what the check of legal holds found
    events_rewritten: int  # stored events rewritten into tombstones
    read_model_rows_redacted: int  # read-model rows redacted or deleted
    ran_by: str  # the data protection officer's staff id, or "schedule"
    purged_at: datetime
    position: int  # the RecordPurged event's position in the log

    def to_json(self) -> dict[str, Any]:
        return {
            k: v.isoformat() if isinstance(v, date | datetime) else v
            for k, v in asdict(self).items()
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Certificate:
        values = {f.name: data[f.name] for f in fields(cls)}
        values["due_on"] = date.fromisoformat(str(values["due_on"]))
        values["as_of"] = date.fromisoformat(str(values["as_of"]))
        values["purged_at"] = utc(datetime.fromisoformat(str(values["purged_at"])))
        values["events_rewritten"] = int(values["events_rewritten"])
        values["read_model_rows_redacted"] = int(values["read_model_rows_redacted"])
        values["position"] = int(values["position"])
        return cls(**values)

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> Certificate:
        values = {f.name: row[f.name] for f in fields(cls)}
        values["purged_at"] = utc(values["purged_at"])
        for name in ("due_on", "as_of"):
            if not isinstance(values[name], date):
                values[name] = date.fromisoformat(str(values[name])[:10])
        return cls(**values)


COLUMNS = [f.name for f in fields(Certificate)]

#: The ``line`` of each kind of ledger line (a line without one is a certificate).
INTENT, CERTIFICATE, ABANDONED = "intent", "certificate", "abandoned"


@dataclass(frozen=True)
class Intent:
    """A purge about to run: enough to run its command again, and to certify it without
    reading what the purge destroys (the read-model rows were counted before it)."""

    command_id: str
    certificate_id: str  # the certificate it will have: matches the two lines
    authority_code: str
    subject_kind: str  # worker | child
    subject_id: str
    local_id: str
    record_class: str
    record_id: str
    rule_id: str
    due_on: date
    as_of: date
    authorised_by: str  # the officer's staff id, or "schedule"
    occurred_at: datetime  # the command's: the same command again is a replay
    read_model_rows_redacted: int  # counted before the command
    legal_holds_lifted: int  # on the subject before the command

    def to_json(self) -> dict[str, Any]:
        return {
            "line": INTENT,
            **{
                k: v.isoformat() if isinstance(v, date | datetime) else v
                for k, v in asdict(self).items()
            },
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Intent:
        values = {f.name: data[f.name] for f in fields(cls)}
        values["due_on"] = date.fromisoformat(str(values["due_on"]))
        values["as_of"] = date.fromisoformat(str(values["as_of"]))
        # Its offset as given (not made UTC): the command's fingerprint includes it.
        values["occurred_at"] = datetime.fromisoformat(str(values["occurred_at"]))
        values["read_model_rows_redacted"] = int(values["read_model_rows_redacted"])
        values["legal_holds_lifted"] = int(values["legal_holds_lifted"])
        return cls(**values)


@dataclass(frozen=True)
class LedgerContents:
    """A ledger read once: its certificates (the latest line per id) and its intents
    still pending, in the order they were written."""

    certificates: list[Certificate]
    pending: list[Intent]


class LedgerMissing(RuntimeError):
    """No ledger is configured where one is required."""


@dataclass(frozen=True)
class Ledger:
    """The append-only JSON-lines file of every certificate issued."""

    path: Path

    @classmethod
    def configured(cls, engine: Engine, environ: Mapping[str, str] | None = None) -> Ledger | None:
        """``OVERSIGHT_PURGE_LEDGER``; else, for SQLite, beside the database file; else
        (PostgreSQL) none: purging then refuses, since a restore could not be undone."""
        env = os.environ if environ is None else environ
        given = env.get(LEDGER_SETTING, "")
        if given:
            return cls(Path(given))
        if engine.dialect.name == "sqlite" and engine.url.database:
            return cls(Path(engine.url.database + SQLITE_LEDGER_SUFFIX))
        return None

    def append(self, certificates: Iterable[Certificate]) -> None:
        """Append certificates and flush them to disk before the caller goes on."""
        self._write([{"line": CERTIFICATE, **k.to_json()} for k in certificates])

    def intend(self, intent: Intent) -> None:
        """Record a purge about to run, on disk before its command may commit."""
        self._write([intent.to_json()])

    def abandon(self, intent: Intent, reason: str) -> None:
        """Record that an intent's command was refused, so certainly never committed."""
        self._write([{"line": ABANDONED, "command_id": intent.command_id, "reason": reason}])

    def _write(self, entries: list[dict[str, Any]]) -> None:
        """Append whole lines (``O_APPEND``) and fsync them; a new file's directory entry
        too, or a crash could lose the file with its first line."""
        lines = "".join(json.dumps(e, sort_keys=True) + "\n" for e in entries).encode()
        if not lines:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        created = not self.path.exists()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(fd, lines)
            os.fsync(fd)
        finally:
            os.close(fd)
        if created:
            directory = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)

    def read(self) -> list[Certificate]:
        """Every certificate in the ledger, the latest line per certificate id winning."""
        return self.contents().certificates

    def pending(self) -> list[Intent]:
        """Intents with neither a certificate nor an abandonment: maybe committed."""
        return self.contents().pending

    def contents(self) -> LedgerContents:
        """Every line read and matched: certificates, and the intents still pending."""
        if not self.path.exists():
            return LedgerContents([], [])
        found: dict[str, Certificate] = {}
        intents: dict[str, Intent] = {}
        abandoned: set[str] = set()
        with self.path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                try:
                    data = json.loads(line)
                    kind = data.get("line", CERTIFICATE)
                    if kind == INTENT:
                        intent = Intent.from_json(data)
                        intents[intent.command_id] = intent
                    elif kind == ABANDONED:
                        abandoned.add(str(data["command_id"]))
                    elif kind == CERTIFICATE:
                        certificate = Certificate.from_json(data)
                        found[certificate.certificate_id] = certificate
                    else:
                        raise ValueError(f"unknown line {kind!r}")
                except (ValueError, KeyError, TypeError, AttributeError) as error:
                    raise ValueError(f"{self.path}:{number}: not a ledger line ({error})") from None
        pending = [
            i
            for i in intents.values()
            if i.certificate_id not in found and i.command_id not in abandoned
        ]
        return LedgerContents(list(found.values()), pending)


def store(engine: Engine, certificates: Iterable[Certificate]) -> int:
    """Write the certificates not already in the table; how many were new (idempotent)."""
    written = 0
    for certificate in certificates:
        try:
            with engine.begin() as conn:
                exists = conn.execute(
                    select(purge_certificates.c.certificate_id).where(
                        purge_certificates.c.certificate_id == certificate.certificate_id
                    )
                ).first()
                if exists is None:
                    conn.execute(purge_certificates.insert().values(**asdict(certificate)))
                    written += 1
        except IntegrityError:
            continue  # written meanwhile by another run: the same certificate
    return written


def stored_ids(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return {str(i) for i in conn.execute(select(purge_certificates.c.certificate_id)).scalars()}


def certificates(
    engine: Engine,
    *,
    authority_code: str | None = None,
    first: int | None = None,
    after: tuple[datetime, str] | None = None,
) -> list[Certificate]:
    """Certificates in the order they were issued (``purged_at``, then id); ``after`` is
    the key of the last one of the page before."""
    table = purge_certificates
    query = select(table)
    if authority_code is not None:
        query = query.where(table.c.authority_code == authority_code)
    if after is not None:
        when, last_id = after
        query = query.where(
            or_(
                table.c.purged_at > when,
                and_(table.c.purged_at == when, table.c.certificate_id > last_id),
            )
        )
    query = query.order_by(table.c.purged_at, table.c.certificate_id)
    if first is not None:
        query = query.limit(first)
    with engine.connect() as conn:
        return [Certificate.from_row(r) for r in conn.execute(query).mappings()]


def rows(found: Iterable[Certificate]) -> Iterator[dict[str, Any]]:
    """Certificates as flat rows (CSV, JSON)."""
    for certificate in found:
        yield certificate.to_json()

"""Imports as jobs (issue 21, ADR 0025): what every sector-format importer shares.

Every importer (SSDA903, Annex A, workforce census, CIN census) reports the same way,
rehearses the same way and ends the same way. To adopt it, an importer:

1. reads each file with ``read_csv`` (or its own reader, raising ``FileProblem`` for a
   file it cannot read at all: wrong format, wrong encoding, empty, truncated or
   hostile), before anything is written;
2. makes one ``Job(app, importer=..., dry_run=...)`` and, per source row, calls
   ``job.read(file)``, then either ``job.reject(file, row, subject, rule, message)``
   (a row that breaks a rule: the DfE validation rule's code where there is one) or
   ``job.run(file, row, subject, steps)`` with the row's commands, each a ``Step``
   naming the catalogue event it records and the source code that means it;
3. returns ``job.report``. The CLI writes it (``--report FILE``, CSV or JSON by the
   suffix) and exits 0 (every row accepted), 1 (finished with rejections) or 2 (a
   ``FileProblem``: failed, nothing written).

A row's commands are decided all or nothing, in memory, as ``execute_atomically`` would
decide them (``application.batching.Rows``), and the accepted rows are written together,
about ``WRITE_EVERY`` commands a transaction, and at ``Job.finish``; on a dry run nothing
is written. (One transaction a row made the SSDA903 sample take 141 s on PostgreSQL
against 7.5 s so; ADR 0015's addendum.) Command
ids come from each row's identity, so a second run replays; a command whose id was used
for other content (``IdempotencyKeyReused``) is the same row corrected, and the
importer's ``correct`` callback turns it into the command that records the correction.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from eventsourcing.persistence import IntegrityError

from application.app import OversightApplication
from application.batching import CommandRefused, Rows
from application.receipts import CommandResult
from domain import commands as c
from domain.errors import DomainError, IdempotencyKeyReused
from domain.events import EventType

#: Accepted rows are written together once their commands reach this many.
WRITE_EVERY = 2_000
#: The largest file an importer reads.
MAX_BYTES = 50 * 1024 * 1024
#: Exit statuses: every row accepted; finished, with rejections; failed, nothing written.
ACCEPTED, REJECTIONS, FAILED = 0, 1, 2

Progress = Callable[[int, int], None]


class ImportInterrupted(RuntimeError):
    """Another writer changed records this import had decided on before it wrote them:
    nothing since its last write was written. Running the import again replays what was
    written and decides the rest against the records as they now are."""

    def __init__(self, rows: int) -> None:
        super().__init__(
            f"another writer changed these records during the import; the last {rows} "
            "rows decided were not written: run the import again (it replays what was "
            "written)"
        )


class FileProblem(ValueError):
    """A file that cannot be read at all: names the file and the problem."""

    def __init__(self, file: str, problem: str) -> None:
        problem = " ".join(problem.split())  # one line, whatever a parser said
        super().__init__(f"{file}: {problem}")
        self.file, self.problem = file, problem


@dataclass(frozen=True)
class Step:
    """One command of a row, the catalogue event it records, and the source code (column
    and value) that means it, for the per-code reconciliation."""

    command: c.Command
    records: EventType
    code: tuple[str, str] = ("", "")
    #: Records a correction of what an earlier import recorded.
    correction: bool = False


@dataclass(frozen=True)
class Rejection:
    """A row not imported: where, whose, the rule it breaks and why."""

    file: str
    row: int
    subject: str | None
    rule: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.row}" if self.row else self.file
        return f"{where} {self.subject or '-'} [{self.rule}] {self.message}"


@dataclass
class Tally:
    """One source code: rows carrying it read, accepted and rejected, and the events its
    meaning recorded (by catalogue name)."""

    read: int = 0
    accepted: int = 0
    rejected: int = 0
    events: Counter[str] = field(default_factory=Counter)


@dataclass
class JobReport:
    """Rows read, accepted and rejected per file and per code; events recorded by kind,
    replayed and corrected; each rejection. ``read == accepted + rejected`` per file."""

    importer: str
    dry_run: bool = False
    read: dict[str, int] = field(default_factory=dict)
    accepted: dict[str, int] = field(default_factory=dict)
    rejected: list[Rejection] = field(default_factory=list)
    codes: dict[tuple[str, str, str], Tally] = field(default_factory=dict)
    #: Events recorded (would be, on a dry run), by catalogue name.
    events: Counter[str] = field(default_factory=Counter)
    recorded: int = 0
    replayed: int = 0
    corrections: int = 0
    #: What was inferred for an accepted row (a missing role, say).
    notes: list[Rejection] = field(default_factory=list)

    def rejected_in(self, file: str) -> int:
        return sum(1 for r in self.rejected if r.file == file)

    def balanced(self) -> bool:
        return all(
            read == self.accepted.get(name, 0) + self.rejected_in(name)
            for name, read in self.read.items()
        )

    @property
    def exit_status(self) -> int:
        return REJECTIONS if self.rejected else ACCEPTED

    def as_dict(self) -> dict[str, Any]:
        return {
            "importer": self.importer,
            "dry_run": self.dry_run,
            "files": [
                {"file": name, "read": read, "accepted": self.accepted.get(name, 0),
                 "rejected": self.rejected_in(name)}
                for name, read in self.read.items()
            ],
            "codes": [
                {"file": f, "column": col, "code": code, "read": t.read, "accepted": t.accepted,
                 "rejected": t.rejected, "events": dict(sorted(t.events.items()))}
                for (f, col, code), t in sorted(self.codes.items())
            ],
            "events": dict(sorted(self.events.items())),
            "recorded": self.recorded,
            "replayed": self.replayed,
            "corrections": self.corrections,
            "rejections": [_rejection(r) for r in self.rejected],
            "notes": [_rejection(r) for r in self.notes],
        }  # fmt: skip

    def write(self, path: Path) -> None:
        """As JSON (``.json``) or CSV (anything else): one row per file, code, event
        kind, total, rejection and note, each with its section in ``section``."""
        if path.suffix.lower() == ".json":
            path.write_text(json.dumps(self.as_dict(), indent=2) + "\n", encoding="utf-8")
            return
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(CSV_COLUMNS)
            for row in self.csv_rows():
                writer.writerow([row.get(column, "") for column in CSV_COLUMNS])

    def csv_rows(self) -> Iterator[dict[str, Any]]:
        data = self.as_dict()
        for item in data["files"]:
            yield {"section": "file", **item}
        for item in data["codes"]:
            events = item.pop("events")
            yield {"section": "code", **item, "events": sum(events.values()),
                   "event": " ".join(f"{k}={v}" for k, v in events.items())}  # fmt: skip
        for name, count in data["events"].items():
            yield {"section": "event", "event": name, "events": count}
        for total in ("recorded", "replayed", "corrections"):
            yield {"section": "total", "event": total, "events": data[total]}
        for item in data["rejections"]:
            yield {"section": "rejection", **item}
        for item in data["notes"]:
            yield {"section": "note", **item}


CSV_COLUMNS = (
    "section", "file", "column", "code", "read", "accepted", "rejected", "events", "event",
    "row", "subject", "rule", "message",
)  # fmt: skip


def _rejection(r: Rejection) -> dict[str, Any]:
    return {"file": r.file, "row": r.row, "subject": r.subject or "", "rule": r.rule,
            "message": r.message}  # fmt: skip


#: Turns a command refused as a reuse of its id (the same row, other content) into the
#: steps that record the correction; none: the row is rejected as the reuse.
Correct = Callable[[Step, OversightApplication], Sequence[Step] | None]


class Job:
    """One import run: its rows' commands executed (or rehearsed) and reported."""

    def __init__(
        self,
        app: OversightApplication,
        *,
        importer: str,
        dry_run: bool = False,
        correct: Correct | None = None,
    ) -> None:
        self.app = app
        self.report = JobReport(importer, dry_run)
        self.correct = correct
        self._rows = Rows(app, dry_run=dry_run)
        #: Rows decided since the last write.
        self._unwritten = 0

    def read(self, file: str, codes: Sequence[tuple[str, str]] = ()) -> None:
        """A row read from ``file`` (with the codes it carries, for the reconciliation)."""
        self.report.read[file] = self.report.read.get(file, 0) + 1
        for column, code in codes:
            self._tally(file, column, code).read += 1

    def reject(
        self,
        file: str,
        row: int,
        subject: str | None,
        rule: str,
        message: str,
        codes: Sequence[tuple[str, str]] = (),
    ) -> None:
        self.report.rejected.append(Rejection(file, row, subject, rule, message))
        for column, code in codes:
            self._tally(file, column, code).rejected += 1

    def note(self, file: str, row: int, subject: str | None, rule: str, message: str) -> None:
        self.report.notes.append(Rejection(file, row, subject, rule, message))

    def accept(self, file: str, codes: Sequence[tuple[str, str]] = ()) -> None:
        """A row accepted that needed no command of its own (its facts already stand)."""
        self.report.accepted[file] = self.report.accepted.get(file, 0) + 1
        for column, code in codes:
            self._tally(file, column, code).accepted += 1

    def run(
        self,
        file: str,
        row: int,
        subject: str | None,
        steps: Sequence[Step],
        codes: Sequence[tuple[str, str]] = (),
    ) -> bool:
        """The row's steps, all or nothing: accepted (True), or rejected with the
        domain's rule. A step whose id is reused for other content is corrected."""
        steps = list(steps)
        for _ in range(len(steps) + 1):
            try:
                results = self._execute([s.command for s in steps])
            except CommandRefused as refused:
                fixed = self._corrected(steps, refused)
                if fixed is not None:
                    steps = fixed
                    continue
                error = refused.error
                self.reject(file, row, subject, error.rule or error.code, str(refused), codes)
                return False
            except DomainError as error:  # a lost race, retried and lost again
                self.reject(file, row, subject, error.rule or error.code, str(error), codes)
                return False
            self._count(file, steps, results, codes)
            self._unwritten += 1
            if self._rows.pending >= WRITE_EVERY:
                self._write()
            return True
        raise AssertionError("unreachable: each pass corrects one more step")

    def expect(self, commands: Sequence[c.Command]) -> None:
        """Commands of rows about to be run: their receipts are asked of the store in one
        query, not one a row (a query a row cost the SSDA903 sample a minute on
        PostgreSQL)."""
        self._rows.prefetch(commands)

    @property
    def view(self) -> OversightApplication:
        """The records as this job's decided rows left them, written or not: what an
        importer reads to plan its next row."""
        return self._rows.view

    def finish(self) -> JobReport:
        """Write what is decided and not yet written; the report."""
        self._write()
        return self.report

    def _write(self) -> None:
        try:
            self._rows.write()
        except IntegrityError:
            raise ImportInterrupted(self._unwritten) from None
        self._unwritten = 0

    def _execute(self, commands: Sequence[c.Command]) -> list[CommandResult]:
        return self._rows.decide(commands)

    def _corrected(self, steps: list[Step], refused: CommandRefused) -> list[Step] | None:
        if not isinstance(refused.error, IdempotencyKeyReused) or self.correct is None:
            return None
        index = next(i for i, s in enumerate(steps) if s.command is refused.command)
        instead = self.correct(steps[index], self.view)
        if instead is None:
            return None
        fixed = [replace(step, correction=True) for step in instead]
        return [*steps[:index], *fixed, *steps[index + 1 :]]

    def _count(
        self,
        file: str,
        steps: Sequence[Step],
        results: Sequence[CommandResult],
        codes: Sequence[tuple[str, str]],
    ) -> None:
        report = self.report
        self.accept(file, codes)
        for step, result in zip(steps, results, strict=True):
            if result.replayed:
                report.replayed += 1
                continue
            report.recorded += 1
            report.events[step.records.__name__] += 1
            if step.correction:
                report.corrections += 1
            if step.code != ("", ""):
                self._tally(file, *step.code).events[step.records.__name__] += 1

    def _tally(self, file: str, column: str, code: str) -> Tally:
        return self.report.codes.setdefault((file, column, code), Tally())


def read_text(path: Path) -> str:
    """The file's text, or a ``FileProblem`` saying why it is not a text file this
    import reads: missing, too large, empty, a workbook or other binary, not UTF-8."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise FileProblem(path.name, f"cannot be read ({error.strerror or error})") from None
    if len(raw) > MAX_BYTES:
        raise FileProblem(path.name, f"larger than {MAX_BYTES // (1024 * 1024)} MB")
    if not raw.strip():
        raise FileProblem(path.name, "is empty: no header row")
    if raw.startswith(b"PK\x03\x04"):
        raise FileProblem(path.name, "is a zip file (an xlsx workbook?), not CSV text")
    if b"\x00" in raw:
        raise FileProblem(path.name, "is binary, not CSV text")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise FileProblem(
            path.name,
            f"is not UTF-8 text (byte 0x{raw[error.start]:02x} at offset {error.start}): "
            "save it as UTF-8 CSV",
        ) from None


def read_csv(path: Path, required: Sequence[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """Each row of the CSV with its line number (the header is line 1), after checking
    the whole file is UTF-8 text with the ``required`` columns."""
    text = read_text(path)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        columns = [(name or "").strip() for name in (reader.fieldnames or [])]
    except csv.Error as error:
        raise FileProblem(path.name, f"is not CSV ({error})") from None
    missing = [name for name in required if name not in columns]
    if missing:
        raise FileProblem(
            path.name,
            f"has no column {', '.join(missing)} (its columns: {', '.join(columns)[:200]})",
        )
    reader.fieldnames = columns
    try:
        yield from enumerate(reader, start=2)
    except csv.Error as error:
        raise FileProblem(path.name, f"is not CSV at line {reader.line_num} ({error})") from None


__all__ = [
    "ACCEPTED",
    "CSV_COLUMNS",
    "FAILED",
    "REJECTIONS",
    "Correct",
    "FileProblem",
    "Job",
    "JobReport",
    "Progress",
    "Rejection",
    "Step",
    "Tally",
    "read_csv",
    "read_text",
]

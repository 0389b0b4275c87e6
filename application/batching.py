"""Many commands in few transactions: bulk imports (``execute_batch``, ADR 0015), one
import row's commands all or nothing (``execute_atomically``), and many rows, each all or
nothing, in few transactions (``execute_groups``).

Each command is decided exactly as ``OversightApplication.execute`` decides it, by the
same use case, on aggregates a batch keeps in memory between its commands; the batch's
events and receipts are then written together under the same constraints as one
command's.
"""

from __future__ import annotations

import gc
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Repository
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from application.app import OversightApplication, fold
from application.handlers import handler_of
from application.receipts import CommandReceipt, CommandResult, receipt_of, refuse_reuse
from application.receipts import fingerprint as fingerprint_of
from application.relationships import relationship_events
from domain import commands as c
from domain.errors import ConcurrencyConflict, DomainError, ValidationError

#: A bulk import refreshes the store's statistics itself once this many events are
#: written, and again each time the count doubles (see ``execute_batch``).
ANALYZE_FIRST_AFTER = 50_000

#: Told of each command's outcome as a batch decides or writes it.
OnResult = Callable[[c.Command, CommandResult | DomainError], None]

#: Told of each group's outcome (its index, its commands, and its results or the
#: refusal), once the group is in the store (or, on a dry run, decided).
OnGroup = Callable[[int, Sequence[c.Command], "list[CommandResult] | CommandRefused"], None]


class CommandRefused(Exception):
    """One command of an all-or-nothing batch was refused, so none was written."""

    def __init__(self, command: c.Command, error: DomainError) -> None:
        super().__init__(f"{type(command).__name__}: {error}")
        self.command = command
        self.error = error


@dataclass
class BatchReport:
    """What ``execute_batch`` did: counts, each refusal with its command, and the log
    position after the last write (for read-your-writes)."""

    executed: int = 0
    replayed: int = 0
    events: int = 0
    refused: list[tuple[c.Command, DomainError]] = field(default_factory=list)
    position: int | None = None
    fallbacks: int = 0


def execute_batch(
    app: OversightApplication,
    commands: Iterable[c.Command],
    *,
    batch_size: int = 2_000,
    on_result: OnResult | None = None,
) -> BatchReport:
    """Run many commands with the same rules, writing up to ``batch_size`` at a time.

    For bulk imports and generated authorities (ADR 0015). Each command is decided
    exactly as ``execute`` decides it, on aggregates kept in memory between the
    commands of a batch; the batch's events and receipts are then written in one
    transaction (COPY on PostgreSQL) under the same insert lock, version and receipt
    constraints as a single command. So:

    - a refused command writes nothing, and the commands after it go on;
    - re-running a batch replays every command from its receipt;
    - if the store refuses the batch (another writer appended to one of its
      aggregates, or a registration collides), nothing of it is written and its
      commands are run again one at a time through ``execute``, which decides each
      against the store as it now is.

    Purges are never batched: each runs through ``execute``.
    """
    report = BatchReport()
    batch = _Batch(app)
    analyze_at = ANALYZE_FIRST_AFTER
    for chunk in _chunks(commands, batch_size):
        with _collector_paused():
            _execute_chunk(app, chunk, batch, report, on_result)
        if report.events >= analyze_at:
            # Autovacuum's ANALYZE of the events table is cancelled by every write's
            # insert lock, so under an import it never finishes: without statistics
            # the planner took an aggregate's read for 90,000 rows (a parallel scan,
            # compiled), and the large authority slowed from 8,000 to 2,000
            # events/s at 3 million events. Refreshed at 50k, 100k, 200k, ...
            app.command_log.analyze()
            analyze_at = 2 * report.events
    return report


def execute_atomically(
    app: OversightApplication, commands: Sequence[c.Command], *, retries: int = 2
) -> list[CommandResult]:
    """Run ``commands`` all or nothing, in one transaction: each is decided as
    ``execute`` decides it, on the aggregates as the commands before it left them;
    if any is refused, nothing is written and ``CommandRefused`` names it. Commands
    already executed replay. A lost concurrency race is retried, on fresh reads,
    ``retries`` times (one import row's commands, for instance)."""
    for attempt in range(retries + 1):
        batch = _Batch(app)
        batch.prefetch_receipts(commands)
        results: list[CommandResult] = []
        for command in commands:
            if isinstance(command, c.PurgeRecord):
                raise ValidationError("a purge runs on its own", field="command")
            try:
                results.append(batch.decide(command))
            except DomainError as error:
                raise CommandRefused(command, error) from error
        if not batch.receipts:
            return results
        stored = [app.mapper.to_stored_event(event) for event in batch.events]
        try:
            position = app.command_log.insert_batch(
                stored, batch.receipts, relationship_events(batch.events)
            )
        except IntegrityError:
            if attempt == retries:
                raise ConcurrencyConflict(
                    "another command changed these records first; reload and retry",
                    field="command_id",
                ) from None
            continue
        return [
            result
            if result.replayed
            else CommandResult(result.command_id, position, result.aggregate_ids, False)
            for result in results
        ]
    raise AssertionError("unreachable")


def execute_groups(
    app: OversightApplication,
    groups: Iterable[Sequence[c.Command]],
    *,
    batch_size: int = 2_000,
    dry_run: bool = False,
    on_group: OnGroup | None = None,
) -> BatchReport:
    """Run many groups of commands, each all or nothing, writing up to about
    ``batch_size`` commands a transaction (an import's rows, each row's commands one
    group).

    Each group is decided by ``Rows`` as ``execute_atomically`` decides it, on the
    aggregates as the groups before it left them; a refused group is taken back in memory
    and ``on_group`` hears the refusal; the groups after it go on. If the store refuses a
    transaction (another writer got there first), nothing of it is written and its groups
    are run again one at a time through ``execute_atomically``, which decides each
    against the store as it now is. ``on_group`` hears each accepted group once it is in
    the store (or, on a ``dry_run``, decided: nothing is written). Purges are never
    grouped (``ValidationError``).

    One transaction a group cost an import of the SSDA903 sample 40,614 transactions
    of ten round trips each on PostgreSQL: four times its time on SQLite.
    """
    report = BatchReport()
    rows = Rows(app, dry_run=dry_run)
    decided: list[tuple[int, Sequence[c.Command], list[CommandResult]]] = []

    def write() -> None:
        try:
            position = rows.write()
        except IntegrityError:
            report.fallbacks += 1
            for index, group, _ in decided:
                _one_by_one(app, index, group, report, on_group)
            decided.clear()
            return
        report.position = position if position is not None else report.position
        for index, group, results in decided:
            for result in results:
                if result.replayed:
                    report.replayed += 1
                else:
                    report.executed += 1
                    report.events += result.events
            if on_group:
                on_group(
                    index,
                    group,
                    [
                        r
                        if r.replayed
                        else CommandResult(r.command_id, position, r.aggregate_ids, False)
                        for r in results
                    ],
                )
        decided.clear()

    def run(chunk: list[tuple[int, Sequence[c.Command]]]) -> None:
        # One receipts query for the chunk, not one a group.
        rows.prefetch([command for _, group in chunk for command in group])
        for index, group in chunk:
            try:
                results = rows.decide(group)
            except CommandRefused as refused:
                report.refused.append((refused.command, refused.error))
                if on_group:
                    on_group(index, group, refused)
                continue
            decided.append((index, group, results))
        write()

    chunk: list[tuple[int, Sequence[c.Command]]] = []
    size = 0
    with _collector_paused():
        for index, group in enumerate(groups):
            chunk.append((index, group))
            size += len(group)
            if size >= batch_size:
                run(chunk)
                chunk, size = [], 0
        if chunk:
            run(chunk)
    return report


def _one_by_one(
    app: OversightApplication,
    index: int,
    group: Sequence[c.Command],
    report: BatchReport,
    on_group: OnGroup | None,
) -> None:
    try:
        results = execute_atomically(app, group)
    except CommandRefused as refused:
        report.refused.append((refused.command, refused.error))
        if on_group:
            on_group(index, group, refused)
        return
    for result in results:
        if result.replayed:
            report.replayed += 1
        else:
            report.executed += 1
            report.position = result.position
    if on_group:
        on_group(index, group, results)


class Rows:
    """Groups of commands (an import's rows) decided all or nothing in memory, written
    together when asked (``write``), or never (``dry_run``): the engine of
    ``execute_groups`` and of the importers' jobs (ADR 0015, 0025).

    ``decide`` decides a group as ``execute_atomically`` would, on the aggregates as the
    groups before it left them, and returns its results (each with the number of events
    it decided, no position yet), or raises ``CommandRefused``: the group is then
    **taken back** in memory (its events and receipts dropped, and every aggregate it
    touched, including one the refused command changed before it was refused, rebuilt
    from the store and the earlier groups' unwritten events), so the groups after it see
    what they would have seen had it never been tried. Receipts already in the store
    replay; so does a command decided earlier in the run. ``write`` puts every decided,
    unwritten group in the store in one transaction (COPY on PostgreSQL) and returns the
    log position; the store's ``IntegrityError`` (another writer got there first) means
    nothing of them was written, and everything kept is dropped.
    """

    def __init__(self, app: OversightApplication, *, dry_run: bool = False) -> None:
        self.app, self.dry_run = app, dry_run
        self.batch = _Batch(app, maxsize=2**62 if dry_run else 50_000)
        #: Unwritten events by aggregate (on a dry run, every decided event).
        self._unwritten: dict[UUID, list[Any]] = {}
        #: Commands decided since the last write (on a dry run, since the last `write` call).
        self.pending = 0

    @property
    def view(self) -> OversightApplication:
        """The application as the decided groups left it, written or not: what a caller
        planning the next group should read."""
        return self.batch.view

    def prefetch(self, commands: Sequence[c.Command]) -> None:
        """Ask the store once for the receipts of commands about to be decided (groups
        to come): ``decide`` then asks only for those not asked about."""
        self.batch.prefetch_receipts(commands, keep=True)

    def decide(self, group: Sequence[c.Command]) -> list[CommandResult]:
        batch = self.batch
        if any(isinstance(command, c.PurgeRecord) for command in group):
            raise ValidationError("a purge runs on its own", field="command")
        batch.prefetch_receipts(group, keep=True)
        marks = (len(batch.commands), len(batch.events), len(batch.receipts))
        results: list[CommandResult] = []
        for command in group:
            before = len(batch.events)
            try:
                result = batch.decide(command)
            except DomainError as error:
                self._take_back(marks)
                raise CommandRefused(command, error) from error
            for event in batch.events[before:]:
                self._unwritten.setdefault(event.originator_id, []).append(event)
            if not result.replayed:
                batch.commands.append(command)
                result = CommandResult(
                    result.command_id,
                    None,
                    result.aggregate_ids,
                    False,
                    events=len(batch.events) - before,
                )
            results.append(result)
        self.pending += sum(1 for r in results if not r.replayed)
        return results

    def _take_back(self, marks: tuple[int, int, int]) -> None:
        batch = self.batch
        commands, events, receipts = marks
        kept = batch.repository.kept
        # The group's decided events are the tail of each aggregate's unwritten list.
        theirs = Counter(event.originator_id for event in batch.events[events:])
        touched = set(theirs)
        touched.update(i for i, a in kept.items() if a.pending_events)
        for receipt in batch.receipts[receipts:]:
            del batch.stored_receipts[(receipt.authority_code, receipt.command_id)]
        del batch.commands[commands:], batch.events[events:], batch.receipts[receipts:]
        for aggregate_id in touched:
            kept.pop(aggregate_id, None)
            unwritten = self._unwritten.pop(aggregate_id, [])
            earlier = unwritten[: len(unwritten) - theirs[aggregate_id]]
            if not earlier:
                continue  # read again from the store when next wanted
            self._unwritten[aggregate_id] = earlier
            try:
                base = batch.repository.inner.get(aggregate_id, projector_func=fold)
            except AggregateNotFoundError:
                base = None  # registered by an earlier, unwritten group
            kept[aggregate_id] = fold(base, earlier)

    def write(self) -> int | None:
        """Every decided, unwritten group into the store, in one transaction: the log
        position after it (``None`` when there was nothing to write, or on a dry run)."""
        batch = self.batch
        self.pending = 0
        if self.dry_run:
            # Nothing is written: the kept aggregates, their unwritten events and the
            # decided receipts carry on to the next groups.
            batch.receipts.clear()
            batch.events.clear()
            batch.commands.clear()
            return None
        if not batch.receipts:
            batch.written()
            return None
        stored = [self.app.mapper.to_stored_event(event) for event in batch.events]
        try:
            position = self.app.command_log.insert_batch(
                stored, batch.receipts, relationship_events(batch.events)
            )
        except IntegrityError:
            batch.forget()
            batch.asked.clear()
            self._unwritten.clear()
            raise
        batch.written()
        self._unwritten.clear()
        return position


def _execute_chunk(
    app: OversightApplication,
    chunk: list[c.Command],
    batch: _Batch,
    report: BatchReport,
    on_result: OnResult | None,
) -> None:
    batch.prefetch_receipts(chunk)
    for command in chunk:
        if isinstance(command, c.PurgeRecord):
            _flush(app, batch, report, on_result)
            _execute_reporting(app, command, report, on_result, batch)
            continue
        batch.commands.append(command)
        try:
            result = batch.decide(command)
        except DomainError as error:
            batch.commands.pop()
            report.refused.append((command, error))
            if on_result:
                on_result(command, error)
            if batch.dirty():
                # The refused command changed an aggregate before it was
                # refused: write what was decided before it, then read the
                # aggregates it changed again (only those: dropping every kept
                # aggregate on each such refusal made the large authority read
                # a third of an aggregate from the store per event it wrote).
                _flush(app, batch, report, on_result)
                batch.forget_dirty()
            continue
        if result.replayed:
            batch.commands.pop()
            report.replayed += 1
            if on_result:
                on_result(command, result)
    _flush(app, batch, report, on_result)


def _flush(
    app: OversightApplication,
    batch: _Batch,
    report: BatchReport,
    on_result: OnResult | None,
) -> None:
    if not batch.receipts:
        batch.commands.clear()
        return
    stored = [app.mapper.to_stored_event(event) for event in batch.events]
    try:
        # The relationship rows the batch changes are written in its transaction.
        position = app.command_log.insert_batch(
            stored, batch.receipts, relationship_events(batch.events)
        )
    except IntegrityError:
        commands = list(batch.commands)
        batch.forget()
        report.fallbacks += 1
        for command in commands:
            _execute_reporting(app, command, report, on_result, batch)
        return
    report.executed += len(batch.receipts)
    report.events += len(stored)
    report.position = position
    if on_result:
        # Decided commands and their receipts are in step (a replay or refusal is
        # taken off ``commands`` as it happens).
        for command, receipt in zip(batch.commands, batch.receipts, strict=True):
            on_result(
                command, CommandResult(receipt.command_id, None, receipt.aggregate_ids, False)
            )
    batch.written()


def _execute_reporting(
    app: OversightApplication,
    command: c.Command,
    report: BatchReport,
    on_result: OnResult | None,
    batch: _Batch,
) -> None:
    try:
        result = app.execute(command, retries=2)
    except DomainError as error:
        report.refused.append((command, error))
        if on_result:
            on_result(command, error)
        return
    batch.executed(command, result)
    if result.replayed:
        report.replayed += 1
    else:
        report.executed += 1
        report.events += result.events
        report.position = result.position
    if on_result:
        on_result(command, result)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off for a batch: deciding it allocates millions of
    short-lived, acyclic objects (reference counting frees them), and a full collection
    over a large import's heap stopped the process for long enough, between two
    statements of the batch's transaction, for PostgreSQL to end the session as idle
    in transaction (the large authority, 1.3 GB). What cycles a batch leaves are
    collected when it is done."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def _chunks(items: Iterable[c.Command], size: int) -> Iterator[list[c.Command]]:
    chunk: list[c.Command] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class _BatchRepository(Repository[UUID]):
    """The store's aggregates as a batch sees them: each read from the store once, then
    kept (with the batch's undecided events applied) until the batch is written."""

    def __init__(self, inner: Repository[UUID], maxsize: int) -> None:
        super().__init__(inner.event_store)
        self.inner = inner
        self.maxsize = maxsize
        self.kept: OrderedDict[UUID, Aggregate] = OrderedDict()

    def get(self, aggregate_id: UUID, *, version: int | None = None, **kwargs: Any) -> Any:
        if version is not None:
            return self.inner.get(aggregate_id, version=version, **kwargs)
        aggregate = self.kept.get(aggregate_id)
        if aggregate is None:
            aggregate = self.inner.get(aggregate_id, **kwargs)
            self.kept[aggregate_id] = aggregate
        else:
            self.kept.move_to_end(aggregate_id)
        return aggregate

    def __contains__(self, item: UUID) -> bool:
        return item in self.kept or item in self.inner

    def keep(self, aggregate: Aggregate) -> None:
        self.kept[aggregate.id] = aggregate
        self.kept.move_to_end(aggregate.id)

    def trim(self) -> None:
        """After a write: forget the least recently used beyond ``maxsize``."""
        while len(self.kept) > self.maxsize:
            self.kept.popitem(last=False)


class _BatchView(OversightApplication):
    """The same application, reading its aggregates through a batch. It shares the
    application's recorder, so closing it (as the library does when it is collected)
    closes nothing."""

    name = OversightApplication.name

    def __init__(self, app: OversightApplication, repository: _BatchRepository) -> None:
        self.__dict__.update(app.__dict__)
        self._repository = self._kept = repository
        # The batch keeps its own aggregates; the application's cache is not for it.
        self.__dict__["aggregate_cache"] = None

    def close(self) -> None:
        pass

    def opening_of(self, aggregate_id: UUID) -> Aggregate | None:
        kept = self._kept.kept.get(aggregate_id)
        return kept if kept is not None else super().opening_of(aggregate_id)


class _Batch:
    """The commands decided but not yet written, their events and receipts."""

    def __init__(self, app: OversightApplication, maxsize: int = 50_000) -> None:
        self.repository = _BatchRepository(app.repository, maxsize)
        self.view = _BatchView(app, self.repository)
        self.commands: list[c.Command] = []
        self.events: list[Any] = []
        self.receipts: list[CommandReceipt] = []
        #: Receipts by (authority, command id): found in the store, or decided here.
        self.stored_receipts: dict[tuple[str, str], CommandReceipt] = {}
        #: Command keys asked of the store since the last prefetch that did not keep.
        self.asked: set[tuple[str, str]] = set()

    def decide(self, command: c.Command) -> CommandResult:
        fingerprint = fingerprint_of(command)
        key = (command.actor.authority_id, command.command_id)
        earlier = self.stored_receipts.get(key)
        if earlier is not None:
            refuse_reuse(command, fingerprint, earlier)
            return CommandResult(command.command_id, None, earlier.aggregate_ids, True)
        aggregates = handler_of(command)(self.view, command)
        receipt = receipt_of(command, fingerprint, aggregates)
        for aggregate in aggregates:
            self.events.extend(aggregate.collect_events())
            self.repository.keep(aggregate)
        self.receipts.append(receipt)
        self.stored_receipts[key] = receipt  # a retry later in the chunk replays
        return CommandResult(command.command_id, None, receipt.aggregate_ids, False)

    def prefetch_receipts(self, commands: Sequence[c.Command], *, keep: bool = False) -> None:
        """The receipts of any of ``commands`` already executed, one query per authority.
        ``keep``: add to those known (a run's decided, unwritten receipts among them),
        asking only for commands not asked about before."""
        if not keep:
            self.stored_receipts.clear()
            self.asked.clear()
        by_authority: dict[str, list[str]] = {}
        for command in commands:
            key = (command.actor.authority_id, command.command_id)
            if key in self.stored_receipts or key in self.asked:
                continue
            self.asked.add(key)
            by_authority.setdefault(key[0], []).append(key[1])
        for authority, ids in by_authority.items():
            found = self.view.command_log.select_command_receipts(authority, ids)
            for command_id, receipt in found.items():
                self.stored_receipts[(authority, command_id)] = receipt

    def dirty(self) -> bool:
        """Whether a refused command left events pending on a kept aggregate."""
        return any(a.pending_events for a in self.repository.kept.values())

    def written(self) -> None:
        """The batch is in the store (its receipts stay known, for retries later in the
        chunk)."""
        self.commands.clear()
        self.events.clear()
        self.receipts.clear()
        self.repository.trim()

    def forget_dirty(self) -> None:
        """Drop the kept aggregates a refused command left events pending on (the rest
        are as the commands before it decided them): they are read again."""
        kept = self.repository.kept
        for aggregate_id in [i for i, a in kept.items() if a.pending_events]:
            del kept[aggregate_id]

    def forget(self) -> None:
        """Drop everything decided and kept: the next command reads from the store."""
        for receipt in self.receipts:  # decided, never written
            del self.stored_receipts[(receipt.authority_code, receipt.command_id)]
        self.receipts.clear()
        self.written()
        self.repository.kept.clear()

    def executed(self, command: c.Command, result: CommandResult) -> None:
        """A command run on its own through ``execute``: a retry of it later in the
        chunk replays."""
        authority = command.actor.authority_id
        self.stored_receipts[(authority, command.command_id)] = CommandReceipt(
            authority_code=authority,
            command_id=command.command_id,
            command_name=type(command).__name__,
            fingerprint=fingerprint_of(command),
            last_originator_id=None,
            last_originator_version=None,
            aggregate_ids=result.aggregate_ids,
        )


__all__ = [
    "ANALYZE_FIRST_AFTER",
    "BatchReport",
    "CommandRefused",
    "OnGroup",
    "OnResult",
    "Rows",
    "execute_atomically",
    "execute_batch",
    "execute_groups",
]

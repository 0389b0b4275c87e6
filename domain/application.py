"""The application service: runs commands against aggregates, exactly once each.

``execute`` is the one entry point for writes. It
1. returns the stored result if the command id was already executed (idempotency),
2. loads the aggregates, lets them validate and trigger events,
3. saves every touched aggregate *and* the command receipt in one transaction
   (atomic multi-aggregate save), and
4. turns a lost optimistic-concurrency race into a retryable ``ConcurrencyConflict``.

Persistence is reached only through the library's recorder and the ``CommandLog``
protocol below, which the infrastructure's recorders implement (ADR 0002).
"""

from __future__ import annotations

import gc
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import cached_property
from typing import Any, ClassVar, Protocol, TypeVar, runtime_checkable
from uuid import UUID

import orjson
from eventsourcing.application import AggregateNotFoundError, Application, Repository
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import (
    IntegrityError,
    JSONTranscoder,
    Notification,
    StoredEvent,
    Transcoder,
    Transcoding,
)

from domain import commands as c
from domain.access import AccessLog
from domain.authority import Authority
from domain.child import Child
from domain.errors import (
    AlreadyExists,
    ConcurrencyConflict,
    DomainError,
    IdempotencyKeyReused,
    NotFound,
    ValidationError,
)
from domain.identifiers import authority_id, check_local_id, child_id, worker_id
from domain.policy.packs import PackLibrary
from domain.policy.retention import (
    CHILD_RECORD,
    RECORD_CLASSES,
    WORKER_FILE,
    RecordRef,
    ScheduleItem,
    fact_of,
    schedule,
)
from domain.provenance import Provenance
from domain.rules import PersonalRecordHoldsNoServiceUserInformation
from domain.subject import Subject, Tombstone
from domain.values import SmartAction
from domain.worker import PERSONAL_RECORD_TEXT_FIELDS, Worker

A = TypeVar("A", bound=Aggregate)

#: How many aggregates a process keeps between commands (``OVERSIGHT_AGGREGATE_CACHE_SIZE``;
#: 0 keeps none). See ``_AggregateCache``.
AGGREGATE_CACHE_SIZE = 2_000


@dataclass(frozen=True)
class CommandReceipt:
    """Written in the same transaction as a command's events; its key is unique."""

    authority_code: str
    command_id: str
    command_name: str
    fingerprint: str
    last_originator_id: UUID | None
    last_originator_version: int | None
    aggregate_ids: tuple[UUID, ...]


def _receipt_of(
    command: c.Command, fingerprint: str, aggregates: Sequence[Aggregate]
) -> CommandReceipt:
    """The receipt of a command just decided (its aggregates' events still pending)."""
    pending = [(a.id, e.originator_version) for a in aggregates for e in a.pending_events]
    last = pending[-1] if pending else (None, None)
    return CommandReceipt(
        authority_code=command.actor.authority_id,
        command_id=command.command_id,
        command_name=type(command).__name__,
        fingerprint=fingerprint,
        last_originator_id=last[0],
        last_originator_version=last[1],
        aggregate_ids=tuple(dict.fromkeys(a.id for a in aggregates)),
    )


def _refuse_reuse(command: c.Command, fingerprint: str, earlier: CommandReceipt) -> None:
    """The same id for a different command is refused as such [ADR 0002]."""
    if earlier.fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            f"command id {command.command_id!r} was already used for a different "
            f"{earlier.command_name} command",
            field="command_id",
        )


@runtime_checkable
class CommandLog(Protocol):
    """What the recorder must offer beyond the library's ApplicationRecorder."""

    def select_command_receipt(
        self, authority_code: str, command_id: str
    ) -> CommandReceipt | None: ...

    def notification_id_of(self, originator_id: UUID, originator_version: int) -> int | None: ...

    def select_subject_notifications(self, originator_id: UUID) -> list[Notification]:
        """Every stored event of one aggregate, with its position in the log."""
        ...

    def select_command_receipts(
        self, authority_code: str, command_ids: Sequence[str]
    ) -> dict[str, CommandReceipt]:
        """The receipts of those of ``command_ids`` already executed, by command id."""
        ...

    def insert_batch(
        self, stored_events: Sequence[StoredEvent], receipts: Sequence[CommandReceipt]
    ) -> int | None:
        """Many commands' events and receipts in one transaction (COPY on PostgreSQL),
        under the same insert lock and uniqueness constraints as one command's; returns
        the log position of the last event."""
        ...

    def analyze(self) -> None:
        """Refresh the planner's statistics of the events and receipts tables."""
        ...


#: A bulk import refreshes the store's statistics itself once this many events are
#: written, and again each time the count doubles (see ``execute_batch``).
ANALYZE_FIRST_AFTER = 50_000


class StaleRead(Exception):
    """The store refused a command's write because an aggregate the command read but did
    not change has been changed since (read-set validation, ADR 0016)."""


class _TrustedStale(Exception):
    """A command decided on kept aggregates without reading the store first, and the
    store said they were behind: decide it again on what the store holds."""


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


@dataclass(frozen=True)
class CommandResult:
    """What a command did. ``position`` is the notification id of its last event, for
    read-your-writes; ``replayed`` is true when the command id had already been run."""

    command_id: str
    position: int | None
    aggregate_ids: tuple[UUID, ...]
    replayed: bool
    #: How many events it wrote (none when replayed).
    events: int = 0


# -- transcodings for the value objects stored in events --------------------------------


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class ProvenanceAsDict(Transcoding):
    type = Provenance
    name = "provenance"

    def encode(self, obj: Provenance) -> dict[str, Any]:
        return {
            "occurred_at": obj.occurred_at,
            "actor_id": obj.actor_id,
            "actor_role": obj.actor_role,
            "command_id": obj.command_id,
            "imported": obj.imported,
        }

    def decode(self, data: dict[str, Any]) -> Provenance:
        # Stored provenance was validated when recorded; rebuilding a projection decodes
        # millions of these, so skip re-validation (measured: 7% of a rebuild).
        # (A frozen dataclass without slots: filling its ``__dict__`` at once costs a
        # fifth of setting each field through ``object.__setattr__``.)
        provenance = object.__new__(Provenance)
        provenance.__dict__.update(data)
        return provenance


class SmartActionAsDict(Transcoding):
    type = SmartAction
    name = "smart_action"

    def encode(self, obj: SmartAction) -> dict[str, Any]:
        return {
            "action_id": obj.action_id,
            "description": obj.description,
            "owner": obj.owner,
            "due_on": obj.due_on,
        }

    def decode(self, data: dict[str, Any]) -> SmartAction:
        return SmartAction(**data)


class FastJSONTranscoder(JSONTranscoder):
    """The library's JSON format, decoded by orjson.

    Encoding is the library's own, so what is on disk never changes. Decoding parses
    with orjson and then rebuilds the registered types (``{"_type_", "_data_"}``
    objects) in one walk, as the library's ``object_hook`` would, innermost first.
    Measured on 20,000 stored events: 5.5 us against 6.5 us per event (ADR 0006).
    Anything orjson refuses (integers beyond 64 bits, say) falls back to the library.
    """

    #: Registered types whose data is a plain string, decoded by the type's own
    #: constructor rather than through the transcoding's method (the same result; a
    #: call and an ``assert`` less for about three values per event).
    _PLAIN: ClassVar[dict[str, Callable[[Any], Any]]] = {
        "datetime_iso": datetime.fromisoformat,
        "date_iso": date.fromisoformat,
        "uuid_hex": UUID,
        "decimal_str": Decimal,
    }

    def register(self, transcoding: Transcoding) -> None:
        super().register(transcoding)
        self.__dict__.pop("_decoders", None)

    @cached_property
    def _decoders(self) -> dict[str, Callable[[Any], Any]]:
        decoders: dict[str, Callable[[Any], Any]] = {
            name: t.decode for name, t in self.names.items()
        }
        decoders.update({k: v for k, v in self._PLAIN.items() if k in decoders})
        return decoders

    def decode(self, data: bytes) -> Any:
        try:
            parsed = orjson.loads(data)
        except orjson.JSONDecodeError:
            return super().decode(data)
        return self._revive(parsed)

    def _revive(self, value: Any) -> Any:
        # Hot in rebuilds (about six objects per event): type checks are inlined, only a
        # two-key object can be a registered type, and one whose data is a plain value
        # (a UUID, a datetime, a date: most of them) is decoded here without recursing
        # (measured on 106,544 events: 688k calls -> 419k, decoding 1.70 -> 1.52 s).
        kind = type(value)
        if kind is dict:
            decoders = self._decoders
            for key, item in value.items():
                item_kind = type(item)
                if item_kind is dict:
                    if len(item) == 2 and "_type_" in item and "_data_" in item:
                        decoder = decoders.get(item["_type_"])
                        if decoder is not None:
                            data = item["_data_"]
                            if type(data) is dict or type(data) is list:
                                data = self._revive(data)  # innermost first
                            value[key] = decoder(data)
                            continue
                    value[key] = self._revive(item)
                elif item_kind is list:
                    value[key] = self._revive(item)
            if len(value) == 2 and "_type_" in value and "_data_" in value:
                transcoding = self.names.get(value["_type_"])
                if transcoding is None:
                    return self._decode_obj(value)  # the library's own error
                return transcoding.decode(value["_data_"])
            return value
        if kind is list:
            return [
                self._revive(item) if type(item) is dict or type(item) is list else item
                for item in value
            ]
        return value


Handler = Callable[["OversightApplication", Any], list[Aggregate]]
_HANDLERS: dict[type[c.Command], Handler] = {}


def handles(*command_types: type[c.Command]) -> Callable[[Handler], Handler]:
    def register(func: Handler) -> Handler:
        for command_type in command_types:
            _HANDLERS[command_type] = func
        return func

    return register


class _AggregateCache:
    """The aggregates the last commands in this process decided on, each as the store
    had it after that command (ADR 0016).

    A command *takes* an aggregate out (no other thread can have it meanwhile), decides
    on it, and the aggregates of a written command are put back as they now are. A
    refused or failed command puts nothing back: whatever it changed in memory is
    dropped with it, and the next command reads the store. Nothing is copied.
    """

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._kept: OrderedDict[UUID, Aggregate] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, aggregate_id: UUID) -> Any:
        with self._lock:
            return self._kept.pop(aggregate_id, None)

    def put(self, aggregate: Aggregate) -> None:
        with self._lock:
            kept = self._kept.get(aggregate.id)
            if kept is not None and kept.version > aggregate.version:
                return  # another thread's command put back a later version meanwhile
            self._kept[aggregate.id] = aggregate
            self._kept.move_to_end(aggregate.id)
            while len(self._kept) > self.maxsize:
                self._kept.popitem(last=False)

    def __len__(self) -> int:
        return len(self._kept)


@dataclass
class _Reads:
    """What the command being decided on this thread read: each aggregate as read, its
    version then, and whether any came from the cache without a look at the store
    (``trusted``)."""

    trusting: bool
    trusted: bool = False
    versions: dict[UUID, int] = field(default_factory=dict)
    taken: dict[UUID, Aggregate] = field(default_factory=dict)


class OversightApplication(Application[UUID]):
    """Case oversight: Authority, Worker and Child aggregates in one event store."""

    name = "oversight"

    @cached_property
    def _reading(self) -> threading.local:
        """Per thread: the ``_Reads`` of the command being decided, if any."""
        return threading.local()

    @cached_property
    def aggregate_cache(self) -> _AggregateCache | None:
        size = self.env.get("AGGREGATE_CACHE_SIZE") or str(AGGREGATE_CACHE_SIZE)
        if not size.isdigit():
            msg = f"OVERSIGHT_AGGREGATE_CACHE_SIZE must be a whole number, not {size!r}"
            raise ValueError(msg)
        return _AggregateCache(int(size)) if int(size) > 0 else None

    @cached_property
    def policy_packs(self) -> PackLibrary:
        """The packs an authority may adopt: built in, and from OVERSIGHT_POLICY_PACKS."""
        return PackLibrary.load()

    def construct_transcoder(self) -> Transcoder:
        transcoder = FastJSONTranscoder()
        self.register_transcodings(transcoder)
        return transcoder

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())
        transcoder.register(ProvenanceAsDict())
        transcoder.register(SmartActionAsDict())

    @property
    def command_log(self) -> CommandLog:
        if not isinstance(self.recorder, CommandLog):
            msg = (
                f"{type(self.recorder).__name__} does not keep command receipts; configure "
                "the oversight recorders (see oversight.settings)"
            )
            raise TypeError(msg)
        return self.recorder

    # -- writes ------------------------------------------------------------------------

    def execute(
        self,
        command: c.Command,
        *,
        retries: int = 0,
        authorize: Callable[[OversightApplication], None] | None = None,
    ) -> CommandResult:
        """Run a command exactly once. A retry with the same command id returns the
        original result; the same id with a different command is refused. With
        ``retries``, a lost concurrency race is retried on freshly loaded aggregates.
        ``authorize`` decides, before the command's rules run, whether its actor may do
        it, on the aggregates it reads here: each is checked at the write like those the
        command itself reads, so the decision stands on what is written with it."""
        for attempt in range(retries + 1):
            try:
                try:
                    return self._execute_once(command, trusting=True, authorize=authorize)
                except _TrustedStale:
                    return self._execute_once(command, trusting=False, authorize=authorize)
            except ConcurrencyConflict:
                if attempt == retries:
                    raise
        raise AssertionError("unreachable")

    def _execute_once(
        self,
        command: c.Command,
        *,
        trusting: bool,
        authorize: Callable[[OversightApplication], None] | None = None,
    ) -> CommandResult:
        """Decide and write ``command`` once. ``trusting``: decide on the aggregates this
        process keeps as they are, without reading the store first; the write then
        checks every one of them is still current (the store's version key for those
        it changes, a version check for those it only read), and a stale one makes
        the caller decide again, not trusting (ADR 0016). Purges never trust."""
        authority = command.actor.authority_id
        fingerprint = command.fingerprint()
        handler = _handler_of(command)
        reads = _Reads(trusting=trusting and not isinstance(command, c.PurgeRecord))
        self._reading.reads = reads
        try:
            return self._decide_and_write(
                command, authority, fingerprint, handler, reads, authorize
            )
        finally:
            self._reading.reads = None

    def _decide_and_write(
        self,
        command: c.Command,
        authority: str,
        fingerprint: str,
        handler: Handler,
        reads: _Reads,
        authorize: Callable[[OversightApplication], None] | None = None,
    ) -> CommandResult:
        # The receipt is looked up only when the command cannot be written as new: the
        # rules refuse it (a retry of a command already applied usually is refused by
        # the state it made), or the insert does (its receipt's key, or a version, is
        # taken). Either way a retry replays, and a reused id is refused as such. The
        # usual first execution saves the round trip (benchmark 1, ADR 0002).
        try:
            if authorize is not None:
                authorize(self)
            aggregates = handler(self, command)
        except DomainError:
            earlier = self._earlier_result(authority, command, fingerprint)
            if earlier is not None:
                return earlier
            if reads.trusted:
                raise _TrustedStale from None  # refused on what may be out of date
            raise
        receipt = _receipt_of(command, fingerprint, aggregates)
        events = sum(len(a.pending_events) for a in aggregates)
        tombstones = [t for a in aggregates for t in getattr(a, "purging", ())]
        changed = {a.id for a in aggregates if a.pending_events}
        read_only = [(i, v) for i, v in reads.versions.items() if i not in changed]
        try:
            recordings = self.save(
                *aggregates,
                command_receipt=receipt,
                tombstones=tombstones,
                read_versions=read_only,
            )
        except StaleRead:
            if reads.trusted:
                raise _TrustedStale from None
            raise ConcurrencyConflict(
                "a record this command read was changed by another command first; retry",
                field="command_id",
            ) from None
        except IntegrityError:
            earlier = self._earlier_result(authority, command, fingerprint)
            if earlier is not None:
                return earlier  # a concurrent retry of this very command won the race
            if reads.trusted:
                raise _TrustedStale from None  # a kept aggregate was behind the store
            if isinstance(command, (c.RegisterWorker, c.RegisterChild, c.RegisterAuthority)):
                raise AlreadyExists(
                    "already registered in this authority", field=_registration_field(command)
                ) from None
            raise ConcurrencyConflict(
                "another command changed this record first; reload and retry",
                field="command_id",
            ) from None
        cache = self.aggregate_cache
        # Written: what it decided on is what the store now holds. Never keep a purge's:
        # the purged record's content is still in the aggregate it decided on (only the
        # stored events are rewritten).
        if cache is not None and not tombstones:
            for aggregate in (*reads.taken.values(), *aggregates):
                if not isinstance(aggregate, AccessLog):  # read by id, never through here
                    cache.put(aggregate)
        position = max((r.notification.id for r in recordings), default=None)
        return CommandResult(
            command.command_id, position, receipt.aggregate_ids, replayed=False, events=events
        )

    def _earlier_result(
        self, authority: str, command: c.Command, fingerprint: str
    ) -> CommandResult | None:
        receipt = self.command_log.select_command_receipt(authority, command.command_id)
        if receipt is None:
            return None
        _refuse_reuse(command, fingerprint, receipt)
        position = None
        if receipt.last_originator_id is not None and receipt.last_originator_version:
            position = self.command_log.notification_id_of(
                receipt.last_originator_id, receipt.last_originator_version
            )
        return CommandResult(command.command_id, position, receipt.aggregate_ids, replayed=True)

    def execute_batch(
        self,
        commands: Iterable[c.Command],
        *,
        batch_size: int = 2_000,
        on_result: Callable[[c.Command, CommandResult | DomainError], None] | None = None,
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
        batch = _Batch(self)
        analyze_at = ANALYZE_FIRST_AFTER
        for chunk in _chunks(commands, batch_size):
            with _collector_paused():
                self._execute_chunk(chunk, batch, report, on_result)
            if report.events >= analyze_at:
                # Autovacuum's ANALYZE of the events table is cancelled by every write's
                # insert lock, so under an import it never finishes: without statistics
                # the planner took an aggregate's read for 90,000 rows (a parallel scan,
                # compiled), and the large authority slowed from 8,000 to 2,000
                # events/s at 3 million events. Refreshed at 50k, 100k, 200k, ...
                self.command_log.analyze()
                analyze_at = 2 * report.events
        return report

    def _execute_chunk(
        self,
        chunk: list[c.Command],
        batch: _Batch,
        report: BatchReport,
        on_result: Callable[[c.Command, CommandResult | DomainError], None] | None,
    ) -> None:
        batch.prefetch_receipts(chunk)
        for command in chunk:
            if isinstance(command, c.PurgeRecord):
                self._flush(batch, report, on_result)
                self._execute_reporting(command, report, on_result, batch)
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
                    self._flush(batch, report, on_result)
                    batch.forget_dirty()
                continue
            if result.replayed:
                batch.commands.pop()
                report.replayed += 1
                if on_result:
                    on_result(command, result)
        self._flush(batch, report, on_result)

    def execute_atomically(
        self, commands: Sequence[c.Command], *, retries: int = 2
    ) -> list[CommandResult]:
        """Run ``commands`` all or nothing, in one transaction: each is decided as
        ``execute`` decides it, on the aggregates as the commands before it left them;
        if any is refused, nothing is written and ``CommandRefused`` names it. Commands
        already executed replay. A lost concurrency race is retried, on fresh reads,
        ``retries`` times (one import row's commands, for instance)."""
        for attempt in range(retries + 1):
            batch = _Batch(self)
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
            stored = [self.mapper.to_stored_event(event) for event in batch.events]
            try:
                position = self.command_log.insert_batch(stored, batch.receipts)
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

    def _flush(
        self,
        batch: _Batch,
        report: BatchReport,
        on_result: Callable[[c.Command, CommandResult | DomainError], None] | None,
    ) -> None:
        if not batch.receipts:
            batch.commands.clear()
            return
        stored = [self.mapper.to_stored_event(event) for event in batch.events]
        try:
            position = self.command_log.insert_batch(stored, batch.receipts)
        except IntegrityError:
            commands = list(batch.commands)
            batch.forget()
            report.fallbacks += 1
            for command in commands:
                self._execute_reporting(command, report, on_result, batch)
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
        self,
        command: c.Command,
        report: BatchReport,
        on_result: Callable[[c.Command, CommandResult | DomainError], None] | None,
        batch: _Batch,
    ) -> None:
        try:
            result = self.execute(command, retries=2)
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

    # -- reads -------------------------------------------------------------------------

    def get_authority(self, authority_code: str) -> Authority:
        return self._load(
            Authority,
            authority_id(authority_code),
            authority_code,
            field="authority_code",
            what="authority",
        )

    def get_worker(
        self, authority_code: str, staff_id: str, *, version: int | None = None
    ) -> Worker:
        check_local_id(staff_id, field="staff_id")
        return self._load(
            Worker,
            worker_id(authority_code, staff_id),
            authority_code,
            field="staff_id",
            what="worker",
            version=version,
        )

    def get_child(
        self, authority_code: str, local_child_id: str, *, version: int | None = None
    ) -> Child:
        check_local_id(local_child_id, field="child_id")
        return self._load(
            Child,
            child_id(authority_code, local_child_id),
            authority_code,
            field="child_id",
            what="child",
            version=version,
        )

    def _load(
        self,
        cls: type[A],
        aggregate_id: UUID,
        authority_code: str,
        *,
        field: str,
        what: str,
        version: int | None = None,
    ) -> A:
        try:
            aggregate: Aggregate = (
                self._current(aggregate_id)
                if version is None
                else self.repository.get(aggregate_id, version=version, projector_func=_fold)
            )
        except AggregateNotFoundError:
            raise NotFound(f"no {what} with that id in this authority", field=field) from None
        if not isinstance(aggregate, cls) or (
            isinstance(aggregate, Subject) and aggregate.authority_code != authority_code
        ):
            raise NotFound(f"no {what} with that id in this authority", field=field)
        return aggregate

    def _current(self, aggregate_id: UUID) -> Any:
        """The aggregate to decide on, or to read. Deciding a command: the one this
        process kept, as kept when trusting (the write checks it), else brought up to
        date by the store's newer events; or, not kept, folded from its whole history
        (ADR 0016). Outside a command: always from the store."""
        reads: _Reads | None = getattr(self._reading, "reads", None)
        cache = self.aggregate_cache
        if reads is None or cache is None:  # not deciding a command: the store's own
            return self.repository.get(aggregate_id, projector_func=_fold)
        aggregate = reads.taken.get(aggregate_id)  # read twice by the same command
        if aggregate is None:
            aggregate = self._take(cache, aggregate_id, reads)
            reads.taken[aggregate_id] = aggregate
            reads.versions[aggregate_id] = aggregate.version
        return aggregate

    def _take(self, cache: _AggregateCache, aggregate_id: UUID, reads: _Reads) -> Any:
        aggregate = cache.take(aggregate_id)
        if aggregate is not None:
            if reads.trusting:
                reads.trusted = True
                return aggregate
            newer = list(self.events.get(aggregate_id, gt=aggregate.version))
            if not any(type(event).__name__ == "RecordPurged" for event in newer):
                return _fold(aggregate, newer)
        return self.repository.get(aggregate_id, projector_func=_fold)

    def opening_of(self, aggregate_id: UUID) -> Aggregate | None:
        """The aggregate as its first event made it (its registration): enough to say it
        exists, and what it is, without replaying its history. ``SubjectPurged`` when
        only its tombstones are left."""
        opening: Any = next(iter(self.events.get(aggregate_id, limit=1)), None)
        return None if opening is None else opening.mutate(None)

    def child_exists(self, authority_code: str, local_child_id: str) -> bool:
        try:
            return child_id(authority_code, local_child_id) in self.repository
        except ValidationError:
            return False


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


def _fold(aggregate: Any, events: Iterable[Any]) -> Any:
    """The library's ``project_aggregate`` without its per-event ``isinstance`` against
    a runtime-checkable Protocol, which cost a sixth of recording a command (issue 7,
    benchmark 1). Every event this store holds is an ``Aggregate.Event``: it mutates."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


def _handler_of(command: c.Command) -> Handler:
    handler = _HANDLERS.get(type(command))
    if handler is None:
        raise ValidationError(f"unknown command {type(command).__name__}", field="command")
    return handler


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

    def decide(self, command: c.Command) -> CommandResult:
        fingerprint = command.fingerprint()
        key = (command.actor.authority_id, command.command_id)
        earlier = self.stored_receipts.get(key)
        if earlier is not None:
            _refuse_reuse(command, fingerprint, earlier)
            return CommandResult(command.command_id, None, earlier.aggregate_ids, True)
        aggregates = _handler_of(command)(self.view, command)
        receipt = _receipt_of(command, fingerprint, aggregates)
        for aggregate in aggregates:
            self.events.extend(aggregate.collect_events())
            self.repository.keep(aggregate)
        self.receipts.append(receipt)
        self.stored_receipts[key] = receipt  # a retry later in the chunk replays
        return CommandResult(command.command_id, None, receipt.aggregate_ids, False)

    def prefetch_receipts(self, commands: Sequence[c.Command]) -> None:
        """The receipts of any of ``commands`` already executed, one query per authority."""
        self.stored_receipts.clear()
        by_authority: dict[str, list[str]] = {}
        for command in commands:
            by_authority.setdefault(command.actor.authority_id, []).append(command.command_id)
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
            fingerprint=command.fingerprint(),
            last_originator_id=None,
            last_originator_version=None,
            aggregate_ids=result.aggregate_ids,
        )


def _registration_field(command: c.Command) -> str:
    if isinstance(command, c.RegisterWorker):
        return "staff_id"
    if isinstance(command, c.RegisterChild):
        return "child_id"
    return "authority_code"


def _subject_of(app: OversightApplication, command: c.SubjectCommand) -> Subject:
    authority = command.actor.authority_id
    if (command.staff_id is None) == (command.child_id is None):
        raise ValidationError("give exactly one of staff_id or child_id", field="staff_id")
    if command.staff_id is not None:
        return app.get_worker(authority, command.staff_id)
    assert command.child_id is not None
    return app.get_child(authority, command.child_id)


# -- handlers ----------------------------------------------------------------------------


@handles(c.RegisterAuthority)
def _register_authority(app: OversightApplication, cmd: c.RegisterAuthority) -> list[Aggregate]:
    if cmd.authority_code != cmd.actor.authority_id:
        raise ValidationError("an actor registers their own authority", field="authority_code")
    app.policy_packs.get(cmd.policy_pack)  # a loaded pack, or a ValidationError naming them
    return [
        Authority.register(
            provenance=cmd.provenance(),
            authority_code=cmd.authority_code,
            name=cmd.name,
            policy_pack=cmd.policy_pack,
        )
    ]


@handles(c.AdoptPolicyPack)
def _adopt_policy_pack(app: OversightApplication, cmd: c.AdoptPolicyPack) -> list[Aggregate]:
    authority = app.get_authority(cmd.actor.authority_id)
    app.policy_packs.get(cmd.policy_pack)
    authority.adopt_policy_pack(cmd.provenance(), policy_pack=cmd.policy_pack)
    return [authority]


@handles(c.AddClosureDay)
def _add_closure_day(app: OversightApplication, cmd: c.AddClosureDay) -> list[Aggregate]:
    authority = app.get_authority(cmd.actor.authority_id)
    authority.add_closure_day(cmd.provenance(), day=cmd.day, reason=cmd.reason)
    return [authority]


@handles(c.RegisterWorker)
def _register_worker(app: OversightApplication, cmd: c.RegisterWorker) -> list[Aggregate]:
    app.get_authority(cmd.actor.authority_id)
    return [
        Worker.register(
            provenance=cmd.provenance(), authority_code=cmd.actor.authority_id, **cmd.arguments()
        )
    ]


@handles(c.RegisterChild)
def _register_child(app: OversightApplication, cmd: c.RegisterChild) -> list[Aggregate]:
    app.get_authority(cmd.actor.authority_id)
    arguments = cmd.arguments("child_id")
    return [
        Child.register(
            provenance=cmd.provenance(),
            authority_code=cmd.actor.authority_id,
            local_child_id=cmd.child_id,
            **arguments,
        )
    ]


@handles(
    c.ChangeRole,
    c.ChangeTeam,
    c.ChangeLineManager,
    c.ChangeWorkingPattern,
    c.LeaveEmployment,
    c.SignSupervisionAgreement,
    c.ReviewSupervisionAgreement,
    c.ApproveFrequencyException,
    c.ScheduleSupervisionSession,
    c.CancelSupervisionSession,
    c.RescheduleSupervisionSession,
    c.SignPersonalSupervisionRecord,
    c.StartAbsence,
    c.EndAbsence,
    c.AttendGroupSupervision,
    c.RecordDirectObservation,
    c.SignDirectObservation,
    c.HoldAppraisal,
)
def _worker_command(app: OversightApplication, cmd: c.WorkerCommand) -> list[Aggregate]:
    worker = app.get_worker(cmd.actor.authority_id, cmd.staff_id)
    getattr(worker, cmd.method)(cmd.provenance(), **cmd.arguments("staff_id"))
    return [worker]


@handles(
    c.AllocateTeam,
    c.ChangeCaseType,
    c.ChangeThreshold,
    c.ChangeRiskLevel,
    c.ChangeLegalStatus,
    c.RecordCameIntoCare,
    c.ChangePlacement,
    c.RecordReturnedHome,
    c.RecordAdoptionOrder,
    c.RecordChildDeath,
    c.RecordCareEnded,
    c.RecordLookedAfterReview,
    c.RecordCaseSupervision,
    c.TriggerOversight,
    c.RecordManagementOversight,
    c.RecordManagementDecision,
    c.SetAction,
    c.CompleteAction,
    c.CarryForwardAction,
    c.RecordGroupDiscussion,
)
def _child_command(app: OversightApplication, cmd: c.ChildCommand) -> list[Aggregate]:
    child = app.get_child(cmd.actor.authority_id, cmd.child_id)
    getattr(child, cmd.method)(cmd.provenance(), **cmd.arguments("child_id"))
    return [child]


@handles(c.CloseCase)
def _close_case(app: OversightApplication, cmd: c.CloseCase) -> list[Aggregate]:
    """A closed case leaves its worker's caseload, in the same save: the caseload is the
    worker's open cases (the child keeps who held it). Left on, a worker's caseload grew
    with every case they ever closed, and each personal record then read every one of
    those children again for POR-6.2b's names: at 3 million events, 45 % of the large
    authority's import (ADR 0015)."""
    authority = cmd.actor.authority_id
    child = app.get_child(authority, cmd.child_id)
    provenance = cmd.provenance()
    child.close_case(provenance, kind=cmd.kind, reason=cmd.reason)
    touched: list[Aggregate] = [child]
    if child.allocated_worker_id is None:
        return touched
    try:
        worker = app.get_worker(authority, child.allocated_worker_id)
    except NotFound:  # the worker's file already purged: there is no caseload to leave
        return touched
    if cmd.child_id in worker.caseload:
        worker.hand_over_child(provenance, cmd.child_id)
        touched.append(worker)
    return touched


@handles(
    c.RaiseDisagreement,
    c.EscalateDisagreement,
    c.ResolveDisagreement,
    c.PlaceLegalHold,
    c.LiftLegalHold,
)
def _subject_command(app: OversightApplication, cmd: c.SubjectCommand) -> list[Aggregate]:
    subject = _subject_of(app, cmd)
    getattr(subject, cmd.method)(cmd.provenance(), **cmd.arguments("staff_id", "child_id"))
    return [subject]


@handles(c.CorrectEntry)
def _correct_entry(app: OversightApplication, cmd: c.CorrectEntry) -> list[Aggregate]:
    """Only the entry's author or their line manager corrects it [DUR-4.7a]: the line
    manager is read from the author's own record, as it is now."""
    subject = _subject_of(app, cmd)
    entry = subject.entries.get(cmd.entry_id)
    manager_id: str | None = None
    if entry is not None and entry.recorded_by and entry.recorded_by != cmd.actor.id:
        try:
            manager_id = app.get_worker(cmd.actor.authority_id, entry.recorded_by).line_manager_id
        except (NotFound, ValidationError):  # not a worker here (an importer), or purged
            manager_id = None
    subject.correct_entry(
        cmd.provenance(),
        entry_id=cmd.entry_id,
        changes=cmd.changes,
        reason=cmd.reason,
        authors_line_manager_id=manager_id,
    )
    return [subject]


@dataclass(frozen=True)
class PurgePlan:
    """What a purge would destroy: the record's schedule item and its events'
    tombstones, checked against the store and the authority's pack."""

    subject: Subject
    item: ScheduleItem
    positions: tuple[int, ...]  # the record's events (and, for a whole subject, its log's)
    tombstones: tuple[Tombstone, ...]


def plan_purge(app: OversightApplication, cmd: c.PurgeRecord) -> PurgePlan:
    """Check, from the subject's stored events and its authority's pack, that the record
    is due by ``as_of`` and not held; raise the typed error that says why not. A dry run
    calls this alone, so it lists exactly what a real run would destroy."""
    if cmd.record_class not in RECORD_CLASSES:
        raise ValidationError(
            f"record_class is one of {', '.join(RECORD_CLASSES)}", field="record_class"
        )
    if not isinstance(cmd.as_of, date) or cmd.as_of > cmd.provenance().occurred_at.date():
        raise ValidationError("as_of is a date no later than today", field="as_of")
    # One read of the subject's stored events, with their positions: the aggregate is
    # folded from the same events the check reads (measured: a second read per purge
    # cost a fifth of the run, ADR 0012).
    kind, local_id, subject_id = _subject_key_of(cmd)
    stored = app.command_log.select_subject_notifications(subject_id)
    events: dict[int, Any] = {n.id: app.mapper.to_domain_event(n) for n in stored}
    folded: Any = None
    for event in events.values():
        folded = event.mutate(folded)
    # Who read the subject's record is on its access log, a record of its own per year.
    log_id = AccessLog.create_id(subject_id)
    for n in app.command_log.select_subject_notifications(log_id):
        events[n.id] = app.mapper.to_domain_event(n)
    expected = Worker if kind == "worker" else Child
    if not isinstance(folded, expected) or folded.authority_code != cmd.actor.authority_id:
        raise NotFound(
            f"no {kind} with that id in this authority",
            field="staff_id" if kind == "worker" else "child_id",
        )
    subject: Subject = folded
    facts = [fact_of(position, event) for position, event in events.items()]
    authority = app.get_authority(subject.authority_code)
    pack = app.policy_packs.packs.get(authority.policy_pack)
    wanted = RecordRef(cmd.record_class, cmd.record_id)
    item = next((i for i in schedule(kind, local_id, facts, pack) if i.record == wanted), None)
    if item is None:
        raise NotFound(
            f"no {cmd.record_class} {cmd.record_id!r} on this subject", field="record_id"
        )
    if item.purged is not None:
        raise ValidationError("this record is already purged", field="record_id")
    if item.holds:
        held = ", ".join(f"{h.hold_id} ({h.kind})" for h in item.holds)
        raise ValidationError(f"held by legal hold {held}: lift it first", field="record_id")
    if item.rule_id is None or item.due_on is None:
        why = (
            "the pack states no retention period for this record"
            if item.rule_id is None
            else f"its retention period under {item.rule_id} has not started ({item.trigger})"
        )
        raise ValidationError(f"not due for destruction: {why}", field="record_id")
    if item.due_on > cmd.as_of:
        raise ValidationError(
            f"not due for destruction until {item.due_on.isoformat()} under {item.rule_id}",
            field="as_of",
        )
    positions = list(item.positions)
    if cmd.record_class in (CHILD_RECORD, WORKER_FILE):
        # The subject's own record goes last and takes what is left of its access log
        # with it: no log of reads outlives the record that was read.
        positions += [
            p
            for p, e in events.items()
            if e.originator_id == log_id and type(e).__name__ != "ContentPurged"
        ]
    heads: dict[UUID, int] = {}
    for event in events.values():
        heads[event.originator_id] = max(
            heads.get(event.originator_id, 0), event.originator_version
        )
    tombstones = []
    for position in positions:
        original = events[position]
        common: dict[str, Any] = {
            "originator_id": original.originator_id,
            "originator_version": original.originator_version,
            "timestamp": original.timestamp,
            "record_class": cmd.record_class,
            "record_id": cmd.record_id,
            "authority_code": subject.authority_code,
        }
        tombstone_type: Any = (
            AccessLog.ContentPurged
            if original.originator_id == log_id
            else type(subject).ContentPurged
        )
        if original.originator_id == log_id:
            common["subject_id"] = subject.id
        tombstone = tombstone_type(**common)
        stored_tombstone = app.mapper.to_stored_event(tombstone)
        tombstones.append(
            Tombstone(
                head=heads[original.originator_id],
                position=position,
                originator_id=original.originator_id,
                originator_version=original.originator_version,
                topic=stored_tombstone.topic,
                state=stored_tombstone.state,
            )
        )
    return PurgePlan(subject, item, tuple(sorted(positions)), tuple(tombstones))


@handles(c.PurgeRecord)
def _purge_record(app: OversightApplication, cmd: c.PurgeRecord) -> list[Aggregate]:
    """Record the purge with the tombstones its events become (ADR 0012)."""
    plan = plan_purge(app, cmd)
    assert plan.item.rule_id is not None and plan.item.due_on is not None
    plan.subject.purge_record(
        cmd.provenance(),
        record_class=cmd.record_class,
        record_id=cmd.record_id,
        rule_id=plan.item.rule_id,
        due_on=plan.item.due_on,
        positions=list(plan.positions),
        tombstones=list(plan.tombstones),
    )
    return [plan.subject]


def _subject_key_of(command: c.SubjectCommand) -> tuple[str, str, UUID]:
    """The kind, local id and aggregate id of the subject a command names."""
    authority = command.actor.authority_id
    if (command.staff_id is None) == (command.child_id is None):
        raise ValidationError("give exactly one of staff_id or child_id", field="staff_id")
    if command.staff_id is not None:
        check_local_id(command.staff_id, field="staff_id")
        return "worker", command.staff_id, worker_id(authority, command.staff_id)
    assert command.child_id is not None
    check_local_id(command.child_id, field="child_id")
    return "child", command.child_id, child_id(authority, command.child_id)


@handles(c.RecordAccess)
def _record_access(app: OversightApplication, cmd: c.RecordAccess) -> list[Aggregate]:
    """The subject must be visible to the reader's authority; the read goes on its log.

    Only the subject's first event is read (its registration, or its tombstone): the id
    is derived from the authority and the local id, so that event alone says the
    subject exists here, and which kind it is. Replaying a long history for every read
    cost milliseconds that grow with the record (benchmark 4, issue 7)."""
    kind, _, subject_id = _subject_key_of(cmd)
    subject = app.opening_of(subject_id)
    if not isinstance(subject, Worker if kind == "worker" else Child):
        field = "staff_id" if kind == "worker" else "child_id"
        raise NotFound(f"no {kind} with that id in this authority", field=field)
    log_id = AccessLog.create_id(subject.id)
    try:
        log: AccessLog = app.repository.get(log_id)
    except AggregateNotFoundError:
        log = AccessLog(
            subject_id=subject.id,
            authority_code=subject.authority_code,
            provenance=cmd.provenance(),
        )
    kind = "personal_file" if isinstance(subject, Worker) else "child_record"
    log.record_read(cmd.provenance(), what=cmd.what, purpose=cmd.purpose, kind=kind)
    return [log]


@handles(c.AllocateWorker)
def _allocate_worker(app: OversightApplication, cmd: c.AllocateWorker) -> list[Aggregate]:
    """Child, new worker and previous worker change together or not at all."""
    authority = cmd.actor.authority_id
    provenance = cmd.provenance()
    child = app.get_child(authority, cmd.child_id)
    previous_id = child.allocated_worker_id
    new_worker = app.get_worker(authority, cmd.worker_id)
    if not new_worker.employment.case_holding:
        raise ValidationError("the worker does not hold cases", field="worker_id")
    child.allocate_worker(provenance, worker_id=cmd.worker_id, reason=cmd.reason, team=cmd.team)
    touched: list[Aggregate] = [child, new_worker]
    new_worker.take_on_child(provenance, cmd.child_id)
    if previous_id is not None:
        previous = app.get_worker(authority, previous_id)
        previous.hand_over_child(provenance, cmd.child_id)
        touched.append(previous)
    return touched


@handles(c.HoldSupervisionSession)
def _hold_session(app: OversightApplication, cmd: c.HoldSupervisionSession) -> list[Aggregate]:
    """The session on the worker and a case supervision on each child, in one save."""
    authority = cmd.actor.authority_id
    provenance = cmd.provenance()
    worker = app.get_worker(authority, cmd.staff_id)
    worker.hold_session(
        provenance,
        session_id=cmd.session_id,
        supervisor_id=cmd.supervisor_id,
        duration_minutes=cmd.duration_minutes,
        functions_covered=list(cmd.functions_covered),
        wellbeing_discussed=cmd.wellbeing_discussed,
        equality_and_diversity_discussed=cmd.equality_and_diversity_discussed,
        children_discussed=[d.child_id for d in cmd.case_discussions],
    )
    touched: list[Aggregate] = [worker]
    for index, discussion in enumerate(cmd.case_discussions):
        try:
            child = app.get_child(authority, discussion.child_id)
            arguments = asdict(discussion)
            del arguments["child_id"]
            child.record_case_supervision(
                provenance,
                worker_id=cmd.staff_id,
                supervisor_id=cmd.supervisor_id,
                session_id=cmd.session_id,
                **arguments,
            )
        except (ValidationError, NotFound) as error:
            error.field = f"case_discussions[{index}].{error.field}"
            raise
        touched.append(child)
    return touched


@handles(c.WritePersonalSupervisionRecord)
def _write_personal_record(
    app: OversightApplication, cmd: c.WritePersonalSupervisionRecord
) -> list[Aggregate]:
    """POR-6.2b: the record may not name a child of the authority, by id or by name."""
    authority = cmd.actor.authority_id
    worker = app.get_worker(authority, cmd.staff_id)
    texts: dict[str, str | None] = {
        name: getattr(cmd, name) for name in PERSONAL_RECORD_TEXT_FIELDS
    }
    for index, action in enumerate(cmd.agreed_actions):
        if isinstance(action, dict):
            texts[f"agreed_actions[{index}].description"] = action.get("description")
    candidates = PersonalRecordHoldsNoServiceUserInformation.candidate_identifiers(texts.values())
    child_ids = [token for token in candidates if app.child_exists(authority, token)]
    names = _caseload_names(
        app, authority, sorted(worker.children_worked_with(cmd.occurred_at.date()))
    )
    PersonalRecordHoldsNoServiceUserInformation.check(texts, child_ids, names)
    worker.write_personal_record(cmd.provenance(), **cmd.arguments("staff_id"))
    return [worker]


def _caseload_names(
    app: OversightApplication, authority: str, caseload: Iterable[str]
) -> list[str]:
    names: list[str] = []
    for local_id in caseload:
        try:
            name = app.get_child(authority, local_id).name
        except NotFound:  # its record purged since: no name left to look for
            continue
        if name:
            names.append(name)
            names.extend(part for part in name.split() if len(part) >= 3)
    return names


@handles(c.RemoveComment)
def _remove_comment(app: OversightApplication, cmd: c.RemoveComment) -> list[Aggregate]:
    """DUR-4.8b: only the manager of the supervisor who wrote the record."""
    authority = cmd.actor.authority_id
    worker = app.get_worker(authority, cmd.staff_id)
    record = worker.records.get(cmd.record_id)
    manager_id: str | None = None
    if record is not None:
        try:
            manager_id = app.get_worker(authority, record.supervisor_id).line_manager_id
        except NotFound:
            manager_id = None
    worker.remove_comment(
        cmd.provenance(),
        record_id=cmd.record_id,
        field_name=cmd.field_name,
        reason=cmd.reason,
        original_supervisors_manager_id=manager_id,
    )
    return [worker]


__all__ = [
    "BatchReport",
    "CommandLog",
    "CommandReceipt",
    "CommandRefused",
    "CommandResult",
    "OversightApplication",
    "PurgePlan",
    "plan_purge",
]

"""The application service: runs commands against aggregates, exactly once each.

``execute`` is the one entry point for writes. It
1. returns the stored result if the command id was already executed (idempotency),
2. loads the aggregates, lets them validate and trigger events,
3. saves every touched aggregate *and* the command receipt in one transaction
   (atomic multi-aggregate save), and
4. turns a lost optimistic-concurrency race into a retryable ``ConcurrencyConflict``.

Which use case decides a command is the dispatch table's (``application.handlers``);
receipts, the aggregate cache, batching and transcoding each have a module of their own.
Persistence is reached only through the library's recorder and the ``CommandLog``
protocol, which the infrastructure's recorders implement (ADR 0002).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Transcoder

from application import metrics
from application.cache import AggregateCache, cache_size
from application.handlers import Handler, handler_of
from application.policy import cite_refusal
from application.receipts import (
    CommandLog,
    CommandResult,
    StaleRead,
    receipt_of,
    refuse_reuse,
)
from application.receipts import fingerprint as fingerprint_of
from application.registration import REGISTRATIONS, registration_field
from application.relationships import relationship_events
from application.transcoding import VALUE_TRANSCODINGS, FastJSONTranscoder
from domain import commands as c
from domain.access import AccessLog
from domain.authority import Authority
from domain.child import Child
from domain.errors import (
    AlreadyExists,
    ConcurrencyConflict,
    DomainError,
    NotFound,
    ValidationError,
)
from domain.events import RecordAccessed, RecordPurged, kind_of
from domain.identifiers import authority_id, check_local_id, child_id, worker_id
from domain.policy.packs import PackLibrary
from domain.subject import Subject, SubjectPurged
from domain.worker import Worker

if TYPE_CHECKING:
    from application.batching import BatchReport, OnGroup

A = TypeVar("A", bound=Aggregate)


class _TrustedStale(Exception):
    """A command decided on kept aggregates without reading the store first, and the
    store said they were behind: decide it again on what the store holds."""


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
    def aggregate_cache(self) -> AggregateCache | None:
        size = cache_size(self.env.get("AGGREGATE_CACHE_SIZE"))
        return AggregateCache(size) if size > 0 else None

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
        for transcoding in VALUE_TRANSCODINGS:
            transcoder.register(transcoding())

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

    def save(self, *objs: Any, **kwargs: Any) -> Any:
        """The library's save, with the relationship rows the events change written in
        the same transaction (``relationships=``, ADR 0020 addendum): every way an
        aggregate is saved keeps the relationship table. None for most commands, which
        then write as before."""
        if "relationships" not in kwargs:
            kwargs["relationships"] = relationship_events(
                e
                for o in objs
                if o is not None
                for e in (o.pending_events if isinstance(o, Aggregate) else (o,))
            )
        # The library's ``save``, collecting an aggregate's events without its
        # ``ProcessingEvent.collect_events``, which asks ``isinstance`` of two
        # runtime-checkable Protocols per object (typing walks each Protocol's members:
        # about 10 us a command, session 10). Everything saved here is an ``Aggregate``
        # or a domain event; anything else goes the library's way.
        processing_event: ProcessingEvent[UUID] = ProcessingEvent()
        for obj in objs:
            if isinstance(obj, Aggregate):
                processing_event.events.extend(obj.collect_events())
                processing_event.aggregates[obj.id] = obj
            elif isinstance(obj, Aggregate.Event):
                processing_event.events.append(obj)
            elif obj is not None:
                processing_event.collect_events(obj)
        processing_event.saved_kwargs.update(kwargs)
        recordings = self._record(processing_event)
        self._take_snapshots(processing_event)
        self._notify(recordings)
        self.notify(processing_event.events)  # the library's deprecated hook, kept
        return recordings

    def execute(
        self,
        command: c.Command,
        *,
        retries: int = 0,
        authorize: Callable[[OversightApplication], None] | None = None,
        occurred_at_given: bool = True,
    ) -> CommandResult:
        """Run a command exactly once. A retry with the same command id returns the
        original result; the same id with a different command is refused. With
        ``retries``, a lost concurrency race is retried on freshly loaded aggregates.
        ``authorize`` decides, before the command's rules run, whether its actor may do
        it, on the aggregates it reads here: each is checked at the write like those the
        command itself reads, so the decision stands on what is written with it.
        ``occurred_at_given``: false when the valid time is an adapter's default, which a
        retry need not repeat (ADR 0027)."""
        started = time.perf_counter()
        outcome = metrics.FAILED
        try:
            result = self._execute_retrying(command, retries, authorize, occurred_at_given)
            outcome = metrics.REPLAYED if result.replayed else metrics.WRITTEN
            return result
        except DomainError:
            outcome = metrics.REFUSED
            raise
        finally:
            # Measured here, where every command of the API and the CLI runs, and once.
            metrics.observe_command(type(command).__name__, outcome, time.perf_counter() - started)

    def _execute_retrying(
        self,
        command: c.Command,
        retries: int,
        authorize: Callable[[OversightApplication], None] | None,
        given: bool,
    ) -> CommandResult:
        for attempt in range(retries + 1):
            try:
                try:
                    return self._execute_once(
                        command, trusting=True, authorize=authorize, occurred_at_given=given
                    )
                except _TrustedStale:
                    return self._execute_once(
                        command, trusting=False, authorize=authorize, occurred_at_given=given
                    )
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
        occurred_at_given: bool = True,
    ) -> CommandResult:
        """Decide and write ``command`` once. ``trusting``: decide on the aggregates this
        process keeps as they are, without reading the store first; the write then
        checks every one of them is still current (the store's version key for those
        it changes, a version check for those it only read), and a stale one makes
        the caller decide again, not trusting (ADR 0016). Purges never trust."""
        authority = command.actor.authority_id
        fingerprint = fingerprint_of(command, occurred_at_given=occurred_at_given)
        handler = handler_of(command)
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
        except DomainError as error:
            earlier = self._earlier_result(authority, command, fingerprint)
            if earlier is not None:
                return earlier
            if reads.trusted:
                raise _TrustedStale from None  # refused on what may be out of date
            cite_refusal(self, authority, error)  # citing its own pack's clauses
            raise
        receipt = receipt_of(command, fingerprint, aggregates)
        events = sum(len(a.pending_events) for a in aggregates)
        tombstones = [t for a in aggregates for t in getattr(a, "purging", ())]
        changed = {a.id for a in aggregates if a.pending_events}
        reads_recorded = [
            (a.authority_code, sum(1 for e in a.pending_events if kind_of(e) is RecordAccessed))
            for a in aggregates
            if isinstance(a, AccessLog)
        ]
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
            if isinstance(command, REGISTRATIONS):
                raise AlreadyExists(
                    "already registered in this authority", field=registration_field(command)
                ) from None
            raise ConcurrencyConflict(
                "another command changed this record first; reload and retry",
                field="command_id",
            ) from None
        for authority_code, count in reads_recorded:
            metrics.count_access_write(authority_code, count)
        cache = self.aggregate_cache
        # Written: what it decided on is what the store now holds. Never keep a purge's:
        # the purged record's content is still in the aggregate it decided on (only the
        # stored events are rewritten).
        if cache is not None and not tombstones:
            cache.put_all(
                aggregate
                for aggregate in (*reads.taken.values(), *aggregates)
                if not isinstance(aggregate, AccessLog)  # read by id, never through here
            )
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
        refuse_reuse(command, fingerprint, receipt)
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
        """Run many commands with the same rules, writing up to ``batch_size`` at a time
        (bulk imports, ADR 0015): see ``application.batching.execute_batch``."""
        # Imported here: a batch reads through a view that is a subclass of this class.
        from application.batching import execute_batch

        return execute_batch(self, commands, batch_size=batch_size, on_result=on_result)

    def execute_atomically(
        self, commands: Sequence[c.Command], *, retries: int = 2
    ) -> list[CommandResult]:
        """Run ``commands`` all or nothing, in one transaction: see
        ``application.batching.execute_atomically``."""
        from application.batching import execute_atomically

        return execute_atomically(self, commands, retries=retries)

    def execute_groups(
        self,
        groups: Iterable[Sequence[c.Command]],
        *,
        batch_size: int = 2_000,
        dry_run: bool = False,
        on_group: OnGroup | None = None,
    ) -> BatchReport:
        """Run many groups of commands (an import's rows), each all or nothing, in few
        transactions: see ``application.batching.execute_groups``."""
        from application.batching import execute_groups

        return execute_groups(
            self, groups, batch_size=batch_size, dry_run=dry_run, on_group=on_group
        )

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
                else self.repository.get(aggregate_id, version=version, projector_func=fold)
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
            return self.repository.get(aggregate_id, projector_func=fold)
        aggregate = reads.taken.get(aggregate_id)  # read twice by the same command
        if aggregate is None:
            aggregate = self._take(cache, aggregate_id, reads)
            reads.taken[aggregate_id] = aggregate
            reads.versions[aggregate_id] = aggregate.version
        return aggregate

    def _take(self, cache: AggregateCache, aggregate_id: UUID, reads: _Reads) -> Any:
        aggregate = cache.take(aggregate_id)
        if aggregate is not None:
            if reads.trusting:
                reads.trusted = True
                return aggregate
            newer = list(self.events.get(aggregate_id, gt=aggregate.version))
            if not any(kind_of(event) is RecordPurged for event in newer):
                return fold(aggregate, newer)
        return self.repository.get(aggregate_id, projector_func=fold)

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


def fold(aggregate: Any, events: Iterable[Any]) -> Any:
    """The library's ``project_aggregate`` without its per-event ``isinstance`` against
    a runtime-checkable Protocol, which cost a sixth of recording a command (issue 7,
    benchmark 1). Every event this store holds is an ``Aggregate.Event``: it mutates."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


__all__ = [
    "CommandResult",
    "OversightApplication",
    "SubjectPurged",
    "fold",
]

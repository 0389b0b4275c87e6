"""Deadline clocks as data: what starts a clock, what stops it, and what is due.

A deadline rule names a *clock* and says how long it may run (``within``). A pack declares
its clocks in ``[clock.NAME]`` tables (``domain/policy/packs.py`` parses and validates
them; the national minimum declares the built-in ones and every pack that extends it
inherits them, so an authority may add a clock or override one without code). A clock
definition says:

- ``start``: which event starts the clock (a catalogue event, optionally filtered on its
  fields), and the day it starts (the event's day, or a date field of it);
- ``item``: the field naming what the clock is about (a session, a disagreement);
- ``stop``: what stops it (an event naming the item, the first event of a kind on or after
  the start, every party's signature since the last correction, ...);
- ``what``: the words for what is due, naming fields of the starting event.

The engine (``run``) interprets a small, closed set of *matchers*, each a small function
chosen by the data: ``STARTS`` find where clocks start, ``STOPS`` find what stops each.
A new kind of clock needs a new matcher (code); a new clock of a known kind needs only data.

``supervisor_absence`` is the one dedicated start matcher: its clocks start on another
subject's facts (a worker's supervisor's absences, passed in as ``related``), so it reads
the supervisor's absences and who supervised the worker, which no field filter expresses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from string import Formatter
from typing import TYPE_CHECKING, Any

from domain.events import AbsenceEnded, AbsenceStarted, EventType
from domain.policy.calendar import Period
from domain.policy.timeline import LONDON, Fact, _date

if TYPE_CHECKING:
    from domain.policy.compliance import _Absence

#: A value a ``where`` filter compares a field with.
Scalar = str | int | bool


@dataclass(frozen=True)
class ClockStart:
    """Where a clock starts: a start matcher (``STARTS``) and its parameters."""

    match: str
    event: EventType | None = None
    #: ``closing``: the event that opened the item the ``event`` closes.
    opened_by: EventType | None = None
    #: Fields that must equal these values (on the opening event, for ``closing``).
    where: Mapping[str, Scalar] = field(default_factory=dict)
    #: Fields that must not be empty (e.g. an oversight record's actions).
    present: tuple[str, ...] = ()
    #: The date field the clock starts on (None: the event's own day).
    on: str | None = None


@dataclass(frozen=True)
class ClockStop:
    """What stops a clock: a stop matcher (``STOPS``) and its parameters."""

    match: str
    event: EventType | None = None
    events: tuple[EventType, ...] = ()
    #: The stopping event's field that names the item.
    key: str | None = None
    #: ``first_since``: an event whose field equals the item does not stop the clock.
    other_than: str | None = None
    #: ``signed_by_all``: the record, its signatures and what voids them, and who signs.
    record: EventType | None = None
    signed: EventType | None = None
    voided: EventType | None = None
    parties: tuple[str, ...] = ()


@dataclass(frozen=True)
class Clock:
    """One clock a pack defines (``[clock.NAME]``)."""

    name: str
    subject: str  # worker, child or any
    item: str | None = None
    start: ClockStart | None = None
    stop: ClockStop | None = None
    what: str = ""
    #: Items that carry their own due day, kept by a register rather than started and
    #: stopped here (``actions``: agreed actions, ``compliance.action_items``).
    register: str | None = None


@dataclass(frozen=True)
class Started:
    """A clock that started: on what, on which day, about which item."""

    fact: Fact
    day: date
    item: str
    #: Stopping events count from this day (the start day, unless the matcher says).
    since: date
    #: What the ``what`` sentence may name beyond the starting event's fields.
    values: Mapping[str, Any] = field(default_factory=dict)
    #: The end of what started the clock: if it comes before a stopping event, nothing is
    #: left to do (a supervisor back from absence before anyone else supervised).
    ends: Fact | None = None


#: A started clock's outcome, as compliance reads it: (the event that starts the clock,
#: the day it starts, the event that stops it, what is due, the item it concerns).
Run = tuple[Fact, date, Fact | None, str, str]

StartFinder = Callable[
    [Clock, Sequence[Fact], Mapping[str, Sequence[Fact]], Period | None], Iterator[Started]
]
StopLookup = Callable[[Started], Fact | None]
StopFinder = Callable[[ClockStop, Sequence[Fact]], StopLookup]


# -- start matchers ------------------------------------------------------------------------


def _matches(fact: Fact, start: ClockStart) -> bool:
    data = fact.data
    return all(data.get(name) == value for name, value in start.where.items()) and all(
        data.get(name) for name in start.present
    )


def _started(clock: Clock, fact: Fact) -> Started:
    assert clock.start is not None and clock.item is not None
    on = clock.start.on
    day = _date(fact.data[on]) if on is not None else fact.day
    return Started(fact, day, str(fact.data[clock.item]), day)


def start_each(
    clock: Clock,
    facts: Sequence[Fact],
    related: Mapping[str, Sequence[Fact]],
    after: Period | None,
) -> Iterator[Started]:
    """Every ``event`` whose fields match ``where`` and ``present``: a session held, a
    disagreement raised, an oversight record that set actions."""
    assert clock.start is not None
    start = clock.start
    for fact in facts:
        if fact.kind is start.event and _matches(fact, start):
            yield _started(clock, fact)


def start_closing(
    clock: Clock,
    facts: Sequence[Fact],
    related: Mapping[str, Sequence[Fact]],
    after: Period | None,
) -> Iterator[Started]:
    """Every ``event`` that closes an item an ``opened_by`` event opened (the same
    ``item`` field; the latest opener counts), the opener's fields matching ``where`` and
    ``present``: a sickness absence ended (the kind is on the absence's start)."""
    assert clock.start is not None and clock.item is not None
    start, item = clock.start, clock.item
    opened = {str(f.data[item]): f for f in facts if f.kind is start.opened_by}
    for fact in facts:
        if fact.kind is start.event:
            opener = opened.get(str(fact.data[item]))
            if opener is not None and _matches(opener, start):
                yield _started(clock, fact)


def start_supervisor_absence(
    clock: Clock,
    facts: Sequence[Fact],
    related: Mapping[str, Sequence[Fact]],
    after: Period | None,
) -> Iterator[Started]:
    """Dedicated and cross-subject: each absence of the worker's supervisor (their facts
    in ``related``) longer than the rule's ``after``, starting when it has lasted that
    long. The item is the supervisor's staff id; stopping events count from the absence's
    first day, and the supervisor's return ends the clock. ``what`` may name
    ``absent_from`` (the absence's first day)."""
    assert after is not None, "a supervisor_absence clock needs the rule's after"
    for staff_id, absence, started in _supervisor_absences(facts, related, after):
        yield Started(
            started,
            after.after(absence.start),
            staff_id,
            since=absence.start,
            values={"absent_from": absence.start},
            ends=related_return(related[staff_id], absence),
        )


def _supervisor_absences(
    facts: Sequence[Fact], related: Mapping[str, Sequence[Fact]], after: Period
) -> Iterator[tuple[str, _Absence, Fact]]:
    """Absences of the worker's supervisor that lasted longer than ``after``: (the
    supervisor, the absence, the fact that started it)."""
    # The absence and supervisor folds are compliance's, which imports this engine.
    from domain.policy.compliance import _absences, supervisor_on

    for staff_id, their_facts in sorted(related.items()):
        starts = {str(f.data["absence_id"]): f for f in their_facts if f.kind is AbsenceStarted}
        for absence in _absences(their_facts):
            if supervisor_on(facts, absence.start) != staff_id:
                continue
            threshold = after.after(absence.start)
            if absence.end is not None and absence.end <= threshold:
                continue  # back within the period: nothing to arrange
            started = next(
                f for f in starts.values() if _date(f.data["started_on"]) == absence.start
            )
            yield staff_id, absence, started


def related_return(facts: Sequence[Fact], absence: _Absence) -> Fact | None:
    """The fact ending ``absence``, dated the day its subject came back."""
    if absence.end is None:
        return None
    ended = next(
        (
            f
            for f in facts
            if f.kind is AbsenceEnded and _date(f.data["returned_on"]) == absence.end
        ),
        None,
    )
    if ended is None:
        return None
    back = datetime.combine(absence.end, time(12), tzinfo=LONDON)
    return replace(ended, occurred_at=back)


# -- stop matchers -------------------------------------------------------------------------


def stop_keyed(stop: ClockStop, facts: Sequence[Fact]) -> StopLookup:
    """The ``event`` whose ``key`` field names the item (the latest in valid time, if
    several): the record written for the session, the disagreement's resolution."""
    assert stop.key is not None
    key = stop.key
    found = {str(f.data[key]): f for f in facts if f.kind is stop.event}
    return lambda started: found.get(started.item)


def stop_listed(stop: ClockStop, facts: Sequence[Fact]) -> StopLookup:
    """The first ``event`` whose ``key`` field, a list, names the item: the oversight
    record that answers the trigger."""
    assert stop.key is not None
    found: dict[str, Fact] = {}
    for f in facts:
        if f.kind is stop.event:
            for value in f.data.get(stop.key, []):
                found.setdefault(str(value), f)
    return lambda started: found.get(started.item)


def stop_first_since(stop: ClockStop, facts: Sequence[Fact]) -> StopLookup:
    """The first of ``events`` on or after the day stopping events count from (the start
    day, unless the start matcher says otherwise), skipping one whose ``other_than`` field
    equals the item: a session held after the return, a session with someone else."""
    candidates = [f for f in facts if f.kind in stop.events]
    other_than = stop.other_than

    def lookup(started: Started) -> Fact | None:
        return next(
            (
                f
                for f in candidates
                if f.day >= started.since
                and (other_than is None or str(f.data[other_than]) != started.item)
            ),
            None,
        )

    return lookup


def stop_first_after(stop: ClockStop, facts: Sequence[Fact]) -> StopLookup:
    """The first of ``events`` that happened after the starting event (later in valid
    time, not merely on a later day): the next case supervision after an oversight."""
    candidates = [f for f in facts if f.kind in stop.events]

    def lookup(started: Started) -> Fact | None:
        moment = started.fact.occurred_at
        return next((f for f in candidates if f.occurred_at > moment), None)

    return lookup


def stop_recorded(stop: ClockStop, facts: Sequence[Fact]) -> StopLookup:
    """The starting event itself, dated when it was recorded: an entry is on the child's
    record when it was entered in the system."""
    return lambda started: replace(started.fact, occurred_at=started.fact.recorded_at)


#: The fields ``signed_by_all`` reads, by the event that carries them.
SIGNATURE_FIELDS = {
    "record": ("record_id",),
    "signed": ("record_id", "signatory"),
    "voided": ("entry_id", "voided"),
}


def stop_signed_by_all(stop: ClockStop, facts: Sequence[Fact]) -> StopLookup:
    """Every one of ``parties`` signed the item's record (the ``record`` event whose
    ``key`` field names the item) since a correction last voided signatures; stops at the
    last of those signatures. ``signed`` events name the record and the signatory,
    ``voided`` events the entry and the parties, taken in recorded order (ADR 0020)."""
    assert stop.key is not None
    key, parties = stop.key, stop.parties
    written = {str(f.data[key]): f for f in facts if f.kind is stop.record}
    signatures: dict[str, dict[str, Fact]] = {}
    # In recorded order: a correction voids the signatures recorded before it, and a
    # party signs again after it.
    for f in sorted(facts, key=lambda f: f.position):
        if f.kind is stop.signed:
            signatures.setdefault(str(f.data["record_id"]), {})[str(f.data["signatory"])] = f
        elif f.kind is stop.voided:
            for party in f.data["voided"]:
                signatures.get(str(f.data["entry_id"]), {}).pop(str(party), None)

    def lookup(started: Started) -> Fact | None:
        record = written.get(started.item)
        signed = signatures.get(str(record.data["record_id"]), {}) if record else {}
        every = [signed[p] for p in parties if p in signed]
        return max(every, key=lambda f: f.occurred_at) if len(every) == len(parties) else None

    return lookup


# -- the matchers, as data selects them ----------------------------------------------------


@dataclass(frozen=True)
class StartMatcher:
    """A start matcher and what its ``[clock.NAME.start]`` table takes."""

    find: StartFinder
    required: frozenset[str]
    optional: frozenset[str] = frozenset()
    #: Whether the clock names its ``item`` field (else the matcher gives the item).
    needs_item: bool = True
    #: Whether the deadline rule gives ``after`` (how long before the clock starts).
    needs_after: bool = False
    #: Names ``what`` may use beyond the starting event's fields and ``item``.
    provides: frozenset[str] = frozenset()


@dataclass(frozen=True)
class StopMatcher:
    """A stop matcher and what its ``[clock.NAME.stop]`` table takes."""

    find: StopFinder
    required: frozenset[str]
    optional: frozenset[str] = frozenset()


_FILTERS = frozenset({"where", "present", "on"})

#: The start matchers: a closed set, chosen by ``start.match``.
STARTS: Mapping[str, StartMatcher] = {
    "each": StartMatcher(start_each, frozenset({"event"}), _FILTERS),
    "closing": StartMatcher(start_closing, frozenset({"event", "opened_by"}), _FILTERS),
    "supervisor_absence": StartMatcher(
        start_supervisor_absence,
        frozenset(),
        needs_item=False,
        needs_after=True,
        provides=frozenset({"absent_from"}),
    ),
}

#: The stop matchers: a closed set, chosen by ``stop.match``.
STOPS: Mapping[str, StopMatcher] = {
    "keyed": StopMatcher(stop_keyed, frozenset({"event", "key"})),
    "listed": StopMatcher(stop_listed, frozenset({"event", "key"})),
    "first_since": StopMatcher(stop_first_since, frozenset({"events"}), frozenset({"other_than"})),
    "first_after": StopMatcher(stop_first_after, frozenset({"events"})),
    "recorded": StopMatcher(stop_recorded, frozenset()),
    "signed_by_all": StopMatcher(
        stop_signed_by_all, frozenset({"record", "key", "signed", "voided", "parties"})
    ),
}

#: The registers that keep items with their own due day (``Clock.register``).
REGISTERS = frozenset({"actions"})


# -- the words for what is due -------------------------------------------------------------

#: Format specs ``what`` may use: ``{kind:words}`` writes ``child_became_looked_after``
#: as "child became looked after".
SPECS = frozenset({"", "words"})


class _Value:
    """A value in ``what``, formatted as itself or, with ``:words``, as words."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __format__(self, spec: str) -> str:
        text = str(self.value)
        return text.replace("_", " ") if spec == "words" else text


class _Values(Mapping[str, _Value]):
    """What a started clock's ``what`` may name: ``item``, the matcher's values, then the
    starting event's fields."""

    def __init__(self, started: Started) -> None:
        self.started = started

    def __getitem__(self, name: str) -> _Value:
        started = self.started
        if name == "item":
            return _Value(started.item)
        if name in started.values:
            return _Value(started.values[name])
        return _Value(started.fact.data[name])

    def __iter__(self) -> Iterator[str]:
        return iter(("item", *self.started.values, *self.started.fact.data))

    def __len__(self) -> int:
        return 1 + len(self.started.values) + len(self.started.fact.data)


def placeholders(template: str) -> list[tuple[str, str]]:
    """The (name, spec) pairs a ``what`` template uses (ValueError: not a template)."""
    found: list[tuple[str, str]] = []
    for _, name, spec, conversion in Formatter().parse(template):
        if name is None:
            continue
        if conversion is not None:
            raise ValueError(f"{{{name}!{conversion}}}: no conversions, only {{name:words}}")
        found.append((name, spec or ""))
    return found


def words(clock: Clock, started: Started) -> str:
    """What is due, in words, for one started clock."""
    if "{" not in clock.what:
        return clock.what
    return clock.what.format_map(_Values(started))


# -- the engine ----------------------------------------------------------------------------


def run(
    clock: Clock,
    facts: Sequence[Fact],
    related: Mapping[str, Sequence[Fact]],
    after: Period | None = None,
) -> Iterator[Run]:
    """Every time ``clock`` started on the subject's ``facts`` (valid-time order), with
    what stopped it (None: still running), in the order the clocks started. ``related``:
    other subjects' facts a cross-subject matcher reads, by staff id; ``after``: the
    deadline rule's ``after``, for a matcher that needs it."""
    if clock.register is not None or clock.start is None or clock.stop is None:
        raise ValueError(f"clock {clock.name} is kept by the {clock.register} register")
    lookup = STOPS[clock.stop.match].find(clock.stop, facts)
    for started in STARTS[clock.start.match].find(clock, facts, related, after):
        done = lookup(started)
        ends = started.ends
        if ends is not None and (done is None or done.day > ends.day):
            done = ends
        yield started.fact, started.day, done, words(clock, started), started.item

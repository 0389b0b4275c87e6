"""DfE Children in Need census XML import (issue 21, ADR 0026).

The census is one XML document, ``Message`` with a ``Header`` (``CollectionDetails``:
``Collection`` CIN, ``ReferenceDate``) and ``Children/Child``. Each child is read, checked
against the census's own validation rules (their DfE codes in every rejection) and turned
into commands on the Child, with its real dates as ``occurred_at`` and the import flag set:

- ``ChildIdentifiers``: ``LAchildID`` (the child id), ``PersonBirthDate`` or
  ``ExpectedPersonBirthDate`` (an unborn child). A child not yet known is registered as a
  child in need (``cin``) at ``--risk-level``: the census carries no risk level.
- ``CINdetails``, one per episode, in referral order: ``CINreferralDate``,
  ``ReferralSource``, ``PrimaryNeedCode``, ``ReferralNFA`` (a referral going no further
  opens no episode); ``CINclosureDate`` with ``ReasonForClosure`` closes it.
- ``Assessments``: an authorised assessment (``AssessmentActualStartDate``,
  ``AssessmentAuthorisationDate``, ``FactorsIdentifiedAtAssessment/AssessmentFactors``).
  One not yet authorised is not read: it is recorded when a later census authorises it.
- ``Section47``: ``S47ActualStartDate`` and ``ICPCnotRequired``; its ``DateOfInitialCPC``
  (and the episode's own) is an initial child protection conference.
- ``ChildProtectionPlans``: ``CPPstartDate`` (with ``InitialCategoryOfAbuse``),
  ``Reviews/CPPreviewDate`` and ``CPPendDate``. A plan makes the case child protection,
  and its end makes it child in need again; its pack says which of these are key points.
- ``CINPlanDates``: ``CINPlanStartDate``.

Not read, because case oversight does not need them: UPN, former UPN and the reason it is
unknown, sex, ethnicity, disabilities, date of death (recorded from the case file, as
SSDA903 does), ``CINPlanEndDate``, ``AssessmentInternalReviewDate``, ``InitialCPCtarget``,
``LatestCategoryOfAbuse`` and ``NumberOfPreviousCPP``.

The file is parsed with defusedxml, which refuses a DTD (so no entity expansion and no
external entity is ever read), and streamed: each ``Child`` is dropped once imported, so
memory stays bounded whatever the file's size. A file that cannot be read as a census (not
XML, not UTF-8, truncated, a DTD, another collection, empty) is refused before anything is
written (``CensusFileError``, one line naming the file and the problem): the whole file is
checked in a first streaming pass.

Each child's commands run all or nothing (``execute_atomically``). Every census module is
an entry on the child whose id comes from its own dates, and every command id from the
child and that entry, so importing the same file again writes nothing; a corrected file
(a referral source, a primary need, a reason for closure, a category of abuse, assessment
factors) records a correction of the entry (``CorrectEntry``), never a second one.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from application.app import OversightApplication
from domain import commands as c
from domain.child import Child
from domain.errors import DomainError, NotFound
from domain.events import (
    AssessmentCompleted,
    ChildInNeedEpisodeClosed,
    ChildInNeedPlanStarted,
    ChildProtectionPlanEnded,
    ChildProtectionPlanReviewed,
    ChildProtectionPlanStarted,
    ChildRegistered,
    EntryCorrected,
    EventType,
    InitialChildProtectionConferenceHeld,
    ReferralReceived,
    Section47EnquiryStarted,
)
from domain.identifiers import check_local_id
from domain.provenance import Actor
from domain.vocabulary import CategoryOfAbuse, PrimaryNeed, ReasonForClosure
from oversight.importers.jobs import Job, JobReport, Step

#: The census's reasons for closure (8640), primary needs and categories of abuse.
REASONS = frozenset(r.value for r in ReasonForClosure)
NEEDS = frozenset(n.value for n in PrimaryNeed)
CATEGORIES = frozenset(k.value for k in CategoryOfAbuse)
#: The census's referral sources (CIN census code set, ``ReferralSource``).
SOURCES = frozenset(
    {"1A", "1B", "1C", "1D", "2A", "2B", "3A", "3B", "3C", "3D", "3E", "3F", "4", "5A", "5B"}
    | {"5C", "5D", "6", "7", "8", "9", "10"}
)
#: A factor that stands alone: "no factors identified" (8869).
NO_FACTORS = "21"
TRUE = frozenset({"true", "1"})
FALSE = frozenset({"false", "0", ""})
#: Within 40 weeks of birth a pre-birth referral is possible (8606).
BEFORE_BIRTH = timedelta(weeks=40)
#: The encoding an XML declaration names.
DECLARED_ENCODING = re.compile(rb"<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")
#: The order of a child's census facts on one day: a plan reviewed and ended before the
#: next one starts, the episode closed last.
SAME_DAY: tuple[type[c.Command], ...] = (
    c.RecordReferral,
    c.RecordAssessment,
    c.RecordSection47Enquiry,
    c.RecordInitialChildProtectionConference,
    c.StartChildInNeedPlan,
    c.ReviewChildProtectionPlan,
    c.EndChildProtectionPlan,
    c.StartChildProtectionPlan,
    c.CloseChildInNeedEpisode,
)
#: Children planned and run together (their receipts asked of the store in one query).
BLOCK = 200
#: How many children's positions a run reports progress every.
PROGRESS_EVERY = 200


class CensusFileError(ValueError):
    """A file that cannot be read as a CIN census at all: nothing of it is written."""


class ChildError(ValueError):
    """One child the census's rules reject: its DfE rule code, the field and why."""

    def __init__(self, code: str, field: str, message: str) -> None:
        super().__init__(f"[{code}] {field}: {message}")
        self.code, self.field, self.message = code, field, message


# -- what the census says about one child -----------------------------------------------


@dataclass(frozen=True)
class Assessment:
    started_on: date | None
    authorised_on: date | None
    factors: tuple[str, ...]


@dataclass(frozen=True)
class Section47:
    started_on: date | None
    conference_on: date | None
    conference_not_required: bool


@dataclass(frozen=True)
class Plan:
    started_on: date
    ended_on: date | None
    category: str
    reviews: tuple[date, ...]


@dataclass(frozen=True)
class Episode:
    referral_on: date
    source: str
    need: str
    no_further_action: bool
    closed_on: date | None
    reason: str
    conference_on: date | None
    assessments: tuple[Assessment, ...]
    enquiries: tuple[Section47, ...]
    plans: tuple[Plan, ...]
    cin_plans: tuple[date, ...]

    def dates(self) -> Iterator[tuple[str, date]]:
        """Every activity date in the episode, with its element (8565)."""
        for a in self.assessments:
            if a.started_on:
                yield "AssessmentActualStartDate", a.started_on
            if a.authorised_on:
                yield "AssessmentAuthorisationDate", a.authorised_on
        for s in self.enquiries:
            if s.started_on:
                yield "S47ActualStartDate", s.started_on
            if s.conference_on:
                yield "DateOfInitialCPC", s.conference_on
        if self.conference_on:
            yield "DateOfInitialCPC", self.conference_on
        for p in self.plans:
            yield "CPPstartDate", p.started_on
            if p.ended_on:
                yield "CPPendDate", p.ended_on
            for r in p.reviews:
                yield "CPPreviewDate", r
        for d in self.cin_plans:
            yield "CINPlanStartDate", d


@dataclass(frozen=True)
class CensusChild:
    position: int  # 1-based index of the <Child> in the file
    child_id: str
    born_on: date | None
    expected_on: date | None
    episodes: tuple[Episode, ...]


@dataclass(frozen=True)
class Census:
    """The header: the census year ends on ``reference_date`` (8620)."""

    reference_date: date

    @property
    def starts_on(self) -> date:
        end = self.reference_date
        try:
            return end.replace(year=end.year - 1) + timedelta(days=1)
        except ValueError:  # 29 February
            return date(end.year - 1, 3, 1)


# -- reading: safe, streamed --------------------------------------------------------------


def _check_start(path: Path) -> None:
    """Empty files and other encodings, named before the parser sees them."""
    try:
        with path.open("rb") as handle:
            head = handle.read(512)
    except OSError as error:
        raise CensusFileError(f"{path.name}: cannot be read ({error.strerror})") from None
    if not head.strip():
        raise CensusFileError(f"{path.name}: the file is empty")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in head[:4]:
        raise CensusFileError(f"{path.name}: encoded as UTF-16; a CIN census is UTF-8")
    declared = DECLARED_ENCODING.match(head.lstrip(b"\xef\xbb\xbf").lstrip())
    if declared and declared.group(1).lower() not in (b"utf-8", b"utf8", b"us-ascii", b"ascii"):
        shown = declared.group(1).decode("ascii", "replace")
        raise CensusFileError(f"{path.name}: declares encoding {shown}; a CIN census is UTF-8")


def _elements(path: Path) -> Iterator[tuple[str, Element]]:
    """``(event, element)`` from the file, with any failure a ``CensusFileError``."""
    _check_start(path)
    try:
        with path.open("rb") as handle:
            yield from iterparse(handle, events=("start", "end"), forbid_dtd=True)
    except DefusedXmlException:
        raise CensusFileError(
            f"{path.name}: refused: the document has a DTD or entities "
            "(a census has none; none was expanded or fetched)"
        ) from None
    except ParseError as error:
        line, column = error.position
        what = str(error).split(":", 1)[0]
        if what == "no element found" or what.startswith("unclosed token"):
            problem = "truncated: the XML ends before the document does"
        elif what == "not well-formed (invalid token)":
            problem = "not well-formed XML, or not UTF-8"
        elif what == "syntax error" and line == 1 and column == 0:
            problem = "not XML (a CIN census is an XML document)"
        else:
            problem = f"not well-formed XML ({what})"
        raise CensusFileError(f"{path.name}: {problem}, at line {line}, column {column}") from None


def _tag(element: Element) -> str:
    return element.tag.rsplit("}", 1)[-1]


def _census(path: Path, header: Element) -> Census:
    collection = (header.findtext("CollectionDetails/Collection") or "").strip()
    if collection.upper() != "CIN":
        raise CensusFileError(
            f"{path.name}: not a CIN census (Header/CollectionDetails/Collection "
            f"{collection or 'missing'!r})"
        )
    value = (header.findtext("CollectionDetails/ReferenceDate") or "").strip()
    try:
        return Census(date.fromisoformat(value))
    except ValueError:
        raise CensusFileError(
            f"{path.name}: Header/CollectionDetails/ReferenceDate {value!r} is not a date "
            "yyyy-mm-dd"
        ) from None


def read_census(path: Path) -> Iterator[Census | Element]:
    """The header, then each ``Child`` element, streamed: the caller uses each child
    before asking for the next, which is then dropped (memory stays bounded)."""
    root: str | None = None
    census: Census | None = None
    children: Element | None = None
    seen_children = False
    for event, element in _elements(path):
        tag = _tag(element)
        if root is None:
            root = tag
            if tag != "Message":
                raise CensusFileError(f"{path.name}: not a CIN census (root <{tag}>)")
            continue
        if event == "start":
            if tag == "Children":
                if census is None:
                    raise CensusFileError(f"{path.name}: not a CIN census (no Header)")
                children, seen_children = element, True
            continue
        if tag == "Header" and census is None:
            census = _census(path, element)
            yield census
        elif tag == "Child" and children is not None:
            yield element
            element.clear()
            children.remove(element)
    if census is None or not seen_children:
        raise CensusFileError(f"{path.name}: not a CIN census (no Header or no Children)")


def count_children(path: Path) -> int:
    """A first pass: the whole file is a readable census (else ``CensusFileError``), and
    how many children it holds."""
    return sum(1 for item in read_census(path) if not isinstance(item, Census))


# -- a child's elements, checked by the census's rules -----------------------------------


def _text(element: Element, path: str) -> str:
    return (element.findtext(path) or "").strip()


def _day(element: Element, path: str) -> date | None:
    value = _text(element, path)
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ChildError("schema", path, f"{value!r} is not a date yyyy-mm-dd") from None


def _flag(element: Element, path: str) -> bool:
    value = _text(element, path).lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise ChildError("schema", path, f"{value!r} is not true or false")


def _assessment(element: Element) -> Assessment:
    factors = tuple(
        (f.text or "").strip()
        for f in element.iterfind("FactorsIdentifiedAtAssessment/AssessmentFactors")
        if (f.text or "").strip()
    )
    found = Assessment(
        _day(element, "AssessmentActualStartDate"),
        _day(element, "AssessmentAuthorisationDate"),
        factors,
    )
    if found.started_on is None:
        raise ChildError("schema", "AssessmentActualStartDate", "missing")
    if found.authorised_on is not None and found.started_on > found.authorised_on:
        raise ChildError(
            "8608",
            "AssessmentActualStartDate",
            "Assessment Start Date cannot be later than its End Date",
        )
    if factors and found.authorised_on is None:
        raise ChildError(
            "8614",
            "AssessmentFactors",
            "Parental or child factors at assessment should only "
            "be present for a completed assessment",
        )
    if len(set(factors)) != len(factors):
        raise ChildError(
            "8898",
            "AssessmentFactors",
            "The assessment has more than one parental or child factors with the same code",
        )
    if NO_FACTORS in factors and len(factors) > 1:
        raise ChildError(
            "8869",
            "AssessmentFactors",
            "The assessment factors code 21 cannot be used in "
            "conjunction with any other assessment factors",
        )
    return found


def _plan(element: Element) -> Plan:
    start = _day(element, "CPPstartDate")
    if start is None:
        raise ChildError("schema", "CPPstartDate", "missing")
    end = _day(element, "CPPendDate")
    if end is not None and end == start:
        raise ChildError(
            "8840", "CPPendDate", "Child Protection Plan cannot start and end on the same day"
        )
    if end is not None and end < start:
        raise ChildError("schema", "CPPendDate", "the plan ends before it starts")
    category = _text(element, "InitialCategoryOfAbuse")
    if category not in CATEGORIES:
        raise ChildError(
            "schema",
            "InitialCategoryOfAbuse",
            f"{category or 'missing'!r} is not one of {', '.join(sorted(CATEGORIES))}",
        )
    reviews: list[date] = []
    for review in element.iterfind("Reviews/CPPreviewDate"):
        value = (review.text or "").strip()
        if not value:
            continue
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise ChildError("schema", "CPPreviewDate", f"{value!r} is not a date") from None
        if day <= start or (end is not None and day > end):
            raise ChildError(
                "schema", "CPPreviewDate", f"{day} is not within the plan ({start} to {end})"
            )
        reviews.append(day)
    if len(set(reviews)) != len(reviews):
        raise ChildError("schema", "CPPreviewDate", "a review conference given twice")
    return Plan(start, end, category, tuple(sorted(reviews)))


def _episode(element: Element, born: date | None, census: Census) -> Episode:
    referral = _day(element, "CINreferralDate")
    if referral is None:
        raise ChildError("schema", "CINreferralDate", "missing")
    if born is not None and referral < born - BEFORE_BIRTH:
        raise ChildError(
            "8606",
            "CINreferralDate",
            "Child referral date is more than 40 weeks before DOB or expected DOB",
        )
    source = _text(element, "ReferralSource")
    if source not in SOURCES:
        raise ChildError(
            "schema", "ReferralSource", f"{source or 'missing'!r} is not a census referral source"
        )
    need = _text(element, "PrimaryNeedCode")
    if need not in NEEDS:
        raise ChildError("schema", "PrimaryNeedCode", f"{need or 'missing'!r} is not one of N0-N9")
    closed = _day(element, "CINclosureDate")
    reason = _text(element, "ReasonForClosure")
    if reason and reason not in REASONS:
        raise ChildError(
            "8640",
            "ReasonForClosure",
            "CIN Reason for closure code invalid (see Reason for "
            "Closure table in CIN Census code set)",
        )
    if closed is not None and not reason:
        raise ChildError("schema", "ReasonForClosure", "a closed episode gives its reason")
    if closed is not None and not census.starts_on <= closed <= census.reference_date:
        raise ChildError(
            "8620",
            "CINclosureDate",
            "CIN Closure Date present and does not fall within the Census year",
        )
    if closed is not None and closed < referral:
        raise ChildError("schema", "CINclosureDate", "the episode closes before its referral")
    assessments = tuple(_assessment(a) for a in element.iterfind("Assessments"))
    if sum(1 for a in assessments if a.authorised_on is None) > 1:
        raise ChildError(
            "8896",
            "AssessmentAuthorisationDate",
            "Within one CINDetails group there are 2 or more open Assessments groups",
        )
    enquiries = tuple(
        Section47(
            _day(s, "S47ActualStartDate"), _day(s, "DateOfInitialCPC"), _flag(s, "ICPCnotRequired")
        )
        for s in element.iterfind("Section47")
    )
    if any(s.started_on is None for s in enquiries):
        raise ChildError("schema", "S47ActualStartDate", "missing")
    if sum(1 for s in enquiries if s.conference_on is None and not s.conference_not_required) > 1:
        raise ChildError(
            "8839",
            "DateOfInitialCPC",
            "Within one CINDetails group there are 2 or more open S47 Assessments",
        )
    plans = tuple(
        sorted(
            (_plan(p) for p in element.iterfind("ChildProtectionPlans")), key=lambda p: p.started_on
        )
    )
    for before, after in pairwise(plans):
        if before.ended_on is None or before.ended_on > after.started_on:
            raise ChildError("schema", "CPPstartDate", "child protection plans overlap")
    cin_plans: list[date] = []
    for dates in element.iterfind("CINPlanDates"):
        start = _day(dates, "CINPlanStartDate")
        if start is None:
            raise ChildError("schema", "CINPlanStartDate", "missing")
        cin_plans.append(start)
    found = Episode(
        referral,
        source,
        need,
        _flag(element, "ReferralNFA"),
        closed,
        reason,
        _day(element, "DateOfInitialCPC"),
        assessments,
        enquiries,
        plans,
        tuple(sorted(set(cin_plans))),
    )
    for name, day in found.dates():
        if day < referral:
            raise ChildError("schema", name, f"{day} is before the referral ({referral})")
        if closed is not None and day > closed:
            raise ChildError("8565", name, "Activity shown after a case has been closed")
    return found


def read_child(element: Element, position: int, census: Census) -> CensusChild:
    """One ``Child``, checked by the census's rules; ``ChildError`` names the first it
    breaks."""
    child_id = _text(element, "ChildIdentifiers/LAchildID")
    if not child_id:
        raise ChildError("8500", "LAchildID", "LA Child ID missing")
    try:
        check_local_id(child_id, field="LAchildID")
    except DomainError as error:
        raise ChildError("schema", "LAchildID", str(error)) from None
    born = _day(element, "ChildIdentifiers/PersonBirthDate")
    expected = _day(element, "ChildIdentifiers/ExpectedPersonBirthDate")
    if (born is None) == (expected is None):
        raise ChildError(
            "8525",
            "PersonBirthDate",
            "Either Date of Birth or Expected Date of Birth must be provided (but not both)",
        )
    episodes = sorted(
        (_episode(e, born or expected, census) for e in element.iterfind("CINdetails")),
        key=lambda e: e.referral_on,
    )
    for before, after in pairwise(episodes):
        if before.closed_on is None and not before.no_further_action:
            raise ChildError(
                "8820", "CINreferralDate", "The dates on the CIN episodes for this child overlap"
            )
        if before.closed_on is not None and after.referral_on < before.closed_on:
            raise ChildError(
                "8820", "CINreferralDate", "The dates on the CIN episodes for this child overlap"
            )
    return CensusChild(position, child_id, born, expected, tuple(episodes))


# -- a child's commands: what is new, what corrects, what is already recorded -------------


def _at(day: date) -> datetime:
    """Noon UTC: the same day in England whatever the season."""
    return datetime.combine(day, time(12), tzinfo=UTC)


def _digest(changes: dict[str, Any]) -> str:
    text = json.dumps(changes, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class ChildPlan:
    """A child's commands, and how many of its facts were already recorded."""

    commands: list[c.Command] = field(default_factory=list)
    already: int = 0


class Planner:
    """A child's census facts as commands for one authority, against what is recorded."""

    def __init__(self, authority: str, actor: Actor, risk_level: str, census: Census) -> None:
        self.authority, self.actor, self.risk_level = authority, actor, risk_level
        self.census = census

    def _command(self, kind: type[c.Command], key: str, day: date, **fields: Any) -> c.Command:
        return kind(
            command_id=f"cin-census-{self.authority}-{key}",
            actor=self.actor,
            occurred_at=_at(day),
            imported=True,
            **fields,
        )

    def plan(self, child: CensusChild, recorded: Child | None) -> ChildPlan:
        out = ChildPlan()
        cid = child.child_id
        entries = recorded.entries if recorded is not None else {}
        if recorded is not None:
            out.already += 1  # its registration
        else:
            first = min((e.referral_on for e in child.episodes), default=self.census.reference_date)
            when = max(first, child.born_on) if child.born_on else first
            out.commands.append(
                self._command(
                    c.RegisterChild,
                    f"{cid}-child",
                    when,
                    child_id=cid,
                    date_of_birth=child.born_on,
                    expected_date_of_birth=child.expected_on,
                    case_type="cin",
                    risk_level=self.risk_level,
                )
            )
        # (day, order that day, the entry, its fields a census may correct, the command)
        steps: list[tuple[date, int, str, dict[str, Any], c.Command]] = []

        def step(day: date, entry: str, same: dict[str, Any], **kw: Any) -> None:
            kind = kw.pop("kind")
            key = kw.pop("key", entry)
            command = self._command(kind, f"{cid}-{key}", day, child_id=cid, **kw)
            steps.append((day, SAME_DAY.index(kind), entry, same, command))

        for episode in child.episodes:
            eid = f"cin-{episode.referral_on}"
            step(
                episode.referral_on,
                eid,
                {"referral_source": episode.source, "primary_need": episode.need},
                kind=c.RecordReferral,
                entry_id=eid,
                referral_on=episode.referral_on,
                referral_source=episode.source,
                primary_need=episode.need,
                no_further_action=episode.no_further_action,
            )
            for a in episode.assessments:
                if a.authorised_on is None or a.started_on is None:
                    continue
                aid = f"{eid}-assessment-{a.authorised_on}"
                step(
                    a.authorised_on,
                    aid,
                    {"factors": list(a.factors)},
                    kind=c.RecordAssessment,
                    entry_id=aid,
                    episode_id=eid,
                    started_on=a.started_on,
                    authorised_on=a.authorised_on,
                    factors=list(a.factors),
                )
            conferences: set[date] = set()
            for s in episode.enquiries:
                assert s.started_on is not None
                sid = f"{eid}-s47-{s.started_on}"
                step(
                    s.started_on,
                    sid,
                    {"conference_required": not s.conference_not_required},
                    kind=c.RecordSection47Enquiry,
                    entry_id=sid,
                    episode_id=eid,
                    started_on=s.started_on,
                    conference_required=not s.conference_not_required,
                )
                if s.conference_on:
                    conferences.add(s.conference_on)
            if episode.conference_on:
                conferences.add(episode.conference_on)
            for day in sorted(conferences):
                iid = f"{eid}-icpc-{day}"
                step(
                    day,
                    iid,
                    {},
                    kind=c.RecordInitialChildProtectionConference,
                    entry_id=iid,
                    episode_id=eid,
                    held_on=day,
                )
            for start in episode.cin_plans:
                pid = f"{eid}-cinplan-{start}"
                step(
                    start,
                    pid,
                    {},
                    kind=c.StartChildInNeedPlan,
                    entry_id=pid,
                    episode_id=eid,
                    started_on=start,
                )
            for p in episode.plans:
                pid = f"{eid}-cpp-{p.started_on}"
                step(
                    p.started_on,
                    pid,
                    {"category_of_abuse": p.category},
                    kind=c.StartChildProtectionPlan,
                    entry_id=pid,
                    episode_id=eid,
                    started_on=p.started_on,
                    category_of_abuse=p.category,
                )
                for number, day in enumerate(p.reviews, start=1):
                    step(
                        day,
                        pid,
                        {"review": day},
                        kind=c.ReviewChildProtectionPlan,
                        key=f"{pid}-review-{number}-{day}",
                        entry_id=pid,
                        reviewed_on=day,
                    )
                if p.ended_on is not None:
                    step(
                        p.ended_on,
                        pid,
                        {"ended_on": p.ended_on},
                        kind=c.EndChildProtectionPlan,
                        key=f"{pid}-end",
                        entry_id=pid,
                        ended_on=p.ended_on,
                    )
            if episode.closed_on is not None:
                step(
                    episode.closed_on,
                    eid,
                    {"closed_on": episode.closed_on, "reason_for_closure": episode.reason},
                    kind=c.CloseChildInNeedEpisode,
                    key=f"{eid}-close",
                    entry_id=eid,
                    closed_on=episode.closed_on,
                    reason_for_closure=episode.reason,
                )
        steps.sort(key=lambda s: (s[0], s[1]))
        for _, _, entry_id, same, command in steps:
            existing = entries.get(entry_id)
            if existing is None:
                out.commands.append(command)
                continue
            self._against(cid, entry_id, command, existing.current(), same, out)
        return out

    def _against(
        self,
        cid: str,
        entry_id: str,
        command: c.Command,
        current: dict[str, Any],
        same: dict[str, Any],
        out: ChildPlan,
    ) -> None:
        """A fact whose entry is recorded: nothing (already recorded), a correction of
        what the census corrects, or the step that entry has not had yet."""
        if isinstance(command, c.ReviewChildProtectionPlan):
            if same["review"] in current["review_dates"]:
                out.already += 1
            else:
                out.commands.append(command)
            return
        if isinstance(command, c.EndChildProtectionPlan | c.CloseChildInNeedEpisode):
            what = "ended_on" if isinstance(command, c.EndChildProtectionPlan) else "closed_on"
            if current[what] is None:
                out.commands.append(command)
                return
            if current[what] != same[what]:
                element = "CPPendDate" if what == "ended_on" else "CINclosureDate"
                raise ChildError(
                    "schema",
                    element,
                    f"{same[what]} differs from {current[what]}, as recorded: a date that "
                    "identifies a record is corrected on the case file, not by a census",
                )
            same = {k: v for k, v in same.items() if k != what}
        changes = {k: v for k, v in same.items() if current.get(k) != v}
        if not changes:
            out.already += 1
            return
        day = min(self.census.reference_date, datetime.now(UTC).date())
        out.commands.append(
            self._command(
                c.CorrectEntry,
                f"{cid}-{entry_id}-correct-{_digest(changes)}",
                day,
                child_id=cid,
                entry_id=entry_id,
                changes=changes,
                reason=f"CIN census {self.census.reference_date.isoformat()} corrects "
                + ", ".join(sorted(changes)),
            )
        )


# -- the run ------------------------------------------------------------------------------


def import_cin_census(
    app: OversightApplication,
    path: Path,
    *,
    authority: str,
    actor: Actor,
    risk_level: str,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> JobReport:
    """Import the census file's children into ``authority``, each child all or nothing,
    as a job (``oversight.importers.jobs``, ADR 0025): with ``dry_run`` every child is
    decided as a run would decide it and nothing is written. A file that is not a
    readable census raises ``CensusFileError`` before anything is written."""
    total = count_children(path)  # the whole file is readable, before anything is written
    name = path.name
    job = Job(app, importer="cin-census", dry_run=dry_run)
    planner: Planner | None = None
    seen: dict[str, int] = {}
    position = 0
    # Children read (each checked against the census's rules as it streams past) and run
    # a block at a time, so that their receipts are asked of the store in one query.
    block: list[tuple[int, CensusChild]] = []

    def run(block: list[tuple[int, CensusChild]]) -> None:
        assert planner is not None
        planned: list[tuple[int, CensusChild, ChildPlan]] = []
        for at, child in block:
            # The records as this run's earlier children left them, written or not.
            recorded = _recorded(job.view, authority, child.child_id)
            planned.append((at, child, planner.plan(child, recorded)))
        job.expect([command for _, _, plan in planned for command in plan.commands])
        for at, child, plan in planned:
            steps = [Step(command, RECORDS[type(command)]) for command in plan.commands]
            if job.run(name, at, child.child_id, steps):
                job.report.replayed += plan.already
            if progress is not None and (at % PROGRESS_EVERY == 0 or at == total):
                progress(at, total)
        block.clear()

    for item in read_census(path):
        if isinstance(item, Census):
            planner = Planner(authority, actor, risk_level, item)
            continue
        assert planner is not None
        job.read(name)
        position += 1
        child_id = _text(item, "ChildIdentifiers/LAchildID") or None
        try:
            child = read_child(item, position, planner.census)
            if child.child_id in seen:
                raise ChildError(
                    "8510",
                    "LAchildID",
                    "More than one child record with the same LA Child "
                    f"ID (child {seen[child.child_id]})",
                )
            seen[child.child_id] = position
        except ChildError as error:
            job.reject(name, position, child_id, error.code, f"{error.field}: {error.message}")
            if progress is not None and (position % PROGRESS_EVERY == 0 or position == total):
                progress(position, total)
            continue
        block.append((position, child))
        if len(block) >= BLOCK:
            run(block)
    run(block)
    return job.finish()


#: The event each command the census plans records (for the job's report).
RECORDS: dict[type[c.Command], EventType] = {
    c.RegisterChild: ChildRegistered,
    c.RecordReferral: ReferralReceived,
    c.RecordAssessment: AssessmentCompleted,
    c.RecordSection47Enquiry: Section47EnquiryStarted,
    c.RecordInitialChildProtectionConference: InitialChildProtectionConferenceHeld,
    c.StartChildProtectionPlan: ChildProtectionPlanStarted,
    c.ReviewChildProtectionPlan: ChildProtectionPlanReviewed,
    c.EndChildProtectionPlan: ChildProtectionPlanEnded,
    c.StartChildInNeedPlan: ChildInNeedPlanStarted,
    c.CloseChildInNeedEpisode: ChildInNeedEpisodeClosed,
    c.CorrectEntry: EntryCorrected,
}


def _recorded(app: OversightApplication, authority: str, child_id: str) -> Child | None:
    try:
        return app.get_child(authority, child_id)
    except NotFound:
        return None


__all__ = [
    "Census",
    "CensusChild",
    "CensusFileError",
    "ChildError",
    "count_children",
    "import_cin_census",
    "read_census",
    "read_child",
]

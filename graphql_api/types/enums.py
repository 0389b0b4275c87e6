"""The schema's enums: the domain's own vocabularies, mirrored once (ADR 0028).

Each GraphQL enum here is made from the domain enum of the same meaning
(``domain.vocabulary.Role`` is the one ``Role``), value for value, with a description
for every value in the policies' words. The mirror is a new Python enum, so the domain's
classes are untouched; ``member(Enum, value)`` gives the member a stored value denotes.
Vocabularies the domain keeps as sets of strings (an entry's kind, an audit trail
entry's kind, a purge schedule entry's status) are listed here from those sets, and
``tests/graphql_api/test_typed_schema.py`` holds each list to its source.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from enum import Enum
from functools import cache
from typing import Any, TypeVar

import strawberry
from strawberry.types.enum import EnumValueDefinition

from domain.events import CATALOGUE
from domain.policy.compliance import Status
from domain.policy.quality import AuditRecord
from domain.policy.timeline import ENTRIES
from domain.team_sessions import TeamSessionKind
from domain.vocabulary import (
    RAG,
    AbsenceKind,
    CaseClosureKind,
    CaseType,
    CategoryOfAbuse,
    DisagreementSubject,
    EmploymentPattern,
    EngagementType,
    EscalationLevel,
    LegalHoldKind,
    OversightTriggerKind,
    PrimaryNeed,
    ReasonForClosure,
    RiskLevel,
    Role,
    Signatory,
    SupervisionFormat,
    SupervisionFunction,
)

E = TypeVar("E", bound=Enum)


def _words(name: str) -> str:
    return name.replace("_", " ").lower()


def _mirror(
    name: str,
    values: Iterable[tuple[str, str]],
    description: str,
    meaning: Mapping[str, str],
    default: str,
) -> type[Enum]:
    """A strawberry enum ``name`` with the given (member name, stored value) pairs; each
    value described by ``meaning`` (by stored value) or, failing that, by ``default``
    formatted with the value's words."""
    members = {
        member: strawberry.enum_value(
            value, description=meaning.get(value) or default.format(words=_words(member))
        )
        for member, value in values
    }
    made: type[Enum] = Enum(name, members)  # type: ignore[misc]
    return strawberry.enum(made, description=description)


def _of(domain: type[Enum]) -> list[tuple[str, str]]:
    return [(m.name, str(m.value)) for m in domain]


def member(enum: type[E], value: Any) -> E:
    """The member of a mirrored ``enum`` whose stored value is ``value`` (an enum member
    of the domain, or its stored string)."""
    return _members(enum)[str(getattr(value, "value", value))]  # type: ignore[return-value]


def member_or_none(enum: type[E], value: Any) -> E | None:
    """``member``, or None for a value not in the vocabulary (never raised to a client)."""
    if value is None:
        return None
    return _members(enum).get(str(getattr(value, "value", value)))  # type: ignore[return-value]


@cache
def _members(enum: type[Enum]) -> dict[str, Enum]:
    found: dict[str, Enum] = {}
    for item in enum:
        stored = item.value.value if isinstance(item.value, EnumValueDefinition) else item.value
        found[str(stored)] = item
    return found


def stored_value(item: Enum) -> str:
    """The stored value of a mirrored enum's member (what the domain writes)."""
    value = item.value
    return str(value.value if isinstance(value, EnumValueDefinition) else value)


ROLE_WORDS = {
    "director": "The Director of Children's Services: the authority's most senior manager.",
    "head_of_service": "A Head of Service: above service managers; approves frequency "
    "exceptions where the pack says so [POR-3.1a].",
    "service_manager": "A Service Manager: manages team managers; a level of some "
    "escalation chains [SHR-APP1d].",
    "operations_manager": "An Operations Manager: a senior manager over several teams.",
    "team_manager": "A Team Manager: supervises the team's workers and oversees their cases.",
    "practice_supervisor": "A Practice Supervisor: supervises practice without managing the team.",
    "social_worker": "A registered social worker holding cases.",
    "nqsw": "A newly qualified social worker in their assessed first year (ASYE), "
    "supervised more often.",
    "family_support_worker": "A family support worker: holds early-help work, not statutory cases.",
    "targeted_youth_worker": "A targeted youth worker (youth justice and early help).",
    "support_staff": "Business support staff: no case responsibility.",
    "information_coordinator": "An information coordinator who records on behalf of "
    "managers (a decision recorded on a manager's instruction).",
    "supervisor": "The capacity of the person giving supervision in a session or record.",
    "supervisee": "The capacity of the worker receiving supervision.",
    "practitioner": "A token's role for a case-holding worker acting on their own work.",
    "iro": "An Independent Reviewing Officer of a looked-after child's plan.",
    "cp_chair": "A child protection conference chair.",
    "auditor": "The capacity of a worker grading a file with the authority's audit tool.",
    "qa_auditor": "A quality-assurance auditor: reads the whole authority, writes "
    "nothing but audits.",
    "inspector": "An inspector (e.g. Ofsted): reads, for the time of their grant only.",
    "investigating_officer": "An investigating officer: reads only the records named in "
    "their grants.",
    "hr": "Human resources: keeps employment records and absences.",
    "data_protection_officer": "The data protection officer: legal holds, the purge "
    "schedule and purges [DUR-4.9].",
    "administrator": "An administrator: configures the authority and registers workers "
    "and children.",
    "system": "The system itself, for what it records automatically (a trigger it raised).",
    "importer": "A sector-format import (SSDA903, CIN census, workforce census).",
}

Role_ = _mirror(
    "Role",
    _of(Role),
    "One role vocabulary (domain.vocabulary.Role): the posts workers hold, the capacities "
    "events are recorded in, and the roles tokens carry.",
    ROLE_WORDS,
    "The role of {words}.",
)

CaseType_ = _mirror(
    "CaseType",
    _of(CaseType),
    "A child's case type, which sets its case-supervision frequency under the pack "
    "[DEV-5.1b, BUR-SD].",
    {
        "feh": "Family early help: a case below the statutory threshold.",
        "assessment": "A case open for a social work assessment.",
        "cin": "A child in need under section 17 of the Children Act 1989.",
        "cp": "A child subject to a child protection plan.",
        "cla": "A child looked after by the authority (in care).",
        "care_leaver": "A young person leaving care, supported by the authority.",
        "yos": "A youth offending (youth justice) service case.",
        "disability": "A case held by the children with disabilities service.",
        "foster_carer_household": "A foster carer's household, supervised as a case.",
    },
    "A {words} case.",
)

RiskLevel_ = _mirror(
    "RiskLevel",
    _of(RiskLevel),
    "A child's assessed risk level, which can set how often their case is supervised "
    "[DEV-5.1b, DUR-4.6a].",
    {
        "low": "Low risk: the pack's least frequent case supervision applies.",
        "medium": "Medium risk: the pack's middle frequency applies.",
        "high": "High risk: the most frequent case supervision the pack requires.",
    },
    "{words} risk.",
)

Rag_ = _mirror(
    "Rag",
    _of(RAG),
    "A child's red-amber-green rating of concern, where the authority uses one [DEV-5.1c].",
    {
        "red": "Red: the highest concern; Devon supervises such cases most often.",
        "amber": "Amber: concern that needs watching between supervisions.",
        "green": "Green: the case is progressing as planned.",
    },
    "Rated {words}.",
)

EmploymentPattern_ = _mirror(
    "EmploymentPattern",
    _of(EmploymentPattern),
    "Whether a worker works full or part time, which sets their supervision frequency "
    "and annual minimum [DEV-4.1b, DUR-4.2].",
    {
        "full_time": "Contracted full time: the full annual minimum of supervisions applies.",
        "part_time": "Contracted part time: the pack's part-time minimum applies.",
    },
    "Works {words}.",
)

EngagementType_ = _mirror(
    "EngagementType",
    _of(EngagementType),
    "How a worker is engaged by the authority (the workforce census's terms).",
    {
        "permanent": "On a permanent contract of employment with the authority.",
        "agency": "Supplied by an agency, not employed by the authority directly.",
        "temporary": "On a fixed-term or temporary contract with the authority.",
    },
    "Engaged as {words}.",
)

SupervisionFormat_ = _mirror(
    "SupervisionFormat",
    _of(SupervisionFormat),
    "How a supervision agreement says supervision is given [POR-5.1, DUR-4.1].",
    {
        "individual": "One to one, supervisor and supervisee alone.",
        "group": "In a group of the team, facilitated by a supervisor.",
        "alternating_group_and_individual": "Group and one-to-one sessions in turn.",
    },
    "Given as {words}.",
)

SupervisionFunction_ = _mirror(
    "SupervisionFunction",
    _of(SupervisionFunction),
    "The four functions of supervision a session may cover (Morrison's model) [DUR-4.3].",
    {
        "management": "Managing performance, workload and accountability for practice.",
        "development": "Professional development: learning, reflection and skills.",
        "support": "Personal support: the worker's wellbeing and the emotional impact of the work.",
        "mediation": "Mediating between the worker and the organisation.",
    },
    "The {words} function.",
)

OversightTriggerKind_ = _mirror(
    "OversightTriggerKind",
    _of(OversightTriggerKind),
    "A key point in a child's case that needs a manager's oversight record, numbered as "
    "Devon lists them [DEV-6 (1)-(15)].",
    {
        "allocation_to_new_practitioner": "The case was allocated to a new practitioner "
        "(DEV-6 (1)).",
        "significant_incident": "A significant incident in the child's life (DEV-6 (2)).",
        "change_of_care_plan": "The child's care plan changed (DEV-6 (3)).",
        "came_into_care": "The child came into care (DEV-6 (4)).",
        "court_direction": "A court gave a direction in the child's case (DEV-6 (5)).",
        "professional_escalation": "Another professional (an IRO, a CP chair) escalated "
        "a concern (DEV-6 (6)).",
        "returned_home": "A looked-after child returned home (DEV-6 (7)).",
        "case_discussion_outside_supervision": "The case was discussed outside "
        "supervision and a decision was made (DEV-6 (8)).",
        "threshold_change": "The child's threshold of need changed (DEV-6 (9)).",
        "cumulative_harm_reassessment": "Cumulative harm needs reassessing (DEV-6 (10)).",
        "ending_cp_plan_at_first_review": "A child protection plan ended at its first "
        "review conference (DEV-6 (11)).",
        "professional_opinion": "Professionals' opinions differ on the case (DEV-6 (12)).",
        "closure_or_transfer": "The case is closing, transferring or stepping across to "
        "early help (DEV-6 (13)).",
        "drift_or_delay": "The plan is drifting or delayed (DEV-6 (14)).",
        "performance_gap": "A gap in practice or performance was found (DEV-6 (15)).",
    },
    "Oversight triggered by {words}.",
)

CaseClosureKind_ = _mirror(
    "CaseClosureKind",
    _of(CaseClosureKind),
    "How a child's case left the allocated team [DEV-6 (13)].",
    {
        "closed": "The case closed: no further social care involvement.",
        "transferred": "The case moved to another team or authority.",
        "stepped_across_to_early_help": "The case stepped down from statutory work to early help.",
    },
    "The case was {words}.",
)

DisagreementSubject_ = _mirror(
    "DisagreementSubject",
    _of(DisagreementSubject),
    "What a disagreement is about, which picks the escalation chain of the authority's "
    "pack [DUR-4.10, SHR-APP1d, POR-3.1a].",
    {
        "decision_on_child": "A decision on a child's case (recorded on the child).",
        "record_content": "What a supervision record says (recorded on the worker).",
        "supervision_frequency": "How often the worker is supervised [POR-3.1a].",
        "supervision_practice": "How supervision is given, or supervision not meeting "
        "the policy (Shropshire: the supervisor's line manager).",
    },
    "A disagreement about {words}.",
)

EscalationLevel_ = _mirror(
    "EscalationLevel",
    _of(EscalationLevel),
    "A level of an escalation chain holding a disagreement, as the pack's chain names it "
    "[DUR-4.10, SHR-APP1d].",
    {
        "supervisors_line_manager": "The supervisor's line manager (Durham's only level, "
        "DUR-4.10).",
        "service_manager": "The Service Manager (Shropshire's level for a decision, SHR-APP1d).",
        "head_of_service": "The Head of Service (Portsmouth's, for frequency disputes, POR-3.1a).",
    },
    "Escalated to the {words}.",
)

Signatory_ = _mirror(
    "Signatory",
    _of(Signatory),
    "A party who signs a record, as their relationship to it makes them (never chosen "
    "in a request) [POR-6.2a, DUR-4.7a, DUR-6].",
    {
        "supervisor": "The supervisor who wrote the record; signs first where the pack "
        "says so [POR-6.2b].",
        "supervisee": "The worker supervised, who confirms or states a differing view.",
        "observer": "Whoever observed the worker's practice (a direct observation).",
        "line_manager": "The worker's line manager, where different from the observer [DUR-6].",
    },
    "Signed as the {words}.",
)

LegalHoldKind_ = _mirror(
    "LegalHoldKind",
    _of(LegalHoldKind),
    "Why records are held from purging past their retention period [DUR-4.9].",
    {
        "learning_review": "A learning review, including a Child Safeguarding Practice Review.",
        "litigation": "Litigation in which the records may be evidence.",
        "subject_access_request": "A subject access request under data protection law.",
        "inquiry": "A public or statutory inquiry.",
        "police_investigation": "A police investigation for which the records may be evidence.",
    },
    "Held for a {words}.",
)

AbsenceKind_ = _mirror(
    "AbsenceKind",
    _of(AbsenceKind),
    "Why a worker is away, which changes the supervision due [POR-3.1e, DUR-4.4, DUR-4.5].",
    {
        "sickness": "Sickness absence; a return-to-work supervision may fall due [DUR-4.5].",
        "planned": "Planned leave, such as annual leave or training.",
        "unplanned": "Unplanned absence other than sickness.",
    },
    "A {words} absence.",
)

ReasonForClosure_ = _mirror(
    "ReasonForClosure",
    _of(ReasonForClosure),
    "Why a child-in-need episode closed: the CIN census's ReasonForClosure code (RC1-RC8).",
    {},
    "Closed because: {words} (CIN census ReasonForClosure).",
)

PrimaryNeed_ = _mirror(
    "PrimaryNeed",
    _of(PrimaryNeed),
    "A referral's primary need: the CIN census's need code (N0-N9).",
    {},
    "Primary need of {words} (CIN census need code).",
)

CategoryOfAbuse_ = _mirror(
    "CategoryOfAbuse",
    _of(CategoryOfAbuse),
    "A child protection plan's initial category of abuse (CIN census codes NEG, PHY, SAB, "
    "EMO, MUL).",
    {},
    "Category of abuse: {words} (CIN census code).",
)

TeamSessionKind_ = _mirror(
    "TeamSessionKind",
    _of(TeamSessionKind),
    "The kinds of group session a team holds [DEV-7, POR-3.3, DUR-5] (ADR 0024).",
    {
        "group_supervision": "Group supervision: Devon's monthly minimum for every team [DEV-7].",
        "team_meeting": "A team meeting: one of Portsmouth's fortnightly programme [POR-3.3].",
        "practice_development": "A practice development session in Portsmouth's "
        "programme [POR-3.3].",
    },
    "A {words} session.",
)

AuditedRecord = _mirror(
    "AuditedRecord",
    _of(AuditRecord),
    "What a quality-assurance audit reads [SHR-5.8, POR-7, DUR-7] (ADR 0023).",
    {
        "supervision_file": "A worker's personal supervision file, graded with the "
        "authority's supervision-file tool.",
        "case_file": "A child's case supervision records: a dip-sample of management "
        "oversight [POR-7].",
    },
    "A {words}.",
)

FindingStatus = _mirror(
    "FindingStatus",
    _of(Status),
    "A finding's status on the day asked about: MET (done in its window, or open and "
    "not yet due), DUE_SOON, OVERDUE (open past its due day: a deadline's only window), "
    "BREACHED (the window closed without the act, or it was done late; each missed "
    "window of a recurring or annual rule is its own finding), NOT_APPLICABLE.",
    {
        "met": "Done within its window, or open and not yet due.",
        "due_soon": "Open, and due within the pack's warning period (its due_soon).",
        "overdue": "Open past its due day: a deadline's only window has passed.",
        "breached": "The window closed without the act, or the act was late.",
        "not_applicable": "The rule does not apply to the subject on that day.",
    },
    "{words}.",
)

SubjectKind = _mirror(
    "SubjectKind",
    [("WORKER", "worker"), ("CHILD", "child")],
    "Whose record something is on: a worker's personal supervision file or a child's case.",
    {
        "worker": "A worker: their personal supervision file and employment record.",
        "child": "A child: their case record, supervision of it and oversight.",
    },
    "A {words}.",
)

#: Every event of the catalogue, by its class's name (``domain.events.CATALOGUE``).
EventKind = _mirror(
    "EventKind",
    [(re.sub(r"(?<!^)(?=[A-Z])", "_", name).upper(), name) for name in CATALOGUE],
    "Which event of the catalogue (domain/events.py) a history event is; its object type "
    "is the same name with Event after it.",
    {name: (cls.__doc__ or "").strip().splitlines()[0] for name, cls in CATALOGUE.items()},
    "{words}.",
)

#: The kinds of entry the timeline keeps (``domain.policy.timeline.ENTRIES``).
ENTRY_KINDS: tuple[str, ...] = tuple(dict.fromkeys(e.kind for e in ENTRIES.values()))

ENTRY_KIND_WORDS = {
    "supervision_agreement": "A supervision agreement between worker and supervisor "
    "[POR-5.1, DUR-4.1].",
    "supervision_session": "A personal supervision session, booked, moved, cancelled or "
    "held [DUR-4.2].",
    "personal_record": "The written record of a personal supervision session and its "
    "signatures [POR-6.2a, DUR-4.7a].",
    "case_supervision": "A record of case supervision of the child [DEV-5.3, POR-6.1].",
    "oversight_trigger": "A key point needing a manager's oversight record [DEV-6].",
    "management_oversight": "A manager's oversight record answering triggers [DEV-6g].",
    "management_decision": "A management decision recorded on a manager's instruction "
    "[POR-3.3, BUR-AH].",
    "cin_episode": "A child-in-need episode from referral to closure (CIN census).",
    "assessment": "An assessment in a child-in-need episode (CIN census).",
    "section47": "A section 47 enquiry (CIN census).",
    "initial_child_protection_conference": "An initial child protection conference (CIN census).",
    "child_protection_plan": "A child protection plan, its reviews and its end (CIN census).",
    "cin_plan": "A child-in-need plan (CIN census).",
    "disagreement": "A disagreement, its escalations and resolution [DUR-4.10, SHR-APP1d].",
    "legal_hold": "A legal hold stopping records being purged [DUR-4.9].",
    "group_supervision": "A group session the worker attended [DEV-7, DUR-5, POR-3.3].",
    "direct_observation": "A direct observation of the worker's practice [DUR-6].",
    "appraisal": "An appraisal or review of the worker [DEV-8, DUR-7, POR-4].",
    "group_discussion": "A discussion of the child's case in group supervision [DEV-7, DUR-5].",
    "quality_audit": "A quality-assurance audit of a file, its dispute and moderation "
    "[SHR-5.8, POR-7, DUR-7].",
}

EntryKind = _mirror(
    "EntryKind",
    [(k.upper(), k) for k in ENTRY_KINDS],
    "The kinds of entry a subject's timeline keeps (domain/policy/timeline.py ENTRIES).",
    ENTRY_KIND_WORDS,
    "An entry of kind {words}.",
)

#: The kinds of audit trail entry (``projections.audit_trail``'s ``Described`` kinds).
AUDIT_ENTRY_WORDS = {
    "absence": "A worker's absence began or ended.",
    "access": "Someone read the record: what and why [DUR-4.8a, DUR-4.8c, POR-6.2c].",
    "action": "A SMART action on the child's plan was set, completed or carried forward.",
    "allocation": "The case was allocated to a team or a practitioner [DEV-6 (1)].",
    "appraisal": "An appraisal or review of the worker was held.",
    "care": "A change in the child's care: came into care, placement, returned home.",
    "case_change": "The case type, threshold, risk level or legal status changed.",
    "case_supervision": "Case supervision of the child was recorded [DEV-5.3].",
    "caseload": "A child's case came onto or left the worker's caseload.",
    "child_in_need": "A child-in-need census module: referral, assessment, plan, closure.",
    "closure": "The case closed, transferred or stepped across to early help.",
    "correction": "An entry was corrected with a reason; the original is kept [DUR-4.7b].",
    "direct_observation": "A direct observation of practice was recorded or signed [DUR-6].",
    "disagreement": "A disagreement was raised, escalated or resolved [DUR-4.10].",
    "employment": "A change to the worker's employment: role, team, manager, hours, leaving.",
    "group_supervision": "The worker attended, or the case was discussed in, a group session.",
    "legal_hold": "A legal hold was placed or lifted [DUR-4.9].",
    "management_decision": "A decision recorded on a manager's instruction [POR-3.3, BUR-AH].",
    "management_oversight": "A manager's oversight record was written [DEV-6g].",
    "other": "An event with no more specific heading on the trail.",
    "oversight_trigger": "A key point needing a manager's oversight arose [DEV-6].",
    "personal_record": "A personal supervision record was written or had a comment removed.",
    "policy": "The authority adopted a policy pack or added a closure day.",
    "purge": "A record past its retention period was destroyed, citing the rule.",
    "purged": "What is left of an event whose record was purged: the record, no content.",
    "quality_audit": "An audit of a file was recorded, disputed or moderated [SHR-5.8].",
    "registration": "The worker, child or authority was registered.",
    "retention": "An adoption order or a death that sets how long the record is kept.",
    "sign_off": "A party signed a record, or a correction voided the signatures.",
    "supervision_agreement": "A supervision agreement was signed or reviewed [DUR-4.1].",
    "supervision_session": "A supervision session was booked, moved, cancelled or held.",
}

AuditEntryKind = _mirror(
    "AuditEntryKind",
    [(k.upper(), k) for k in AUDIT_ENTRY_WORDS],
    "The heading an audit trail entry is filed under (projections/audit_trail.py).",
    AUDIT_ENTRY_WORDS,
    "A {words} entry.",
)

#: Retention's record classes (``domain.policy.packs.RETENTION_RECORDS``).
RECORD_CLASS_WORDS = {
    "personal_supervision": "A personal supervision session and its record.",
    "direct_observation": "A direct observation of practice and its signatures.",
    "worker_file": "A worker's whole personal supervision file, after they leave.",
    "child_record": "A child's whole case record, after the case closes.",
    "access_log": "A year of a subject's access log.",
}

RecordClass = _mirror(
    "RecordClass",
    [(k.upper(), k) for k in RECORD_CLASS_WORDS],
    "A class of record a retention rule keeps for a period, then destroys (ADR 0012).",
    RECORD_CLASS_WORDS,
    "A {words} record.",
)

PurgeStatus = _mirror(
    "PurgeStatus",
    [(k.upper(), k) for k in ("purged", "held", "due", "scheduled", "waiting", "no_rule")],
    "Where a record stands on the purge schedule on the day asked about (ADR 0012).",
    {
        "purged": "Destroyed: only its tombstone and certificate remain.",
        "held": "Due or not, a legal hold stops its destruction.",
        "due": "Its retention period has ended: the next purge run destroys it.",
        "scheduled": "Its period has started and ends on its due date.",
        "waiting": "What starts its period (leaving, closure...) has not happened yet.",
        "no_rule": "The authority's pack states no retention period for it.",
    },
    "{words}.",
)

SessionStatus = _mirror(
    "SessionStatus",
    [(k.upper(), k) for k in ("scheduled", "cancelled", "held")],
    "Where a personal supervision session stands (domain/policy/timeline.py) [DUR-4.2, DUR-4.4].",
    {
        "scheduled": "Booked with a supervisor (perhaps moved), not yet held.",
        "cancelled": "Cancelled by a party, with a reason [DUR-4.4].",
        "held": "It took place: it counts towards the frequency and annual minimum.",
    },
    "{words}.",
)

AppraisalKind = _mirror(
    "AppraisalKind",
    [(k.upper(), k) for k in ("appraisal", "pdr", "six_month_review")],
    "Which review of a worker's performance was held [DEV-8, DUR-7, POR-4, BUR-ER].",
    {
        "appraisal": "The annual appraisal of the worker's performance and objectives.",
        "pdr": "A performance and development review (the authority's name for it).",
        "six_month_review": "The review halfway through the appraisal year.",
    },
    "{words}.",
)

AccessedRecord = _mirror(
    "AccessedRecord",
    [(k.upper(), k) for k in ("child_record", "personal_file")],
    "Which kind of record a read opened, as the access log names it [DUR-4.8a, DUR-4.8c].",
    {
        "child_record": "A child's case record.",
        "personal_file": "A worker's personal supervision file (private to the worker and "
        "their chain) [DUR-4.8a].",
    },
    "{words}.",
)

__all__ = [
    "AUDIT_ENTRY_WORDS",
    "ENTRY_KINDS",
    "AbsenceKind_",
    "AccessedRecord",
    "AppraisalKind",
    "AuditEntryKind",
    "AuditedRecord",
    "CaseClosureKind_",
    "CaseType_",
    "CategoryOfAbuse_",
    "DisagreementSubject_",
    "EmploymentPattern_",
    "EngagementType_",
    "EntryKind",
    "EscalationLevel_",
    "EventKind",
    "FindingStatus",
    "LegalHoldKind_",
    "OversightTriggerKind_",
    "PrimaryNeed_",
    "PurgeStatus",
    "Rag_",
    "ReasonForClosure_",
    "RecordClass",
    "RiskLevel_",
    "Role_",
    "SessionStatus",
    "Signatory_",
    "SubjectKind",
    "SupervisionFormat_",
    "SupervisionFunction_",
    "TeamSessionKind_",
    "member",
    "member_or_none",
    "stored_value",
]

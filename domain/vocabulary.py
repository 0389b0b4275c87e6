"""The policies' own vocabulary, as closed sets of values.

Values are stored in events as their string value, so renaming a Python member never
changes what is on disk. Glossary: ../shared/policies/RULES.md.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

from domain.errors import ValidationError


class Role(StrEnum):
    """Every role the policies name, in one vocabulary. A role is used in three ways, each
    a subset below: the post a worker holds [SHR-3.6c] (``POSTS``), the capacity in which
    someone records an event, carried on every event (``CAPACITIES``), and the role a
    token carries (``domain.authorization.ACCESS_ROLES``). Stored values never change."""

    DIRECTOR = "director"
    HEAD_OF_SERVICE = "head_of_service"
    SERVICE_MANAGER = "service_manager"
    OPERATIONS_MANAGER = "operations_manager"
    TEAM_MANAGER = "team_manager"
    PRACTICE_SUPERVISOR = "practice_supervisor"
    SOCIAL_WORKER = "social_worker"
    NQSW = "nqsw"
    FAMILY_SUPPORT_WORKER = "family_support_worker"
    TARGETED_YOUTH_WORKER = "targeted_youth_worker"
    SUPPORT_STAFF = "support_staff"
    INFORMATION_COORDINATOR = "information_coordinator"
    SUPERVISOR = "supervisor"
    SUPERVISEE = "supervisee"
    PRACTITIONER = "practitioner"
    IRO = "iro"
    CP_CHAIR = "cp_chair"
    AUDITOR = "auditor"
    QA_AUDITOR = "qa_auditor"  # read-only, the whole authority
    INSPECTOR = "inspector"  # read-only, for the time of their grant
    INVESTIGATING_OFFICER = "investigating_officer"  # named grants only
    HR = "hr"
    DATA_PROTECTION_OFFICER = "data_protection_officer"
    ADMINISTRATOR = "administrator"
    SYSTEM = "system"
    IMPORTER = "importer"


#: The posts a worker holds [SHR-3.6c].
POSTS: tuple[Role, ...] = (
    Role.DIRECTOR,
    Role.HEAD_OF_SERVICE,
    Role.SERVICE_MANAGER,
    Role.OPERATIONS_MANAGER,
    Role.TEAM_MANAGER,
    Role.PRACTICE_SUPERVISOR,
    Role.SOCIAL_WORKER,
    Role.NQSW,
    Role.FAMILY_SUPPORT_WORKER,
    Role.TARGETED_YOUTH_WORKER,
    Role.SUPPORT_STAFF,
    Role.INFORMATION_COORDINATOR,
)

#: The capacities in which someone records an event (carried on every event).
CAPACITIES: tuple[Role, ...] = (
    Role.SUPERVISOR,
    Role.SUPERVISEE,
    Role.TEAM_MANAGER,
    Role.SERVICE_MANAGER,
    Role.HEAD_OF_SERVICE,
    Role.PRACTITIONER,
    Role.IRO,
    Role.CP_CHAIR,
    Role.DATA_PROTECTION_OFFICER,
    Role.AUDITOR,
    Role.ADMINISTRATOR,
    Role.SYSTEM,
    Role.IMPORTER,
)


def parse_role(value: object, within: tuple[Role, ...], *, field: str) -> Role:
    """``value`` as a role of ``within`` (posts, capacities or access roles), or a
    validation error naming the field and the roles allowed there."""
    if isinstance(value, str):
        try:
            role = Role(value)
        except ValueError:
            role = None
        if role in within:
            return role
    allowed = ", ".join(r.value for r in within)
    raise ValidationError(f"must be one of: {allowed}", field=field)


class EmploymentPattern(StrEnum):
    """Full-time or part-time [DEV-4.1b, DUR-4.2]."""

    FULL_TIME = "full_time"
    PART_TIME = "part_time"


class EngagementType(StrEnum):
    """Permanent, agency or temporary [DEV-4.1b]."""

    PERMANENT = "permanent"
    AGENCY = "agency"
    TEMPORARY = "temporary"


class SupervisionFormat(StrEnum):
    """How supervision is delivered [SHR-APP1, SHR-3.6c]."""

    INDIVIDUAL = "individual"
    GROUP = "group"
    ALTERNATING_GROUP_AND_INDIVIDUAL = "alternating_group_and_individual"


class SupervisionFunction(StrEnum):
    """The four functions of supervision (Morrison's model, used by every source policy)."""

    MANAGEMENT = "management"
    DEVELOPMENT = "development"
    SUPPORT = "support"
    MEDIATION = "mediation"


class CaseType(StrEnum):
    """Case types with their own case-supervision frequency [DEV-5.1b]."""

    FEH = "feh"
    ASSESSMENT = "assessment"
    CIN = "cin"
    CP = "cp"
    CLA = "cla"
    CARE_LEAVER = "care_leaver"
    YOS = "yos"
    DISABILITY = "disability"
    FOSTER_CARER_HOUSEHOLD = "foster_carer_household"


class RiskLevel(StrEnum):
    """Risk or concern level [DEV-5.1b, DUR-4.6a]."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class RAG(StrEnum):
    """Red/amber/green rating of an allocated child [DEV-5.1c]."""

    RED = "red"
    AMBER = "amber"
    GREEN = "green"


class AllocationChangeReason(StrEnum):
    """SSDA903 social-worker change reason codes."""

    MANAGE = "MANAGE"
    FCONTA = "FCONTA"
    LEFTRL = "LEFTRL"
    ORGRST = "ORGRST"
    TSPROC = "TSPROC"
    ABSENC = "ABSENC"
    CHCHAN = "CHCHAN"
    PCCHAN = "PCCHAN"
    SWDIED = "SWDIED"
    OTHERS = "OTHERS"
    NEW = "NEW"  # first allocation: no change reason applies


class OversightTriggerKind(StrEnum):
    """The 15 key points that require a manager's oversight record [DEV-6]."""

    ALLOCATION_TO_NEW_PRACTITIONER = "allocation_to_new_practitioner"  # (1)
    SIGNIFICANT_INCIDENT = "significant_incident"  # (2)
    CHANGE_OF_CARE_PLAN = "change_of_care_plan"  # (3)
    CAME_INTO_CARE = "came_into_care"  # (4)
    COURT_DIRECTION = "court_direction"  # (5)
    PROFESSIONAL_ESCALATION = "professional_escalation"  # (6) e.g. IRO / CP chair
    RETURNED_HOME = "returned_home"  # (7)
    CASE_DISCUSSION_OUTSIDE_SUPERVISION = "case_discussion_outside_supervision"  # (8)
    THRESHOLD_CHANGE = "threshold_change"  # (9)
    CUMULATIVE_HARM_REASSESSMENT = "cumulative_harm_reassessment"  # (10)
    ENDING_CP_PLAN_AT_FIRST_REVIEW = "ending_cp_plan_at_first_review"  # (11)
    PROFESSIONAL_OPINION = "professional_opinion"  # (12)
    CLOSURE_OR_TRANSFER = "closure_or_transfer"  # (13) incl. step across to early help
    DRIFT_OR_DELAY = "drift_or_delay"  # (14)
    PERFORMANCE_GAP = "performance_gap"  # (15)


#: Key points raised by the events that are those points, not by hand [DEV-6].
AUTOMATIC_TRIGGERS = frozenset(
    {
        OversightTriggerKind.ALLOCATION_TO_NEW_PRACTITIONER,
        OversightTriggerKind.CAME_INTO_CARE,
        OversightTriggerKind.RETURNED_HOME,
        OversightTriggerKind.THRESHOLD_CHANGE,
        OversightTriggerKind.CLOSURE_OR_TRANSFER,
    }
)


class CaseClosureKind(StrEnum):
    """How a case leaves the allocated team [DEV-6 (13)]."""

    CLOSED = "closed"
    TRANSFERRED = "transferred"
    STEPPED_ACROSS_TO_EARLY_HELP = "stepped_across_to_early_help"


class DisagreementSubject(StrEnum):
    """What a disagreement is about [SHR-APP1d, DUR-4.10, POR-6.2a, POR-3.1a]."""

    DECISION_ON_CHILD = "decision_on_child"  # child aggregate
    RECORD_CONTENT = "record_content"  # worker aggregate
    SUPERVISION_FREQUENCY = "supervision_frequency"  # worker aggregate
    SUPERVISION_PRACTICE = "supervision_practice"  # worker aggregate


class EscalationLevel(StrEnum):
    """The levels a disagreement can be escalated to, as stored on the event. Which of
    them an authority uses, in what order and held by whom, is its pack's escalation
    chain (``[[chain]]``, ``domain.governance``; ADR 0022)."""

    SUPERVISORS_LINE_MANAGER = "supervisors_line_manager"
    SERVICE_MANAGER = "service_manager"
    HEAD_OF_SERVICE = "head_of_service"


class Signatory(StrEnum):
    """Parties who sign a record [POR-6.2a, DUR-4.7a, DUR-6]."""

    SUPERVISOR = "supervisor"
    SUPERVISEE = "supervisee"
    OBSERVER = "observer"
    LINE_MANAGER = "line_manager"


class LegalHoldKind(StrEnum):
    """Reasons a legal hold blocks purge (retention)."""

    LEARNING_REVIEW = "learning_review"  # incl. Child Safeguarding Practice Review
    LITIGATION = "litigation"
    SUBJECT_ACCESS_REQUEST = "subject_access_request"
    INQUIRY = "inquiry"
    POLICE_INVESTIGATION = "police_investigation"


class AbsenceKind(StrEnum):
    """Absences that change what supervision is due [POR-3.1e, DUR-4.4, DUR-4.5, SHR-3.6b]."""

    SICKNESS = "sickness"
    PLANNED = "planned"
    UNPLANNED = "unplanned"


# -- A child in need: the DfE CIN census code sets (ADR 0026) --------------------------


class ReasonForClosure(StrEnum):
    """Why a child-in-need episode closed (CIN census ``ReasonForClosure``)."""

    ADOPTED = "RC1"
    DIED = "RC2"
    CHILD_ARRANGEMENTS_ORDER = "RC3"
    SPECIAL_GUARDIANSHIP_ORDER = "RC4"
    TRANSFERRED = "RC5"
    AGE_18 = "RC6"
    CEASED_FOR_ANY_OTHER_REASON = "RC7"
    CASE_CLOSED_AFTER_ASSESSMENT = "RC8"


class PrimaryNeed(StrEnum):
    """The child's primary need at referral (CIN census ``PrimaryNeedCode``)."""

    ABUSE_OR_NEGLECT = "N1"
    DISABILITY_OR_ILLNESS = "N2"
    PARENTAL_DISABILITY_OR_ILLNESS = "N3"
    FAMILY_IN_ACUTE_STRESS = "N4"
    FAMILY_DYSFUNCTION = "N5"
    SOCIALLY_UNACCEPTABLE_BEHAVIOUR = "N6"
    LOW_INCOME = "N7"
    ABSENT_PARENTING = "N8"
    CASES_OTHER_THAN_CHILDREN_IN_NEED = "N9"
    NOT_STATED = "N0"


class CategoryOfAbuse(StrEnum):
    """A child protection plan's category of abuse (CIN census ``InitialCategoryOfAbuse``)."""

    NEGLECT = "NEG"
    PHYSICAL = "PHY"
    SEXUAL = "SAB"
    EMOTIONAL = "EMO"
    MULTIPLE = "MUL"


# -- end of the CIN census code sets -------------------------------------------------------


E = TypeVar("E", bound=StrEnum)


def parse_enum(enum: type[E], value: str, *, field: str) -> E:
    """Turn a primitive into a member, or name the field and the allowed values."""
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(m.value for m in enum)
        raise ValidationError(
            f"{value!r} is not a valid {enum.__name__}; expected one of: {allowed}",
            field=field,
        ) from None

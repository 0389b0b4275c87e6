"""The schema's object types, enums, interfaces, unions and connections, by area.

Each module holds one area's types and the converters from its read model's rows;
resolvers on a type (a record's state, a list's open work) only call the service or a
read model. Everything is re-exported here: ``from graphql_api.types import Child``.
"""

from graphql_api.types.citations import RuleCitation
from graphql_api.types.common import Node, PageInfo
from graphql_api.types.compliance import (
    Compliance,
    ComplianceChange,
    ComplianceSummary,
    Finding,
    SummaryRow,
    compliance_of,
    summary_rows,
)
from graphql_api.types.entries import (
    ENTRY_TYPES,
    ChildAttributes,
    Entry,
    SubjectAttributes,
    WorkerAttributes,
)
from graphql_api.types.enums import FindingStatus, SubjectKind
from graphql_api.types.events import EVENT_TYPES, Event, history_events
from graphql_api.types.lists import (
    Case,
    CaseConnection,
    CaseEdge,
    OpenWork,
    StaffConnection,
    StaffEdge,
    StaffMember,
)
from graphql_api.types.records import (
    AuditConnection,
    AuditEdge,
    AuditEntry,
    Child,
    SubjectRecord,
    SubjectState,
    Worker,
    subject_uuid,
    trail_page,
)
from graphql_api.types.registers import RegisterItem, RegisterKind, register_item
from graphql_api.types.results import (
    CommandResult,
    CommandSuccess,
    ConflictProblem,
    ForbiddenProblem,
    NotFoundProblem,
    RuleViolationProblem,
    ValidationProblem,
)
from graphql_api.types.retention import (
    PurgeRunResult,
    PurgeSchedule,
    PurgeScheduleEntry,
    schedule_entry,
)
from graphql_api.types.viewer import Viewer

__all__ = [
    "ENTRY_TYPES",
    "EVENT_TYPES",
    "AuditConnection",
    "AuditEdge",
    "AuditEntry",
    "Case",
    "CaseConnection",
    "CaseEdge",
    "Child",
    "ChildAttributes",
    "CommandResult",
    "CommandSuccess",
    "Compliance",
    "ComplianceChange",
    "ComplianceSummary",
    "ConflictProblem",
    "Entry",
    "Event",
    "Finding",
    "FindingStatus",
    "ForbiddenProblem",
    "Node",
    "NotFoundProblem",
    "OpenWork",
    "PageInfo",
    "PurgeRunResult",
    "PurgeSchedule",
    "PurgeScheduleEntry",
    "RegisterItem",
    "RegisterKind",
    "RuleCitation",
    "RuleViolationProblem",
    "StaffConnection",
    "StaffEdge",
    "StaffMember",
    "SubjectAttributes",
    "SubjectKind",
    "SubjectRecord",
    "SubjectState",
    "SummaryRow",
    "ValidationProblem",
    "Viewer",
    "Worker",
    "WorkerAttributes",
    "compliance_of",
    "history_events",
    "register_item",
    "schedule_entry",
    "subject_uuid",
    "summary_rows",
    "trail_page",
]

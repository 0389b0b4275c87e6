"""The schema's object types, enums, interfaces, unions and connections, by area.

Each module holds one area's types and the converters from its read model's rows;
resolvers on a type (a record's state, a list's open work) only call the service or a
read model. Everything is re-exported here: ``from graphql_api.types import Child``.
"""

from graphql_api.types.common import Node, PageInfo
from graphql_api.types.compliance import (
    Compliance,
    ComplianceChange,
    ComplianceSummary,
    Finding,
    FindingStatus,
    SummaryRow,
    compliance_of,
    summary_rows,
)
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
    HistoryEvent,
    SubjectRecord,
    SubjectState,
    Worker,
    history_events,
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
    "AuditConnection",
    "AuditEdge",
    "AuditEntry",
    "Case",
    "CaseConnection",
    "CaseEdge",
    "Child",
    "CommandResult",
    "CommandSuccess",
    "Compliance",
    "ComplianceChange",
    "ComplianceSummary",
    "ConflictProblem",
    "Finding",
    "FindingStatus",
    "ForbiddenProblem",
    "HistoryEvent",
    "Node",
    "NotFoundProblem",
    "OpenWork",
    "PageInfo",
    "PurgeRunResult",
    "PurgeSchedule",
    "PurgeScheduleEntry",
    "RegisterItem",
    "RegisterKind",
    "RuleViolationProblem",
    "StaffConnection",
    "StaffEdge",
    "StaffMember",
    "SubjectRecord",
    "SubjectState",
    "SummaryRow",
    "ValidationProblem",
    "Viewer",
    "Worker",
    "compliance_of",
    "history_events",
    "register_item",
    "schedule_entry",
    "subject_uuid",
    "summary_rows",
    "trail_page",
]

"""Value objects recorded inside events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from domain.provenance import require_text


@dataclass(frozen=True)
class SmartAction:
    """An agreed action: specific, with an owner and a due date [POR-6.1, DEV-6g]."""

    action_id: str
    description: str
    owner: str
    due_on: date

    def __post_init__(self) -> None:
        # Rule ActionHasOwnerAndDueDate is enforced by domain.rules before construction
        # reaches here; this guards direct construction too.
        require_text(self.action_id, field="action.action_id", max_length=200)
        require_text(self.description, field="action.description")
        require_text(self.owner, field="action.owner", max_length=200)

"""The compliance projection: facts in the batch's transaction, the rest settled after."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from sqlalchemy import Connection, MetaData, Table

from domain.policy.packs import PackLibrary
from projections.compliance import settle as settling
from projections.compliance.facts import record
from projections.compliance.tables import TABLES, define_tables


@dataclass
class Compliance:
    """The compliance projection; ``library`` holds the packs subjects are held to."""

    library: PackLibrary = field(default_factory=PackLibrary.load)
    name: ClassVar[str] = "compliance"
    #: Generations whose subjects were checked against the packs loaded now.
    _checked: set[str] = field(default_factory=set, repr=False)
    table_names: ClassVar[tuple[str, ...]] = TABLES

    def define_tables(self, metadata: MetaData, generation: int) -> dict[str, Table]:
        return define_tables(metadata, generation)

    #: Each event as a fact of its subject (the function itself: no extra call per event).
    handle = staticmethod(record)

    def mark_stale(self, conn: Connection, tables: Mapping[str, Table]) -> int:
        """Mark every subject whose stored rows were made under a pack that has changed
        since (its digest differs from the loaded pack's), or is no longer loaded.
        Returns how many were marked."""
        return settling.mark_stale(conn, tables, self.library)

    def settle(self, conn: Connection, tables: Mapping[str, Table], limit: int) -> int:
        """Recompute up to ``limit`` dirty subjects; first, once per generation, mark
        those settled under a pack that has changed since."""
        generation = tables["compliance_subject"].name
        if generation not in self._checked:
            self.mark_stale(conn, tables)
            self._checked.add(generation)
        return settling.settle(conn, tables, self.library, limit)

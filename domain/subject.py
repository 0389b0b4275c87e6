"""What Worker and Child share: tenancy, provenance checks, corrections, disagreements
and legal holds. Each command validates first and triggers its event last, so a refused
command leaves no pending event behind.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import NotFound, ValidationError
from domain.events import ContentPurged as PurgedContent  # subclassed under its own name
from domain.events import (
    DisagreementEscalated,
    DisagreementRaised,
    DisagreementResolved,
    EntryCorrected,
    EntrySignaturesVoided,
    LegalHoldLifted,
    LegalHoldPlaced,
    QualityAuditDisputed,
    QualityAuditModerated,
    RecordPurged,
)
from domain.governance import AuthorityRules
from domain.policy.quality import (
    Audit,
    AuditIsDisputedByTheAudited,
    AuditIsModeratedByTheModeratorItsPackNames,
    QualityRules,
    audit_named,
    tool_clause,
)
from domain.provenance import Provenance, require_text
from domain.rules import (
    CorrectionChangesOnlyCorrectableFields,
    CorrectionGivesAReason,
    DisagreementEscalatesWithinItsChain,
    DisagreementIsResolvedByTheLevelHoldingIt,
    DisagreementIsResolvedOnce,
    OccurredAtIsNotBeforeTheSubjectExisted,
    OccurredAtIsNotInTheFuture,
    OnlyTheAuthorOrTheirLineManagerCorrects,
)
from domain.vocabulary import (
    DisagreementSubject,
    EscalationLevel,
    LegalHoldKind,
    parse_enum,
)


@dataclass(frozen=True)
class Correction:
    """A superseding change to an entry, recorded with its reason. The original stays."""

    corrected_at: datetime  # recorded_at of the correction event
    occurred_at: datetime
    changes: dict[str, Any]
    reason: str
    actor_id: str


@dataclass
class Entry:
    """A recorded entry (session, record, supervision, oversight...) that can be corrected."""

    entry_id: str
    kind: str
    recorded_at: datetime
    occurred_at: datetime
    fields: dict[str, Any]
    corrections: list[Correction] = field(default_factory=list)
    #: Who recorded it (the actor of the event that made it).
    recorded_by: str = ""

    def current(self) -> dict[str, Any]:
        """The entry as it now reads, every correction applied in recorded order."""
        values = dict(self.fields)
        for correction in self.corrections:
            values.update(correction.changes)
        return values


@dataclass(frozen=True)
class Disagreement:
    disagreement_id: str
    subject: DisagreementSubject
    about: str
    raised_by: str
    raised_at: datetime
    escalations: tuple[EscalationLevel, ...] = ()
    resolution: str | None = None
    resolved_at: datetime | None = None

    @property
    def level(self) -> EscalationLevel | None:
        return self.escalations[-1] if self.escalations else None

    @property
    def resolved(self) -> bool:
        return self.resolution is not None


class SubjectPurged(NotFound):
    """The subject's own record was purged under its retention rule (ADR 0012)."""

    code = "PURGED"


@dataclass(frozen=True)
class Tombstone:
    """What one stored event of a purged record is rewritten to."""

    position: int
    originator_id: UUID
    originator_version: int
    topic: str
    state: bytes
    #: The originator's last version when the purge was planned: the recorder refuses
    #: the purge if anything was appended to it since (a read in the year being purged).
    head: int


@dataclass(frozen=True)
class LegalHold:
    hold_id: str
    kind: LegalHoldKind
    reference: str
    placed_at: datetime
    lifted_at: datetime | None = None


class Subject(Aggregate):
    """Base for the Worker and Child aggregates."""

    class Event(Aggregate.Event):
        """Lets an applying body read its own event's timestamp (``recorded_at``)."""

        def mutate(self, aggregate: Any) -> Any:
            if aggregate is not None:
                aggregate._applying_timestamp = self.timestamp
            return super().mutate(aggregate)

    class ContentPurged(PurgedContent, Event):
        """What an event reads as once the record it belonged to is purged (ADR 0012):
        the record it belonged to, and nothing of the event, not even its type (which
        alone can say a child died or came into care). The purge rewrites the stored
        event in place, so the log keeps its positions and versions and still replays."""

        def mutate(self, aggregate: Any) -> Any:
            if aggregate is None:  # the subject's own registration is purged
                raise SubjectPurged(
                    f"this {self.record_class.replace('_', ' ')} was purged", field="subject"
                )
            return super().mutate(aggregate)

    # The catalogue events every subject triggers. The library subclasses each one as an
    # attribute of the aggregate (``Subject.EntryCorrected``, the topic it is stored under),
    # so each must be an attribute here first.
    DisagreementEscalated = DisagreementEscalated
    DisagreementRaised = DisagreementRaised
    DisagreementResolved = DisagreementResolved
    EntryCorrected = EntryCorrected
    EntrySignaturesVoided = EntrySignaturesVoided
    LegalHoldLifted = LegalHoldLifted
    LegalHoldPlaced = LegalHoldPlaced
    RecordPurged = RecordPurged

    #: Entry kinds and the fields a correction may change on each.
    CORRECTABLE: ClassVar[dict[str, frozenset[str]]] = {}
    #: Which disagreement subjects belong on this aggregate kind.
    DISAGREEMENT_SUBJECTS: ClassVar[frozenset[DisagreementSubject]] = frozenset()

    # Attributes are declared where they are first set, not as class annotations: the
    # library turns class annotations on an aggregate into constructor arguments.
    def _init_subject(self, authority_code: str, provenance: Provenance) -> None:
        self.authority_code: str = authority_code
        self.existed_from: datetime = provenance.occurred_at
        self.entries: dict[str, Entry] = {}
        self.disagreements: dict[str, Disagreement] = {}
        self.legal_holds: dict[str, LegalHold] = {}
        self.purged: dict[str, str] = {}  # record key -> the rule it was purged under
        self._applying_timestamp: datetime = provenance.occurred_at

    # -- provenance --------------------------------------------------------------------

    def check_provenance(self, provenance: Provenance) -> None:
        """The time rules every command obeys."""
        OccurredAtIsNotInTheFuture.check(provenance.occurred_at)
        OccurredAtIsNotBeforeTheSubjectExisted.check(
            provenance.occurred_at, self.existed_from, imported=provenance.imported
        )

    def _add_entry(
        self, entry_id: str, kind: str, provenance: Provenance, fields: dict[str, Any]
    ) -> None:
        self.entries[entry_id] = Entry(
            entry_id=entry_id,
            kind=kind,
            recorded_at=self.modified_on_next,
            occurred_at=provenance.occurred_at,
            fields=fields,
            recorded_by=provenance.actor_id,
        )

    @property
    def modified_on_next(self) -> datetime:
        # While an event applies, the library has not yet moved modified_on forward;
        # handlers read the applying event's timestamp from here instead.
        return self._applying_timestamp

    def entry(self, entry_id: str, *, kind: str | None = None, field: str = "entry_id") -> Entry:
        found = self.entries.get(entry_id)
        if found is None or (kind is not None and found.kind != kind):
            what = kind or "entry"
            raise NotFound(f"no {what} {entry_id!r} on this subject", field=field)
        return found

    def require_new_entry_id(self, entry_id: str, *, field: str = "entry_id") -> None:
        require_text(entry_id, field=field, max_length=200)
        if entry_id in self.entries:
            raise ValidationError(f"entry id {entry_id!r} is already used", field=field)

    # -- corrections -------------------------------------------------------------------

    def correct_entry(
        self,
        provenance: Provenance,
        entry_id: str,
        changes: dict[str, Any],
        reason: str,
        authors_line_manager_id: str | None = None,
    ) -> None:
        """Supersede fields of an entry from now on; the original stays on record. Only
        its author or their line manager corrects it (the application finds the line
        manager); a signed record's signatures are voided and asked for again."""
        self.check_provenance(provenance)
        entry = self.entry(entry_id)
        OnlyTheAuthorOrTheirLineManagerCorrects.check(
            provenance.actor_id, entry.recorded_by, authors_line_manager_id
        )
        CorrectionGivesAReason.check(reason)
        CorrectionChangesOnlyCorrectableFields.check(
            changes, self.CORRECTABLE.get(entry.kind, frozenset())
        )
        for name, value in changes.items():
            if isinstance(value, str):
                require_text(value, field=f"changes.{name}")
        signed = self.signatures_on(entry_id)
        self._entry_corrected(provenance, entry_id, dict(changes), reason)
        if signed:
            self._signatures_voided(provenance, entry_id, list(signed))

    def signatures_on(self, entry_id: str) -> tuple[str, ...]:
        """The parties who have signed an entry (none, for entries no one signs)."""
        return ()

    @event(EntrySignaturesVoided)
    def _signatures_voided(self, provenance: Provenance, entry_id: str, voided: list[str]) -> None:
        """A correction changed what was signed: it reads unsigned until each party
        signs it again [DUR-4.7a, POR-6.2a, DUR-6]."""
        self._void_signatures(entry_id)

    def _void_signatures(self, entry_id: str) -> None:
        """Forget an entry's signatures (the aggregate that keeps them overrides this)."""

    @event(EntryCorrected)
    def _entry_corrected(
        self, provenance: Provenance, entry_id: str, changes: dict[str, Any], reason: str
    ) -> None:
        entry = self.entries[entry_id]
        entry.corrections.append(
            Correction(
                corrected_at=self.modified_on_next,
                occurred_at=provenance.occurred_at,
                changes=changes,
                reason=reason,
                actor_id=provenance.actor_id,
            )
        )

    # -- disagreements [SHR-APP1d, DUR-4.10, POR-6.2a, POR-3.1a] -------------------------

    def raise_disagreement(
        self, provenance: Provenance, disagreement_id: str, subject: str, about: str
    ) -> None:
        self.check_provenance(provenance)
        require_text(disagreement_id, field="disagreement_id", max_length=200)
        if disagreement_id in self.disagreements:
            raise ValidationError("disagreement id already used", field="disagreement_id")
        kind = parse_enum(DisagreementSubject, subject, field="subject")
        if kind not in self.DISAGREEMENT_SUBJECTS:
            allowed = ", ".join(sorted(s.value for s in self.DISAGREEMENT_SUBJECTS))
            raise ValidationError(
                f"a disagreement about {kind.value} is not raised on a {type(self).__name__}; "
                f"here: {allowed}",
                field="subject",
            )
        require_text(about, field="about")
        self._disagreement_raised(provenance, disagreement_id, kind.value, about)

    @event(DisagreementRaised)
    def _disagreement_raised(
        self, provenance: Provenance, disagreement_id: str, subject: str, about: str
    ) -> None:
        self.disagreements[disagreement_id] = Disagreement(
            disagreement_id=disagreement_id,
            subject=DisagreementSubject(subject),
            about=about,
            raised_by=provenance.actor_id,
            raised_at=provenance.occurred_at,
        )

    def _disagreement(self, disagreement_id: str) -> Disagreement:
        found = self.disagreements.get(disagreement_id)
        if found is None:
            raise NotFound(f"no disagreement {disagreement_id!r}", field="disagreement_id")
        return found

    def escalate_disagreement(
        self, provenance: Provenance, disagreement_id: str, reason: str, *, rules: AuthorityRules
    ) -> None:
        """To the next level of the subject's authority's chain only [its pack's clause]."""
        self.check_provenance(provenance)
        found = self._disagreement(disagreement_id)
        chain = rules.chain_for(found.subject)
        DisagreementIsResolvedOnce.check(resolved=found.resolved, chain=chain)
        level = DisagreementEscalatesWithinItsChain.next_level(found.level, found.subject, rules)
        require_text(reason, field="reason")
        self._disagreement_escalated(provenance, disagreement_id, level.level.value, reason)

    @event(DisagreementEscalated)
    def _disagreement_escalated(
        self, provenance: Provenance, disagreement_id: str, level: str, reason: str
    ) -> None:
        found = self.disagreements[disagreement_id]
        self.disagreements[disagreement_id] = replace(
            found, escalations=(*found.escalations, EscalationLevel(level))
        )

    def resolve_disagreement(
        self,
        provenance: Provenance,
        disagreement_id: str,
        resolution: str,
        *,
        rules: AuthorityRules,
    ) -> None:
        """Once, by the level holding it under the subject's authority's chain."""
        self.check_provenance(provenance)
        found = self._disagreement(disagreement_id)
        chain = rules.chain_for(found.subject)
        DisagreementIsResolvedOnce.check(resolved=found.resolved, chain=chain)
        DisagreementIsResolvedByTheLevelHoldingIt.check(
            provenance.actor_id,
            provenance.actor_role,
            raised_by=found.raised_by,
            level=found.level,
            chain=chain,
        )
        require_text(resolution, field="resolution")
        self._disagreement_resolved(provenance, disagreement_id, resolution)

    @event(DisagreementResolved)
    def _disagreement_resolved(
        self, provenance: Provenance, disagreement_id: str, resolution: str
    ) -> None:
        found = self.disagreements[disagreement_id]
        self.disagreements[disagreement_id] = replace(
            found, resolution=resolution, resolved_at=provenance.occurred_at
        )

    # -- legal holds -------------------------------------------------------------------

    def place_legal_hold(
        self, provenance: Provenance, hold_id: str, kind: str, reference: str
    ) -> None:
        self.check_provenance(provenance)
        require_text(hold_id, field="hold_id", max_length=200)
        if hold_id in self.legal_holds:
            raise ValidationError("legal hold id already used", field="hold_id")
        hold_kind = parse_enum(LegalHoldKind, kind, field="kind")
        require_text(reference, field="reference", max_length=500)
        self._legal_hold_placed(provenance, hold_id, hold_kind.value, reference)

    @event(LegalHoldPlaced)
    def _legal_hold_placed(
        self, provenance: Provenance, hold_id: str, kind: str, reference: str
    ) -> None:
        self.legal_holds[hold_id] = LegalHold(
            hold_id=hold_id,
            kind=LegalHoldKind(kind),
            reference=reference,
            placed_at=provenance.occurred_at,
        )

    def lift_legal_hold(self, provenance: Provenance, hold_id: str, reason: str) -> None:
        self.check_provenance(provenance)
        hold = self.legal_holds.get(hold_id)
        if hold is None:
            raise NotFound(f"no legal hold {hold_id!r}", field="hold_id")
        if hold.lifted_at is not None:
            raise ValidationError("the legal hold is already lifted", field="hold_id")
        require_text(reason, field="reason")
        self._legal_hold_lifted(provenance, hold_id, reason)

    @event(LegalHoldLifted)
    def _legal_hold_lifted(self, provenance: Provenance, hold_id: str, reason: str) -> None:
        self.legal_holds[hold_id] = replace(
            self.legal_holds[hold_id], lifted_at=provenance.occurred_at
        )

    # -- purge [ADR 0012] ----------------------------------------------------------------

    def purge_record(
        self,
        provenance: Provenance,
        *,
        record_class: str,
        record_id: str,
        rule_id: str,
        due_on: date,
        positions: list[int],
        tombstones: list[Tombstone],
    ) -> None:
        """Record a record's destruction. The caller has checked it is due and not held
        (``domain.policy.retention``); ``tombstones`` are what its stored events become,
        written in the same transaction as this event."""
        self.check_provenance(provenance)
        key = f"{record_class}:{record_id}"
        if key in self.purged:
            raise ValidationError("this record is already purged", field="record_id")
        if self.under_legal_hold:
            raise ValidationError(
                "a legal hold on the subject blocks the purge until it is lifted",
                field="record_id",
            )
        self._record_purged(
            provenance,
            record_class,
            record_id,
            rule_id,
            due_on,
            sorted(positions),
            f"{provenance.actor_id} ({provenance.actor_role})",
            self.authority_code,
        )
        self.purging: list[Tombstone] = list(tombstones)

    @event(RecordPurged)
    def _record_purged(
        self,
        provenance: Provenance,
        record_class: str,
        record_id: str,
        rule_id: str,
        due_on: date,
        positions: list[int],
        authorised_by: str,
        authority_code: str,
    ) -> None:
        self.purged[f"{record_class}:{record_id}"] = rule_id

    @property
    def under_legal_hold(self) -> bool:
        return any(h.lifted_at is None for h in self.legal_holds.values())

    # -- quality assurance: disputes and moderation of an audit [SHR-5.8] (ADR 0023) ------

    QualityAuditDisputed = QualityAuditDisputed
    QualityAuditModerated = QualityAuditModerated

    @property
    def audits(self) -> dict[str, Audit]:
        """The audits of this file, by id (kept since the first)."""
        found: dict[str, Audit] = self.__dict__.setdefault("_quality_audits", {})
        return found

    def dispute_audit(
        self, provenance: Provenance, *, audit_id: str, reasons: str, rules: QualityRules
    ) -> None:
        """The audited worker or their supervisor disputes an audit of this subject's file."""
        self.check_provenance(provenance)
        audit = audit_named(self.audits, audit_id)
        AuditIsDisputedByTheAudited.check(
            audit, provenance.actor_id, reasons, tool_clause(rules, audit.record)
        )
        self._audit_disputed(provenance, audit_id, provenance.actor_id, reasons)

    @event(QualityAuditDisputed)
    def _audit_disputed(
        self, provenance: Provenance, audit_id: str, disputed_by: str, reasons: str
    ) -> None:
        self.audits[audit_id] = replace(self.audits[audit_id], disputed_by=disputed_by)

    def moderate_audit(
        self,
        provenance: Provenance,
        *,
        audit_id: str,
        judgement: str,
        rationale: str,
        rules: QualityRules,
        auditors_line_manager_id: str | None,
    ) -> None:
        """The moderator the authority's pack names confirms or changes the judgement."""
        self.check_provenance(provenance)
        audit = audit_named(self.audits, audit_id)
        AuditIsModeratedByTheModeratorItsPackNames.check(
            rules, audit, provenance.actor_id, auditors_line_manager_id, judgement, rationale
        )
        self._audit_moderated(
            provenance,
            audit_id,
            provenance.actor_id,
            judgement,
            judgement == audit.judgement,
            rationale,
        )

    @event(QualityAuditModerated)
    def _audit_moderated(
        self,
        provenance: Provenance,
        audit_id: str,
        moderator_id: str,
        judgement: str,
        confirmed: bool,
        rationale: str,
    ) -> None:
        self.audits[audit_id] = replace(
            self.audits[audit_id], judgement=judgement, moderated_by=moderator_id
        )


__all__ = [
    "Correction",
    "Disagreement",
    "Entry",
    "LegalHold",
    "Subject",
    "SubjectPurged",
    "Tombstone",
]

"""Named invariants. Each is a small class whose ``check`` raises ``RuleViolation``.

A rule cites its policy rule ID (RULES.md) where one exists; the name is the invariant.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any, ClassVar

from domain.errors import Forbidden, RuleViolation, ValidationError
from domain.events import (
    ActionCarriedForward,
    AppraisalHeld,
    CaseFileAudited,
    CaseSupervisionRecorded,
    DirectObservationRecorded,
    DirectObservationSigned,
    DisagreementEscalated,
    DisagreementRaised,
    DisagreementResolved,
    EntrySignaturesVoided,
    EventType,
    GroupSupervisionAttended,
    GroupSupervisionDiscussionRecorded,
    ManagementDecisionRecorded,
    ManagementOversightRecorded,
    OversightTriggered,
    PersonalRecordCommentRemoved,
    PersonalSupervisionRecordSigned,
    PersonalSupervisionRecordWritten,
    QualityAuditDisputed,
    QualityAuditModerated,
    RecordAccessed,
    SupervisionAgreementReviewed,
    SupervisionAgreementSigned,
    SupervisionAgreementSignedByOneParty,
    SupervisionFileAudited,
    SupervisionFrequencyExceptionApproved,
    SupervisionSessionCancelled,
    SupervisionSessionRescheduled,
)
from domain.governance import (
    Approval,
    AuthorityRules,
    ChainLevel,
    EscalationChain,
    WriteRule,
)
from domain.vocabulary import (
    DisagreementSubject,
    EscalationLevel,
    Role,
    Signatory,
)

#: Clock skew tolerated between a client's "now" and ours before occurred_at is "future".
CLOCK_SKEW = timedelta(minutes=5)


class Rule:
    """Base class: ``name`` is the invariant; ``policy_ids`` the clauses it enforces."""

    name: ClassVar[str]
    policy_ids: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def cited(cls, cite: Iterable[str] | None = None) -> str:
        """The rule's name and its clauses: ``cite`` (the subject's pack's) when given."""
        return " ".join([cls.name, *(cls.policy_ids if cite is None else cite)])

    @classmethod
    def violation(
        cls, message: str, *, field: str | None = None, cite: Iterable[str] | None = None
    ) -> RuleViolation:
        return RuleViolation(message, field=field, rule=cls.cited(cite))

    @classmethod
    def forbidden(
        cls, message: str, *, field: str | None = None, cite: Iterable[str] | None = None
    ) -> Forbidden:
        """The actor is not the person the rule allows: FORBIDDEN, naming the rule."""
        return Forbidden(message, field=field, rule=cls.cited(cite))


class OccurredAtIsNotInTheFuture(Rule):
    name = "OccurredAtIsNotInTheFuture"

    @classmethod
    def check(cls, occurred_at: datetime, *, now: datetime | None = None) -> None:
        now = now or datetime.now(UTC)
        if occurred_at > now + CLOCK_SKEW:
            raise cls.violation(
                f"occurred_at {occurred_at.isoformat()} is in the future", field="occurred_at"
            )


class OccurredAtIsNotBeforeTheSubjectExisted(Rule):
    """Events cannot predate the subject, except in declared historic imports."""

    name = "OccurredAtIsNotBeforeTheSubjectExisted"

    @classmethod
    def check(cls, occurred_at: datetime, existed_from: datetime, *, imported: bool) -> None:
        if not imported and occurred_at < existed_from:
            raise cls.violation(
                f"occurred_at {occurred_at.isoformat()} is before the subject existed "
                f"({existed_from.isoformat()}); only a declared historic import may do that",
                field="occurred_at",
            )


class EachPartySignsOnce(Rule):
    name = "EachPartySignsOnce"
    policy_ids = ("POR-6.2a", "DUR-4.7a", "DUR-6")

    @classmethod
    def check(cls, already_signed: Collection[str], signatory: Signatory) -> None:
        if signatory.value in already_signed:
            raise cls.violation(f"the {signatory.value} has already signed", field="signatory")


#: The roles in which someone records a manager's decision (Role values).
MANAGER_ROLES: frozenset[str] = frozenset(
    {
        Role.SUPERVISOR.value,
        Role.TEAM_MANAGER.value,
        Role.SERVICE_MANAGER.value,
        Role.HEAD_OF_SERVICE.value,
    }
)


class OnlyTheNamedPartiesSign(Rule):
    """Who signs is who is acting: the supervisee named on the record (the worker
    themselves), or the supervisor named on it (no pack lets anyone sign for them), or
    for a direct observation its observer and the worker's line manager. Never a
    party named in the request."""

    name = "OnlyTheNamedPartiesSign"
    policy_ids = ("POR-6.2a", "DUR-4.7a", "DUR-6", "SHR-APP1")

    @classmethod
    def party(
        cls,
        actor_id: str,
        parties: Mapping[Signatory, str | None],
        already_signed: Collection[str] = (),
    ) -> Signatory:
        """The party ``actor_id`` signs as: the first, in order, that names them and
        has not signed yet (an observer who is also the line manager signs once for
        both: DUR-6's "if different")."""
        theirs = [party for party, person in parties.items() if person and person == actor_id]
        if not theirs:
            named = ", ".join(f"the {p.value.replace('_', ' ')}" for p in parties)
            raise cls.forbidden(
                f"only {named} named on the record sign it, each for themselves",
                field="actor.id",
            )
        for party in theirs:
            if party.value not in already_signed:
                return party
        return theirs[0]  # EachPartySignsOnce says why not


class OnlyAPartyCancelsTheSession(Rule):
    """A session is cancelled by its supervisor or its supervisee, and says which."""

    name = "OnlyAPartyCancelsTheSession"
    policy_ids = ("DUR-4.4",)

    @classmethod
    def party(cls, actor_id: str, *, supervisee_id: str, supervisor_id: str) -> Signatory:
        if actor_id == supervisee_id:
            return Signatory.SUPERVISEE
        if actor_id == supervisor_id:
            return Signatory.SUPERVISOR
        raise cls.forbidden(
            "a session is cancelled by its supervisor or its supervisee", field="actor.id"
        )


class ManagementOversightIsAManagersDecision(Rule):
    """The decision maker and their role on a management oversight or decision record
    are the actor's, and the actor is in a role the authority's pack lets decide (its
    ``approved_by`` rule for decisions, citing it [DEV-6g: "decision maker and role"]);
    a manager where the pack names none."""

    name = "ManagementOversightIsAManagersDecision"

    @classmethod
    def check(cls, actor_role: str, rule: WriteRule | None) -> None:
        roles = MANAGER_ROLES if rule is None else frozenset(r.value for r in rule.roles)
        if actor_role not in roles:
            raise cls.forbidden(
                f"a {actor_role.replace('_', ' ')} does not record a manager's decision: "
                "the decision maker records it themselves",
                field="actor.role",
                cite=(rule.rule_id,) if rule is not None else (),
            )


class OnlyTheAuthorOrTheirLineManagerCorrects(Rule):
    """A record is corrected by whoever recorded it, or by their line manager."""

    name = "OnlyTheAuthorOrTheirLineManagerCorrects"
    policy_ids = ("DUR-4.7a",)

    @classmethod
    def check(cls, actor_id: str, author_id: str, authors_line_manager_id: str | None) -> None:
        if actor_id != author_id and actor_id != authors_line_manager_id:
            raise cls.forbidden(
                "only the author of the record, or their line manager, corrects it",
                field="actor.id",
            )


class DisagreementIsResolvedByTheLevelHoldingIt(Rule):
    """Resolved by whoever holds it now, never by the party who raised it: before any
    escalation the other party, in supervision; then the roles the subject's authority's
    chain names at the level it was escalated to, citing that level's clause."""

    name = "DisagreementIsResolvedByTheLevelHoldingIt"
    #: Who holds a level a disagreement reached under a chain its pack no longer has
    #: (the pack changed since): the level's own name says who.
    HOLDERS: ClassVar[dict[EscalationLevel, frozenset[str]]] = {
        EscalationLevel.SUPERVISORS_LINE_MANAGER: MANAGER_ROLES,
        EscalationLevel.SERVICE_MANAGER: frozenset({Role.SERVICE_MANAGER.value}),
        EscalationLevel.HEAD_OF_SERVICE: frozenset({Role.HEAD_OF_SERVICE.value}),
    }

    @classmethod
    def check(
        cls,
        actor_id: str,
        actor_role: str,
        *,
        raised_by: str,
        level: EscalationLevel | None,
        chain: EscalationChain | None,
    ) -> None:
        cite = (chain.rule_id,) if chain is not None else ()
        if actor_id == raised_by:
            raise cls.forbidden(
                "the party who raised a disagreement does not resolve it",
                field="actor.id",
                cite=cite,
            )
        if level is None:
            return
        holder: ChainLevel | None = chain.holding(level) if chain is not None else None
        roles = (
            frozenset(r.value for r in holder.roles) if holder is not None else cls.HOLDERS[level]
        )
        if actor_role not in roles:
            raise cls.forbidden(
                f"the disagreement is with the {level.value.replace('_', ' ')}: "
                "only they resolve it",
                field="actor.role",
                cite=(holder.rule_id,) if holder is not None else cite,
            )


class SupervisorSignsBeforeSuperviseeConfirms(Rule):
    """The supervisor completes and shares the record; then the supervisee confirms: in
    an authority whose pack has a ``supervisor_signs_first`` rule [POR-6.2b]."""

    name = "SupervisorSignsBeforeSuperviseeConfirms"

    @classmethod
    def check(
        cls, already_signed: Collection[str], signatory: Signatory, rule: WriteRule | None
    ) -> None:
        if rule is None:
            return
        if signatory is Signatory.SUPERVISEE and Signatory.SUPERVISOR.value not in already_signed:
            raise cls.violation(
                "the supervisor must sign and share the record before the supervisee confirms",
                field="signatory",
                cite=(rule.rule_id,),
            )


class DisputedSignatureStatesTheDifferingView(Rule):
    name = "DisputedSignatureStatesTheDifferingView"
    policy_ids = ("POR-6.2a", "DUR-4.10")

    @classmethod
    def check(cls, *, confirmed: bool, differing_view: str | None) -> None:
        if not confirmed and not (differing_view and differing_view.strip()):
            raise cls.violation(
                "a supervisee who disputes the record must state their differing view",
                field="differing_view",
            )
        if confirmed and differing_view:
            raise cls.violation(
                "a differing view is recorded only when the record is disputed",
                field="differing_view",
            )


class SignedRecordIsNeverEdited(Rule):
    """Once anyone has signed, content changes only by a correction event with a reason."""

    name = "SignedRecordIsNeverEdited"
    policy_ids = ("DUR-4.7a",)

    @classmethod
    def check(cls, signed_by: Collection[str]) -> None:
        if signed_by:
            raise cls.violation(
                "the record has been signed; record a correction with a reason instead",
                field="record_id",
            )


class CorrectionGivesAReason(Rule):
    name = "CorrectionGivesAReason"

    @classmethod
    def check(cls, reason: str | None) -> None:
        if not reason or not reason.strip():
            raise cls.violation("a correction must give its reason", field="reason")


class CorrectionChangesOnlyCorrectableFields(Rule):
    name = "CorrectionChangesOnlyCorrectableFields"

    @classmethod
    def check(cls, changes: Mapping[str, Any], correctable: Collection[str]) -> None:
        if not changes:
            raise cls.violation("a correction must change at least one field", field="changes")
        unknown = sorted(set(changes) - set(correctable))
        if unknown:
            raise cls.violation(
                f"these fields cannot be corrected on this entry: {', '.join(unknown)}; "
                f"correctable: {', '.join(sorted(correctable))}",
                field="changes",
            )


class DisagreementEscalatesWithinItsChain(Rule):
    """A disagreement goes only to the next level of its authority's chain for what it is
    about; past the top, or where the pack names no chain, it is refused, citing the pack."""

    name = "DisagreementEscalatesWithinItsChain"

    @classmethod
    def next_level(
        cls,
        current: EscalationLevel | None,
        subject: DisagreementSubject,
        rules: AuthorityRules,
    ) -> ChainLevel:
        chain = rules.chain_for(subject)
        if chain is None:
            pack = f"the {rules.pack_id} pack" if rules.pack_id else "the authority's pack"
            about = subject.value.replace("_", " ")
            raise cls.violation(
                f"{pack} names no escalation chain for a disagreement about {about}: it is "
                "resolved within supervision",
                field="disagreement_id",
                cite=(),
            )
        following = chain.after(current)
        if following is None:
            top = chain.holding(current) if current is not None else None
            raise cls.violation(
                f"already escalated to the {current.value.replace('_', ' ') if current else ''}"
                ", the top of the chain",
                field="disagreement_id",
                cite=(top.rule_id if top is not None else chain.rule_id,),
            )
        return following


class DisagreementIsResolvedOnce(Rule):
    name = "DisagreementIsResolvedOnce"

    @classmethod
    def check(cls, *, resolved: bool, chain: EscalationChain | None = None) -> None:
        if resolved:
            raise cls.violation(
                "the disagreement is already resolved",
                field="disagreement_id",
                cite=(chain.rule_id,) if chain is not None else (),
            )


class OversightRecordHasEveryHeading(Rule):
    name = "OversightRecordHasEveryHeading"
    policy_ids = ("DEV-6g",)
    HEADINGS: ClassVar[tuple[str, ...]] = (
        "reason",
        "current_situation",
        "decision",
        "rationale",
        "decision_maker_id",
        "decision_maker_role",
    )

    @classmethod
    def check(cls, headings: Mapping[str, str | None], actions: Collection[object]) -> None:
        for heading in cls.HEADINGS:
            value = headings.get(heading)
            if value is None or not str(value).strip():
                raise cls.violation(
                    f"a management oversight record needs the heading '{heading}'",
                    field=heading,
                )
        if not actions:
            raise cls.violation(
                "a management oversight record needs SMART actions", field="actions"
            )


class SignificantIncidentHasItsDates(Rule):
    name = "SignificantIncidentHasItsDates"
    policy_ids = ("DEV-6g",)

    @classmethod
    def check(cls, incident_dates: Collection[date]) -> None:
        if not incident_dates:
            raise cls.violation(
                "a significant incident trigger must include the incident dates",
                field="incident_dates",
            )


class ActionHasAnOwnerAndADueDate(Rule):
    name = "ActionHasAnOwnerAndADueDate"
    policy_ids = ("POR-6.1", "DEV-6g")

    @classmethod
    def check(cls, index: int, owner: str | None, due_on: date | None) -> None:
        if not owner or not owner.strip():
            raise cls.violation("an action needs an owner", field=f"actions[{index}].owner")
        if due_on is None:
            raise cls.violation("an action needs a due date", field=f"actions[{index}].due_on")


class CarriedForwardActionHasARationale(Rule):
    name = "CarriedForwardActionHasARationale"
    policy_ids = ("POR-6.1",)

    @classmethod
    def check(cls, rationale: str | None, new_due_on: date, old_due_on: date) -> None:
        if not rationale or not rationale.strip():
            raise cls.violation(
                "an outstanding action carried forward needs a rationale", field="rationale"
            )
        if new_due_on <= old_due_on:
            raise cls.violation(
                "a carried-forward action needs a reset due date after the old one",
                field="new_due_on",
            )


class OversightAnswersOpenTriggers(Rule):
    name = "OversightAnswersOpenTriggers"
    policy_ids = ("DEV-6",)

    @classmethod
    def check(cls, answered: Collection[str], open_triggers: Collection[str]) -> None:
        if not answered:
            raise cls.violation(
                "management oversight must answer at least one open trigger",
                field="answers_trigger_ids",
            )
        unknown = sorted(set(answered) - set(open_triggers))
        if unknown:
            raise cls.violation(
                f"not open triggers on this child: {', '.join(unknown)}",
                field="answers_trigger_ids",
            )


class ApprovedOnlyByTheRolesItsPackNames(Rule):
    """An act the authority's pack reserves (``approved_by``: a frequency exception
    [POR-3.1a]) is done only in a role the rule names. An
    authority whose pack has no such rule is not bound by one."""

    name = "ApprovedOnlyByTheRolesItsPackNames"
    WORDS: ClassVar[dict[Approval, str]] = {
        Approval.FREQUENCY_EXCEPTION: "supervision less often than the standard frequency",
        Approval.DECISION: "this decision",
    }

    @classmethod
    def check(cls, approver_role: str, rule: WriteRule | None) -> None:
        if rule is None or approver_role in {r.value for r in rule.roles}:
            return
        roles = " or ".join(sorted(r.value.replace("_", " ") for r in rule.roles))
        what = cls.WORDS[rule.approves] if rule.approves else "this"
        raise cls.forbidden(
            f"only a {roles} may approve {what}", field="actor.role", cite=(rule.rule_id,)
        )


class RescheduleAgreesANewDate(Rule):
    name = "RescheduleAgreesANewDate"
    policy_ids = ("DUR-4.4",)

    @classmethod
    def check(cls, new_date: datetime | None) -> None:
        if new_date is None:
            raise cls.violation(
                "a rescheduled session must have its new date agreed at the time",
                field="new_scheduled_for",
            )


class CancellationGivesAReason(Rule):
    name = "CancellationGivesAReason"
    policy_ids = ("DUR-4.4", "BUR-ER")

    @classmethod
    def check(cls, reason: str | None) -> None:
        if not reason or not reason.strip():
            raise cls.violation("a cancelled session needs a reason", field="reason")


class CommentRemovedOnlyByTheOriginalSupervisorsManager(Rule):
    """In an authority whose pack has the rule [DUR-4.8b]; others are not bound by it."""

    name = "CommentRemovedOnlyByTheOriginalSupervisorsManager"

    @classmethod
    def check(
        cls, actor_id: str, original_supervisors_manager_id: str | None, rule: WriteRule | None
    ) -> None:
        if rule is None:
            return
        if original_supervisors_manager_id is None or actor_id != original_supervisors_manager_id:
            raise cls.forbidden(
                "only the line manager of the supervisor who wrote the record may remove "
                "a comment from it",
                field="actor.id",
                cite=(rule.rule_id,),
            )


class PersonalRecordHoldsNoServiceUserInformation(Rule):
    """A personal supervision record must not identify a child, in an authority whose
    pack has the rule [POR-6.2b]: by any child of the authority's id, or by the name of a
    child the supervisee works with, or worked with in the last ``NAMES_LOOKBACK`` (their
    cases closed or passed on)."""

    name = "PersonalRecordHoldsNoServiceUserInformation"
    TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-/]{2,}")
    #: How long a child who has left a worker's caseload is still looked for by name.
    NAMES_LOOKBACK = timedelta(days=365)

    @classmethod
    def candidate_identifiers(cls, texts: Iterable[str | None]) -> set[str]:
        """Tokens in free text that could be a child's local identifier."""
        found: set[str] = set()
        for text in texts:
            if text:
                found.update(t for t in cls.TOKEN.findall(text) if any(c.isdigit() for c in t))
        return found

    @classmethod
    def check(
        cls,
        texts: Mapping[str, str | None],
        child_ids: Collection[str],
        child_names: Collection[str],
        rule: WriteRule | None,
    ) -> None:
        if rule is None:
            return
        cite = (rule.rule_id,)
        for field, text in texts.items():
            if not text:
                continue
            tokens = set(cls.TOKEN.findall(text))
            named_ids = sorted(tokens & set(child_ids))
            if named_ids:
                raise cls.violation(
                    "a personal supervision record must not contain service-user "
                    f"information: it names child id {named_ids[0]}",
                    field=field,
                    cite=cite,
                )
            folded = text.casefold()
            for name in child_names:
                if (
                    name
                    and len(name) >= 3
                    and re.search(r"\b" + re.escape(name.casefold()) + r"\b", folded)
                ):
                    raise cls.violation(
                        "a personal supervision record must not contain service-user "
                        "information: it names a child of the authority",
                        field=field,
                        cite=cite,
                    )


#: The policy clauses each kind of event is evidence for, cited on audit-trail entries and
#: (next) on compliance findings, keyed by catalogue class (``kind_of(event)``). Kept here,
#: beside the rules, so the read side never decides which rule an event concerns.
RULES_CITED_BY_EVENT: Mapping[EventType, str] = {
    SupervisionFrequencyExceptionApproved: "POR-3.1a",
    SupervisionAgreementSigned: "POR-5.1 DEV-4.0 DUR-4.1 SHR-APP1",
    SupervisionAgreementReviewed: "POR-5.1 DEV-4.0 DUR-4.1 DUR-4.11 BUR-SA",
    SupervisionSessionCancelled: "DUR-4.4",
    SupervisionSessionRescheduled: "DUR-4.4",
    PersonalSupervisionRecordWritten: "POR-6.2b DUR-4.7a BUR-RC",
    PersonalSupervisionRecordSigned: "POR-6.2a DUR-4.7a",
    SupervisionAgreementSignedByOneParty: "POR-5.1 SHR-APP1",
    EntrySignaturesVoided: "DUR-4.7a POR-6.2a DUR-6",
    PersonalRecordCommentRemoved: "DUR-4.8b",
    DirectObservationRecorded: "DUR-6",
    DirectObservationSigned: "DUR-6",
    GroupSupervisionAttended: "DEV-7 DUR-5",
    AppraisalHeld: "DEV-8 DUR-7 POR-4 BUR-ER",
    CaseSupervisionRecorded: "DEV-5.3 POR-6.1 SHR-5.6 DUR-4.7b",
    OversightTriggered: "DEV-6",
    ManagementOversightRecorded: "DEV-6g",
    ManagementDecisionRecorded: "POR-3.3 BUR-AH",
    ActionCarriedForward: "POR-6.1",
    DisagreementRaised: "DUR-4.10 SHR-APP1d",
    DisagreementEscalated: "DUR-4.10 SHR-APP1d",
    DisagreementResolved: "DUR-4.10 SHR-APP1d",
    GroupSupervisionDiscussionRecorded: "DEV-7 DUR-5",
    RecordAccessed: "DUR-4.8a DUR-4.8c",
    # ADR 0023 (per pack, once citations are the packs': SHR-5.8; POR-7; DUR-7).
    SupervisionFileAudited: "SHR-5.8 DUR-7",
    CaseFileAudited: "POR-7 SHR-5.8",
    QualityAuditDisputed: "SHR-5.8 POR-7 DUR-7",
    QualityAuditModerated: "SHR-5.8 POR-7 DUR-7",
}


def require(condition: bool, message: str, *, field: str) -> None:
    """Shape checks that are not policy rules."""
    if not condition:
        raise ValidationError(message, field=field)

"""What each field name means, in the policies' words: one vocabulary for the generated
parts of the schema (command inputs, event types, entries, attributes), so a field
means the same wherever it appears (ADR 0028). A name is described once here; a
meaning that depends on the event is in ``OVERRIDES`` by event and field.
"""

from __future__ import annotations

from collections.abc import Mapping

from domain import commands as c
from domain.events import (
    AbsenceEnded,
    AbsenceStarted,
    ActionCarriedForward,
    ActionCompleted,
    ActionSet,
    AppraisalHeld,
    AuthorityRegistered,
    CareEpisodeCorrected,
    CaseClosed,
    CaseTypeChanged,
    ChildCameIntoCare,
    ChildRegistered,
    ChildReturnedHome,
    ClosureDayAdded,
    DirectObservationRecorded,
    DisagreementEscalated,
    DisagreementRaised,
    DisagreementResolved,
    EntryCorrected,
    GroupSupervisionDiscussionRecorded,
    LegalHoldLifted,
    LegalHoldPlaced,
    LegalStatusChanged,
    LineManagerChanged,
    OversightTriggered,
    PersonalRecordCommentRemoved,
    PersonalSupervisionRecordWritten,
    PlacementChanged,
    QualityAuditModerated,
    RecordAccessed,
    RecordPurged,
    RiskLevelChanged,
    SupervisionAgreementReviewed,
    SupervisionFrequencyExceptionApproved,
    SupervisionSessionCancelled,
    SupervisionSessionRescheduled,
    SupervisionSessionScheduled,
    TeamAllocated,
    ThresholdChanged,
    WorkerLeftEmployment,
    WorkerRegistered,
    WorkerRoleChanged,
    WorkerTeamChanged,
    WorkingPatternChanged,
)

FIELD_WORDS: Mapping[str, str] = {
    # -- who and what a record is about
    "staff_id": "The worker's staff id in the caller's authority.",
    "child_id": "The child's id in the caller's authority (e.g. SSDA903 CHILD).",
    "local_child_id": "The child's id in the authority, as registered (SSDA903 CHILD).",
    "authority_code": "The code of the local authority whose record this is.",
    "authority_id": "The local authority's code, as an administrator registers it.",
    "subject_id": "The aggregate id of the child or worker whose record was read.",
    "display_name": "The worker's name as HR recorded it, for people to read.",
    "name": "The name as recorded (a child's may be withheld: null).",
    "session_id": "The supervision session's id, chosen by the client, unique per worker.",
    "entry_id": "The record's id, chosen by the client, unique per subject.",
    "agreement_id": "The supervision agreement's id, unique per worker.",
    "record_id": "The personal supervision record's id, unique per worker.",
    "trigger_id": "The oversight trigger's id, unique per child.",
    "action_id": "The action's id, unique per child.",
    "disagreement_id": "The disagreement's id, unique per subject.",
    "hold_id": "The legal hold's id, unique per subject.",
    "absence_id": "The absence's id, unique per worker.",
    "appraisal_id": "The appraisal's id, unique per worker.",
    "observation_id": "The direct observation's id, unique per worker.",
    "group_session_id": "The group session's id, shared by every attendee's record of it.",
    "episode_id": "The child-in-need episode (its referral's entry id) it belongs to.",
    "audit_id": "The audit's id, chosen by the client, unique per subject.",
    "supervisor_id": "The supervisor's staff id.",
    "worker_id": "The allocated worker's staff id.",
    "line_manager_id": "The line manager's staff id: where disagreements go first [DUR-4.10].",
    "escalation_manager_id": "The staff id of the manager the agreement names for "
    "escalating disagreements [POR-5.1].",
    "facilitator_id": "The staff id of whoever facilitated the group session.",
    "observer_id": "The staff id of whoever observed the worker's practice [DUR-6].",
    "auditor_id": "The staff id of the auditor: the caller who recorded the audit.",
    "moderator_id": "The staff id of the moderator who confirmed or changed the judgement.",
    "decision_maker_id": "The staff id of the manager who made the oversight decision "
    "(from their token) [DEV-6g].",
    "decision_maker_role": "The role on the deciding manager's token when they recorded it.",
    "cancelled_by": "Which party cancelled the session (from their token) [DUR-4.4].",
    "consulted_by": "Who consulted the manager for the decision.",
    "recorded_by_instruction_of": "The manager on whose instruction the decision was "
    "recorded [BUR-AH].",
    "authorised_by": "The staff id of the data protection officer who authorised it.",
    "disputed_by": "The staff id of the worker or supervisor who disputed the audit.",
    "file_role": "The role the audited worker held in the supervision file (supervisee "
    "or supervisor).",
    "signatory": "The party signing, as their relationship to the record makes them.",
    "role": "The post the worker holds, which can set the supervision due [SHR-3.6c].",
    "team": "The team's name, as the authority names it.",
    # -- employment
    "employment_pattern": "Full or part time, which sets supervision frequency and the "
    "annual minimum [DEV-4.1b, DUR-4.2].",
    "fte": "Full-time equivalent (1.0 full time) the worker is contracted for.",
    "weekly_hours": "Contracted hours a week (Durham counts 18.5 h as part time, DUR-4.2).",
    "engagement": "How the worker is engaged: permanent, agency or temporary.",
    "start_date": "The first day of employment: supervision counts from it.",
    "case_holding": "True when the worker holds cases: case-holding rules apply to them.",
    "nqsw_asye_start": "When their assessed and supported year in employment began (a "
    "newly qualified social worker), if they are in it.",
    "last_day": "The last day of employment: the file's retention runs from it "
    "[POR-6.2d, SHR-5.7].",
    "left_on": "The last day of employment, once the worker has left.",
    "returned_on": "The day the worker came back from absence.",
    "started_on": "The day it began.",
    "ended_on": "The day it ended (null: not yet ended).",
    # -- supervision
    "frequency": "A period code: P1M (monthly), P4W (four-weekly), P2W, P1W, P3M.",
    "supervision_format": "How supervision is given: individual, group or alternating.",
    "review_due_on": "When the agreement is next to be reviewed [DUR-4.11].",
    "next_review_due_on": "When the agreement is next to be reviewed after this review [DUR-4.11].",
    "signed_on": "The day this party signed.",
    "supervisor_signed_on": "The day the supervisor signed the agreement.",
    "supervisee_signed_on": "The day the supervisee signed the agreement.",
    "supervisee_feedback": "The supervisee's feedback on supervision, given at review [BUR-SA].",
    "scheduled_for": "When the session is booked to take place.",
    "new_scheduled_for": "The new time the session is moved to [DUR-4.4].",
    "duration_minutes": "How long the session lasted, in minutes (some rules count only "
    "sessions of a minimum length).",
    "functions_covered": "Which functions of supervision the session covered [DUR-4.3].",
    "wellbeing_discussed": "True when the worker's wellbeing was discussed [DUR-4.3].",
    "equality_and_diversity_discussed": "True when the session covered equality, "
    "diversity and inclusion in the worker's practice [DUR-4.3].",
    "children_discussed": "The children whose cases were discussed in the session.",
    "case_discussions": "Children's cases discussed in the session, each recorded on "
    "the child as case supervision.",
    "held_on": "The day it took place (its valid time; a correction may move it).",
    "actions_reviewed": "How the actions from the last session were reviewed.",
    "wellbeing": "What was said about the worker's wellbeing.",
    "workload": "What was said about the worker's caseload and workload.",
    "development": "What was said about the worker's learning and development.",
    "disagreements": "Disagreements recorded in the session, in words.",
    "agreed_actions": "SMART actions agreed in the session [POR-6.1].",
    "confirmed": "True: the supervisee confirms the record; false: they state a "
    "differing view [POR-6.2a].",
    "differing_view": "The supervisee's differing view of the record, in their words [DUR-4.10].",
    "field_name": "The field of the record whose comment was removed [DUR-4.8b].",
    "topic": "What the group session was about.",
    "session_kind": "group_supervision (default), team_meeting or practice_development.",
    "summary": "What was observed or discussed, in words.",
    # -- children and cases
    "date_of_birth": "The child's date of birth (retention can run from it).",
    "expected_date_of_birth": "An unborn child's expected date of birth.",
    "case_type": "The case type, which sets the case-supervision frequency [DEV-5.1b].",
    "risk_level": "The assessed risk: low, medium or high [DEV-5.1b, DUR-4.6a].",
    "rag": "The red-amber-green rating, where the authority rates cases [DEV-5.1c].",
    "threshold": "The child's threshold of need, as the authority's model names it.",
    "legal_status": "The looked-after child's legal status (SSDA903 LS code).",
    "placement": "The looked-after child's placement type (SSDA903 PLACE code).",
    "in_care": "True while the child is looked after by the authority.",
    "reason_code": "Why the period of care ended (SSDA903 REC code).",
    "review_on": "The day the looked-after child's review was held.",
    "review_code": "How the child took part in the review (SSDA903 PN code).",
    "order_made_on": "The day the adoption order was made: retention runs 100 years from "
    "it [AAR-42].",
    "died_on": "The day the child died [CPPCR-50].",
    "allocated_worker_id": "The staff id of the practitioner the case is allocated to.",
    "closed": "How the case left the allocated team (closed, transferred or stepped "
    "across to early help); null while it is open [DEV-6 (13)].",
    "current_situation": "The child's current situation, as the record states it.",
    "child_last_seen_on": "The day the child was last seen by their worker.",
    "childs_views": "The child's wishes and feelings, in the record [DEV-5.3].",
    "reflection": "The worker's and supervisor's reflection on the case.",
    "analysis": "The analysis of risk and need behind the decision.",
    "decision": "What was decided, in words.",
    "rationale": "Why, in words, for the record.",
    "actions": "SMART actions agreed: each with an id, a description, an owner and a due date.",
    "action": "The SMART action agreed.",
    "previous_actions_reviewed": "How the actions set last time were reviewed.",
    "automatic": "True when the system raised the trigger from an event, not a person.",
    "detail": "What happened, in the words of whoever raised the trigger.",
    "incident_dates": "The days of the incidents the trigger concerns.",
    "answers_trigger_ids": "The oversight triggers this record answers [DEV-6g].",
    "answered_by": "The management oversight record that answered it (null: unanswered) [DEV-6g].",
    "note": "How the action was completed, in words.",
    "new_due_on": "The new due date the action is carried forward to [POR-6.1].",
    "due_on": "The day by which it is to be done, under the authority's pack.",
    # -- the CIN census
    "referral_on": "The day the referral was received (CIN census ReferralDate).",
    "referral_source": "Who referred the child (CIN census ReferralSource code).",
    "primary_need": "The primary need code at referral (CIN census N0-N9).",
    "no_further_action": "True when the referral led to no further action.",
    "authorised_on": "The day the assessment was authorised.",
    "factors": "The factors the assessment identified (CIN census factor codes).",
    "conference_required": "True when the enquiry concluded an initial child protection "
    "conference is needed.",
    "category_of_abuse": "The plan's initial category of abuse (CIN census code).",
    "reviewed_on": "The day the plan's review conference was held (CPPreviewDate).",
    "review_number": "Which review conference of the plan this was, counting from 1.",
    "at_review": "The review conference at which the plan ended (DEV-6 (11) watches the first).",
    "closed_on": "The day the episode was closed, as the census records it.",
    "reason_for_closure": "Why the episode closed (CIN census RC1-RC8).",
    "missing": "M: missing from care; A: away from placement without authorisation.",
    "episode_started_on": "The start of the episode of care the correction concerns.",
    "corrects": "Which imported episode the correction replaces.",
    "current": "True when the corrected episode is the child's current one.",
    # -- corrections, disagreements, holds, purges
    "changes": "The corrected fields and their new values (the original is kept).",
    "reason": "Why, in words, for the record.",
    "voided": "The parties whose signatures the correction voided [DUR-4.7a].",
    "subject": "What the disagreement is about, which picks the escalation chain.",
    "about": "What the worker disagrees with, in their words.",
    "level": "The escalation chain's level now holding the disagreement [DUR-4.10].",
    "resolution": "How the disagreement was resolved, in words (null: unresolved).",
    "reference": "The hold's external reference (a claim or inquiry number).",
    "record_class": "The class of record: personal_supervision, direct_observation, "
    "worker_file, child_record or access_log.",
    "rule_id": "The rule ID cited, e.g. DUR-4.9.",
    "positions": "The log positions of the stored events the purge destroyed.",
    "as_of": "The day the purge is run as of: the record must be due for destruction by "
    "it (ADR 0012).",
    # -- access
    "what": "Which part of the record was read.",
    "purpose": "Why it was read, as the reader gave it [DUR-4.8a].",
    # -- quality assurance
    "period_from": "The first day of the period audited.",
    "period_to": "The last day of the period audited (not after the audit).",
    "answers": "Each item of the authority's audit tool, by its id: true (yes) or false (no).",
    "judgement": "The overall judgement, on the authority's tool's scale (e.g. Good).",
    "comment": "The auditor's comment on the file.",
    "reasons": "Why the audit is disputed, in words.",
    # -- the authority
    "policy_pack": "A loaded policy pack's id, e.g. DUR.",
    "day": "The day the authority is closed: not a working day for its deadlines.",
    # -- imports and the envelope of a command
    "imported": "True when a sector-format import recorded it, not a person.",
    # -- what the timeline's fold adds to an entry (domain/policy/timeline.py)
    "status": "Where the session stands: scheduled, cancelled or held.",
    "cancellation_reason": "Why the session was cancelled, as the cancelling party gave it "
    "[DUR-4.4].",
    "escalations": "How many times the disagreement has been escalated up its chain.",
    "lifted": "True once the legal hold has been lifted: the records fall due again.",
    "graded": "The auditor's own overall judgement, before any moderation.",
    "record": "Which file the audit read: a supervision file or a case file.",
    "dispute_reasons": "Why the audit was disputed, in the disputing party's words.",
    "moderated_by": "The staff id of the moderator, once the audit is moderated.",
    "moderation_rationale": "Why the moderator settled on the judgement, in words.",
    "last_reviewed_on": "The day of the plan's latest review conference.",
    "reviews": "How many review conferences the plan has had.",
    "observed_on": "The day of the observation, where a correction moved it.",
    "attended_on": "The day of the group session, where a correction moved it.",
    "signed_by_supervisor": "True once the supervisor has signed; false when a correction "
    "voided their signature and they have not signed again [DUR-4.7a].",
    "signed_by_supervisee": "True once the supervisee has signed; false when a correction "
    "voided their signature and they have not signed again [POR-6.2a].",
    "signed_by_observer": "False when a correction voided the observer's signature and "
    "they have not signed again [DUR-6]; null otherwise.",
    "signed_by_line_manager": "False when a correction voided the line manager's "
    "signature and they have not signed again [DUR-6]; null otherwise.",
}

#: Where a name means something particular to one event or command (its class, field).
OVERRIDES: Mapping[tuple[type, str], str] = {
    (OversightTriggered, "kind"): "Which key point of the authority's list arose [DEV-6].",
    (LegalHoldPlaced, "kind"): "Why the records are held: litigation, inquiry, review.",
    (AbsenceStarted, "kind"): "Why the worker is away: sickness, planned or unplanned.",
    (AppraisalHeld, "kind"): "Which review it was: appraisal, pdr or six_month_review.",
    (CaseClosed, "kind"): "How the case left the team: closed, transferred or stepped "
    "across to early help [DEV-6 (13)].",
    (RecordAccessed, "kind"): "Which record was read: child_record or personal_file.",
    (c.CloseCase, "kind"): "How the case leaves the team: closed, transferred or "
    "stepped_across_to_early_help [DEV-6 (13)].",
    (c.HoldAppraisal, "kind"): "Which review it is: appraisal, pdr or six_month_review.",
    (c.PlaceLegalHold, "kind"): "Why the records are held: learning_review, litigation, "
    "subject_access_request, inquiry or police_investigation.",
    (c.StartAbsence, "kind"): "Why the worker is away: sickness, planned or unplanned.",
    (c.TriggerOversight, "kind"): "Which key point of the authority's list arose, e.g. "
    "court_direction [DEV-6].",
    (RecordPurged, "due_on"): "The day the record fell due for destruction under its "
    "retention rule.",
    (CaseClosed, "reason"): "Why the case closed, in words.",
    (QualityAuditModerated, "judgement"): "The judgement the moderator settled on.",
    (QualityAuditModerated, "confirmed"): "True when the moderator kept the auditor's judgement.",
    (CareEpisodeCorrected, "changes"): "The corrected episode's fields and new values.",
    (EntryCorrected, "changes"): "The corrected fields and their new values (the "
    "original is kept).",
    (WorkerRegistered, "role"): "The post the worker was registered in [SHR-3.6c].",
    (WorkerRoleChanged, "role"): "The new post, which may change the supervision due [SHR-3.6c].",
    (DirectObservationRecorded, "summary"): "What the observer saw of the worker's practice.",
    (GroupSupervisionDiscussionRecorded, "summary"): "What the group said about the child's case.",
}


def words_for(name: str, owner: type | None = None) -> str:
    """What field ``name`` means (of the event or command ``owner``, where that matters)."""
    if owner is not None and (owner, name) in OVERRIDES:
        return OVERRIDES[(owner, name)]
    found = FIELD_WORDS.get(name)
    if found is None:
        raise KeyError(f"graphql_api/types/words.py does not describe the field {name!r}")
    return found


#: What a command records, for those ``domain/commands.py`` gives no docstring: the
#: mutation's and its input's description, in the policies' words (``command_words``
#: adds the event it records).
COMMAND_WORDS: Mapping[type, str] = {
    c.AddClosureDay: (
        "Add a day the authority is closed: it does not count as a working day for its deadlines."
    ),
    c.AllocateTeam: ("Allocate a child's case to a team, before a practitioner is named."),
    c.ApproveFrequencyException: (
        "Approve supervision less often than the standard frequency, by the role the "
        "authority's pack names [POR-3.1a]."
    ),
    c.CancelSupervisionSession: (
        "Cancel a booked supervision session, as one of its parties, with a reason [DUR-4.4]."
    ),
    c.CarryForwardAction: (
        "Carry an action on a child's plan to a new due date, saying why [POR-6.1]."
    ),
    c.ChangeCaseType: (
        "Change a child's case type, which sets how often the case is supervised [DEV-5.1b]."
    ),
    c.ChangeLegalStatus: ("Change a looked-after child's legal status (SSDA903 legal status)."),
    c.ChangeLineManager: (
        "Give a worker a new line manager: where their disagreements go first [DUR-4.10]."
    ),
    c.ChangePlacement: ("Change a looked-after child's placement, with the reason."),
    c.ChangeRiskLevel: (
        "Change a child's risk level or RAG rating, which can change how often the case is "
        "supervised [DEV-5.1b, DUR-4.6a]."
    ),
    c.ChangeRole: ("Record a worker's new post, which may change the supervision due [SHR-3.6c]."),
    c.ChangeTeam: ("Move a worker to another team."),
    c.ChangeThreshold: (
        "Change a child's threshold of need: a key point for oversight [DEV-6 (9)]."
    ),
    c.ChangeWorkingPattern: (
        "Change a worker's hours, which set their supervision frequency and annual minimum "
        "[DEV-4.1b, DUR-4.2]."
    ),
    c.CompleteAction: ("Mark an action on a child's plan done, with a note [POR-6.1]."),
    c.CorrectEntry: (
        "Supersede fields of an entry with a reason, keeping the original; a signed record "
        "reads unsigned until each party signs again [DUR-4.7a, DUR-4.7b]."
    ),
    c.EndAbsence: (
        "Record a worker's return from absence: a return supervision may fall due [DUR-4.5]."
    ),
    c.EscalateDisagreement: (
        "Move a disagreement to the next level of the authority's escalation chain for its "
        "subject [DUR-4.10, SHR-APP1d]."
    ),
    c.HoldAppraisal: ("Record a worker's appraisal or review [DEV-8, DUR-7, POR-4]."),
    c.LeaveEmployment: (
        "Record a worker's last day: their file's retention runs from it [POR-6.2d, SHR-5.7]."
    ),
    c.LiftLegalHold: (
        "End a legal hold: the subject's records fall due for purging again [DUR-4.9]."
    ),
    c.PlaceLegalHold: (
        "Stop a subject's records being purged while litigation, an inquiry or a review needs them."
    ),
    c.RaiseDisagreement: (
        "Record a worker's disagreement with a decision or a record, as a party to it "
        "[DUR-4.10, SHR-APP1d, POR-3.1a]."
    ),
    c.RecordCameIntoCare: (
        "Record that a child came into care, with legal status and placement: a key point for "
        "oversight [DEV-6 (4)]."
    ),
    c.RecordDirectObservation: (
        "Record an observation of a worker's practice, for each party to sign [DUR-6]."
    ),
    c.RecordGroupDiscussion: (
        "Record that a child's case was discussed in group supervision [DEV-7, DUR-5]."
    ),
    c.RecordReturnedHome: (
        "Record that a looked-after child returned home: a key point for oversight [DEV-6 (7)]."
    ),
    c.RegisterAuthority: (
        "Make a local authority a tenant, holding its records against a policy pack."
    ),
    c.RegisterChild: (
        "Make a child known to the authority, with case type, risk and RAG rating [DEV-5.1b, "
        "DEV-5.1c]."
    ),
    c.RegisterWorker: (
        "Register a worker with their post, team, line manager and hours [DEV-4.1b, SHR-3.6c]."
    ),
    c.RemoveComment: (
        "Remove a comment from a personal supervision record, as the original supervisor's "
        "manager, with a reason [DUR-4.8b]."
    ),
    c.RescheduleSupervisionSession: (
        "Move a booked supervision session to a new time, agreed with a reason [DUR-4.4]."
    ),
    c.ResolveDisagreement: (
        "Resolve a disagreement, by the level now holding it, never by whoever raised it "
        "[DUR-4.10, SHR-APP1d]."
    ),
    c.ReviewSupervisionAgreement: (
        "Review a supervision agreement and set its next review [DUR-4.11, BUR-SA]."
    ),
    c.ScheduleSupervisionSession: (
        "Book a personal supervision session with a supervisor [DUR-4.2]."
    ),
    c.SetAction: (
        "Set a SMART action on a child's plan, with an owner and a due date [POR-6.1, DEV-5.3]."
    ),
    c.StartAbsence: (
        "Record the start of a worker's absence, which changes the supervision due [POR-3.1e, "
        "DUR-4.4, DUR-4.5]."
    ),
    c.TriggerOversight: (
        "Raise a key point in a child's case that needs a manager's oversight record [DEV-6]."
    ),
    c.WritePersonalSupervisionRecord: (
        "Write the record of a held supervision session, as its supervisor, for both parties "
        "to sign [POR-6.2b, DUR-4.7a]."
    ),
}

#: The event each of those commands records.
RECORDS: Mapping[type, type] = {
    c.AddClosureDay: ClosureDayAdded,
    c.AllocateTeam: TeamAllocated,
    c.ApproveFrequencyException: SupervisionFrequencyExceptionApproved,
    c.CancelSupervisionSession: SupervisionSessionCancelled,
    c.CarryForwardAction: ActionCarriedForward,
    c.ChangeCaseType: CaseTypeChanged,
    c.ChangeLegalStatus: LegalStatusChanged,
    c.ChangeLineManager: LineManagerChanged,
    c.ChangePlacement: PlacementChanged,
    c.ChangeRiskLevel: RiskLevelChanged,
    c.ChangeRole: WorkerRoleChanged,
    c.ChangeTeam: WorkerTeamChanged,
    c.ChangeThreshold: ThresholdChanged,
    c.ChangeWorkingPattern: WorkingPatternChanged,
    c.CompleteAction: ActionCompleted,
    c.CorrectEntry: EntryCorrected,
    c.EndAbsence: AbsenceEnded,
    c.EscalateDisagreement: DisagreementEscalated,
    c.HoldAppraisal: AppraisalHeld,
    c.LeaveEmployment: WorkerLeftEmployment,
    c.LiftLegalHold: LegalHoldLifted,
    c.PlaceLegalHold: LegalHoldPlaced,
    c.RaiseDisagreement: DisagreementRaised,
    c.RecordCameIntoCare: ChildCameIntoCare,
    c.RecordDirectObservation: DirectObservationRecorded,
    c.RecordGroupDiscussion: GroupSupervisionDiscussionRecorded,
    c.RecordReturnedHome: ChildReturnedHome,
    c.RegisterAuthority: AuthorityRegistered,
    c.RegisterChild: ChildRegistered,
    c.RegisterWorker: WorkerRegistered,
    c.RemoveComment: PersonalRecordCommentRemoved,
    c.RescheduleSupervisionSession: SupervisionSessionRescheduled,
    c.ResolveDisagreement: DisagreementResolved,
    c.ReviewSupervisionAgreement: SupervisionAgreementReviewed,
    c.ScheduleSupervisionSession: SupervisionSessionScheduled,
    c.SetAction: ActionSet,
    c.StartAbsence: AbsenceStarted,
    c.TriggerOversight: OversightTriggered,
    c.WritePersonalSupervisionRecord: PersonalSupervisionRecordWritten,
}


def command_words(command: type) -> str:
    """What ``command`` does, and the event it records."""
    return f"{COMMAND_WORDS[command]} Records {RECORDS[command].__name__}."

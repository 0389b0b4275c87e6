"""Record access: every read of a subject's record goes on that subject's access log."""

from __future__ import annotations

from typing import TYPE_CHECKING

from eventsourcing.domain import Aggregate

from application.subjects import subject_key_of
from domain import commands as c
from domain.access import AccessLog
from domain.child import Child
from domain.errors import NotFound
from domain.worker import Worker

if TYPE_CHECKING:
    from application.app import OversightApplication


def record_access(app: OversightApplication, cmd: c.RecordAccess) -> list[Aggregate]:
    """The subject must be visible to the reader's authority; the read goes on its log.

    Only the subject's first event is read (its registration, or its tombstone): the id
    is derived from the authority and the local id, so that event alone says the
    subject exists here, and which kind it is. Replaying a long history for every read
    cost milliseconds that grow with the record (benchmark 4, issue 7)."""
    kind, _, subject_id = subject_key_of(cmd)
    subject = app.opening_of(subject_id)
    if not isinstance(subject, Worker if kind == "worker" else Child):
        field = "staff_id" if kind == "worker" else "child_id"
        raise NotFound(f"no {kind} with that id in this authority", field=field)
    log = _appendable(app, subject)
    if log is None:
        log = AccessLog(
            subject_id=subject.id,
            authority_code=subject.authority_code,
            provenance=cmd.provenance(),
        )
    kind = "personal_file" if isinstance(subject, Worker) else "child_record"
    log.record_access(cmd.provenance(), what=cmd.what, purpose=cmd.purpose, kind=kind)
    return [log]


def _appendable(app: OversightApplication, subject: Worker | Child) -> AccessLog | None:
    """The subject's access log, ready to take one more read: the version of its last
    event, one indexed read of one stored row (not decoded). Nothing a read records
    depends on the reads before it, nor on the log's opening beyond what the subject
    itself says (its id and authority, from which the log was opened), so the log is
    taken as opened, at its last version: replaying it whole made each read slower than
    the last, and reading its opening too was one more round trip on every read
    (session 10, issue 18). Two reads racing still meet the store's version check (the
    retry appends after the other)."""
    log_id = AccessLog.create_id(subject.id)
    last = next(iter(app.recorder.select_events(log_id, desc=True, limit=1)), None)
    if last is None:
        return None
    return AccessLog.at_version(
        last.originator_version, subject.id, subject.authority_code, subject.created_on
    )


__all__ = ["record_access"]

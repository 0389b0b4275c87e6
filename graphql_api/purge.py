"""The API's side of purges (ADR 0012, 0018): the purge use case on the primary,
``purgeDueRecords`` through it, and the purge certificates. ``purgeRecord`` is a
generated mutation like any other: ``Service.execute`` hands it to the purge use case.

The resolvers in ``graphql_api.queries`` and ``graphql_api.mutations`` stay thin: what a
purge does is ``application.purge``'s, the same code the CLI and a scheduled run call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import strawberry
from sqlalchemy import select

from application import certificates as certs
from application.certificates import Certificate, LedgerMissing
from application.purge import PurgeRun, Purges
from application.storage import CompactionIncomplete
from domain.authorization import (
    Principal,
)
from domain.errors import Forbidden, NotFound, ValidationError
from domain.vocabulary import Role
from graphql_api.errors import unfinished_purge
from graphql_api.relay import Cursors, Node, PageArgs, SqlSource, global_id, paginate
from graphql_api.service import Service
from graphql_api.types import PageInfo
from graphql_api.types.common import page_info
from graphql_api.types.enums import SubjectKind, member
from projections.engine import utc

#: Who reads the certificates: the officer who issues them, and quality assurance.
CERTIFICATE_READERS = frozenset({Role.DATA_PROTECTION_OFFICER, Role.QA_AUDITOR})


@dataclass
class PurgingService(Service):
    """The API's service with the purge use case on the primary: the API may read from a
    standby (``OVERSIGHT_READ_DATABASE_URL``), but a purge redacts and compacts where
    the events are written."""

    purges: Purges | None = None

    def purge_use_case(self) -> Purges:
        """The primary's purge use case, when the server gave one."""
        return self.purges if self.purges is not None else super().purge_use_case()


def purge_due(service: Service, principal: Principal, as_of: date, dry_run: bool) -> PurgeRun:
    """``purgeDueRecords``: the officer's run over the schedule, through the use case."""
    if principal.role is not Role.DATA_PROTECTION_OFFICER:
        raise Forbidden("purges are the data protection officer's", rule="DP")
    purges = service.purge_use_case()
    if as_of > purges.clock().date():
        raise ValidationError("as_of is a date no later than today", field="as_of")
    try:
        return purges.run(
            authority_code=principal.authority_code,
            as_of=as_of,
            dpo=service.actor(principal),
            dry_run=dry_run,
        )
    except (LedgerMissing, CompactionIncomplete) as error:
        raise unfinished_purge(error) from None


# -- certificates ---------------------------------------------------------------------------


@strawberry.type(
    description="A purge certificate: one destroyed record, the rule it was kept under, the "
    "checks made and who ran the purge. It holds no personal data. node(id:) gives it "
    "again to the data protection officer and quality assurance."
)
class PurgeCertificate(Node):
    certificate_id: str = strawberry.field(description="One per destroyed record.")
    subject_kind: SubjectKind = strawberry.field(  # type: ignore[valid-type]
        description="Whose record was destroyed: a worker's or a child's."
    )
    subject_id: str = strawberry.field(description="The subject's aggregate id (a UUID).")
    local_id: str = strawberry.field(description="The staff id or the child's id.")
    record_class: str = strawberry.field(
        description="personal_supervision, direct_observation, worker_file, child_record or "
        "access_log."
    )
    record_id: str = strawberry.field(description="The session, observation, subject or year.")
    rule_id: str = strawberry.field(description="The retention rule cited, e.g. DUR-4.9.")
    due_on: date = strawberry.field(description="When its retention period ended.")
    as_of: date = strawberry.field(description="The day the purge checked due dates against.")
    legal_hold_check: str = strawberry.field(
        description="What the check of legal holds in the event store found."
    )
    events_rewritten: int = strawberry.field(description="Stored events made tombstones.")
    read_model_rows_redacted: int = strawberry.field(
        description="How many read-model rows (trail, sheets, registers, history) were "
        "redacted or deleted, so no copy of the personal data remains."
    )
    ran_by: str = strawberry.field(
        description="The data protection officer's staff id, or schedule."
    )
    purged_at: datetime = strawberry.field(description="When the purge destroyed the record (UTC).")


@strawberry.type(description="A purge certificate, with the cursor to page on from it.")
class PurgeCertificateEdge:
    cursor: str = strawberry.field(
        description="Opaque: pass as after (or before) to page on from this certificate; "
        "only this authority's certificate list accepts it."
    )
    node: PurgeCertificate = strawberry.field(
        description="The certificate of one destroyed record."
    )


@strawberry.type(
    description="A page of purge certificates, in the order issued: Relay keyset "
    "pagination forwards or backwards."
)
class PurgeCertificateConnection:
    edges: list[PurgeCertificateEdge] = strawberry.field(
        description="This page's certificates, in the order issued, each with its cursor."
    )
    page_info: PageInfo = strawberry.field(
        description="Whether there are certificates before or after this page, and its cursors."
    )
    total_count: int = strawberry.field(
        description="How many certificates the authority has issued (every page)."
    )


def _node(k: Certificate) -> PurgeCertificate:
    return PurgeCertificate(
        id=global_id("PurgeCertificate", k.authority_code, k.certificate_id),
        certificate_id=k.certificate_id,
        subject_kind=member(SubjectKind, k.subject_kind),
        subject_id=k.subject_id,
        local_id=k.local_id,
        record_class=k.record_class,
        record_id=k.record_id,
        rule_id=k.rule_id,
        due_on=k.due_on,
        as_of=k.as_of,
        legal_hold_check=k.legal_hold_check,
        events_rewritten=k.events_rewritten,
        read_model_rows_redacted=k.read_model_rows_redacted,
        ran_by=k.ran_by,
        purged_at=k.purged_at,
    )


def _may_read_certificates(principal: Principal) -> None:
    if principal.role not in CERTIFICATE_READERS:
        raise Forbidden(
            "purge certificates are for the data protection officer and quality assurance",
            rule="DP",
        )


def certificate(service: Service, principal: Principal, certificate_id: str) -> PurgeCertificate:
    """One certificate of the caller's authority by its id (``node(id:)``)."""
    _may_read_certificates(principal)
    table = certs.purge_certificates
    query = select(table).where(
        table.c.authority_code == principal.authority_code,
        table.c.certificate_id == certificate_id,
    )
    with service.engine.connect() as conn:
        found = conn.execute(query).mappings().one_or_none()
    if found is None:
        raise NotFound("no such purge certificate in this authority", field="id")
    return _node(Certificate.from_row(found))


def _certificate_at(key: Sequence[Any]) -> tuple[datetime, str]:
    """A certificate cursor's key as the columns hold it: the instant, then the id."""
    return utc(datetime.fromisoformat(str(key[0]))), str(key[1])


def certificate_page(
    service: Service, principal: Principal, asked: PageArgs
) -> PurgeCertificateConnection:
    """A page of the caller's authority's certificates, in the order issued, for the
    officer and QA."""
    _may_read_certificates(principal)
    table = certs.purge_certificates
    query = select(table).where(table.c.authority_code == principal.authority_code)
    source = SqlSource(
        service.engine,
        query,
        [table.c.purged_at, table.c.certificate_id],
        lambda r: (utc(r.purged_at).isoformat(), str(r.certificate_id)),
        bind=_certificate_at,
    )
    cursors = Cursors("purgeCertificates", {"authority": principal.authority_code})
    found = paginate(source, asked, cursors)
    edges = [
        PurgeCertificateEdge(cursor=c, node=_node(Certificate.from_row(r._mapping)))
        for c, r in found.items
    ]
    return PurgeCertificateConnection(
        edges=edges, page_info=page_info(found), total_count=found.total_count
    )

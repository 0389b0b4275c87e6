"""The API's side of purges (ADR 0012, 0018): the purge use case on the primary,
``purgeDueRecords`` through it, and the purge certificates. ``purgeRecord`` is a
generated mutation like any other: ``Service.execute`` hands it to the purge use case.

The resolvers in ``graphql_api.queries`` and ``graphql_api.mutations`` stay thin: what a
purge does is ``application.purge``'s, the same code the CLI and a scheduled run call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

import strawberry

from application import certificates as certs
from application.certificates import Certificate, LedgerMissing
from application.purge import PurgeRun, Purges
from application.storage import CompactionIncomplete
from domain.authorization import (
    Principal,
)
from domain.errors import Forbidden, ValidationError
from domain.vocabulary import Role
from graphql_api.errors import unfinished_purge
from graphql_api.service import Service
from graphql_api.types import PageInfo
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
    "checks made and who ran the purge. It holds no personal data."
)
class PurgeCertificate:
    certificate_id: str = strawberry.field(description="One per destroyed record.")
    subject_kind: str = strawberry.field(description="worker or child.")
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
        description="Read-model rows redacted or deleted."
    )
    ran_by: str = strawberry.field(
        description="The data protection officer's staff id, or schedule."
    )
    purged_at: datetime = strawberry.field(description="When it was destroyed.")


@strawberry.type(description="A certificate and its cursor.")
class PurgeCertificateEdge:
    cursor: str = strawberry.field(description="Opaque: pass as after for the next page.")
    node: PurgeCertificate = strawberry.field(description="The certificate.")


@strawberry.type(description="A page of purge certificates, in the order issued.")
class PurgeCertificateConnection:
    edges: list[PurgeCertificateEdge] = strawberry.field(description="This page's certificates.")
    page_info: PageInfo = strawberry.field(description="Whether there is more.")


def _node(k: Certificate) -> PurgeCertificate:
    return PurgeCertificate(
        certificate_id=k.certificate_id,
        subject_kind=k.subject_kind,
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


def certificate_key(value: str | None) -> tuple[datetime, str] | None:
    """What a certificate cursor stands for: the last certificate's time and id."""
    if value is None:
        return None
    when, _, certificate_id = value.partition("|")
    try:
        return utc(datetime.fromisoformat(when)), certificate_id
    except ValueError:
        raise ValidationError("not a cursor this list issued", field="after") from None


def certificate_page(
    service: Service,
    principal: Principal,
    first: int,
    after: tuple[datetime, str] | None,
    cursor: Callable[[str], str],
) -> PurgeCertificateConnection:
    """A page of the caller's authority's certificates, for the officer and QA."""
    if principal.role not in CERTIFICATE_READERS:
        raise Forbidden(
            "purge certificates are for the data protection officer and quality assurance",
            rule="DP",
        )
    found = certs.certificates(
        service.engine, authority_code=principal.authority_code, first=first + 1, after=after
    )
    page = found[:first]
    edges = [
        PurgeCertificateEdge(
            cursor=cursor(f"{k.purged_at.isoformat()}|{k.certificate_id}"), node=_node(k)
        )
        for k in page
    ]
    return PurgeCertificateConnection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=len(found) > first, end_cursor=edges[-1].cursor if edges else None
        ),
    )

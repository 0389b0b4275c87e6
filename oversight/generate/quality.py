"""Quality-assurance audits in a generated authority (ADR 0023): each quarter or year,
as its pack's quotas say, the auditor the quota names audits some of the files it covers
with the pack's own tool, and now and then one falls short, so the demo shows quotas met
and missed [SHR-5.8, POR-7, DUR-7]. Some audits are disputed by the audited worker and
moderated by the auditor's line manager.

A pack without quotas generates nothing. The audits draw on their own random stream, so
the rest of the authority is as it was without them.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import TYPE_CHECKING

from domain import commands as c
from domain.errors import ValidationError
from domain.policy.packs import PackLibrary
from domain.policy.quality import AuditQuota, AuditRecord, QualityRules
from domain.vocabulary import Role

if TYPE_CHECKING:
    from oversight.generate.authority import AuthorityGenerator, _Member

#: How often an auditor leaves a period's quota short, and how often an audit is disputed.
MISSED = 0.3
DISPUTED = 0.15


class QualityAudits:
    """The audits of one generated authority, month by month."""

    def __init__(self, generator: AuthorityGenerator) -> None:
        self.gen = generator
        self.rng = random.Random(f"{generator.seed}/{generator.scale.name}/{generator.code}/qa")
        try:
            self.rules: QualityRules | None = PackLibrary.load().get(generator.pack).quality
        except ValidationError:  # an unknown pack: refused when the authority adopts it
            self.rules = None
        self.count = 0

    def month(self, first: date, following: date) -> None:
        """Audits in the last month of each quota period (a period tiles the year)."""
        if self.rules is None:
            return
        for quota in self.rules.quotas:
            months = quota.period.count * (12 if quota.period.unit == "Y" else 1)
            if first.month % months != 0:
                continue  # not the period's last month
            day = following - timedelta(days=self.rng.randint(3, 12))
            if day < first:
                continue
            for auditor, files in self._files(quota, day).items():
                self._audit_period(quota, auditor, files, day)

    def _files(self, quota: AuditQuota, day: date) -> dict[str, list[str]]:
        """The files the quota covers on ``day``, by the auditor it names (the holder's
        grandparent or line manager, as the generated staff are now)."""
        staff = self.gen.staff
        depth = quota.auditor.depth
        found: dict[str, list[str]] = {}

        def auditor_of(holder: str) -> str | None:
            current: str | None = holder
            for _ in range(depth + 1):
                member = staff.get(current) if current else None
                current = member.manager if member else None
            return current

        if quota.record is AuditRecord.SUPERVISION_FILE:
            for member in staff.values():
                if member.left or member.joined >= day:
                    continue
                if quota.audited_roles and member.role not in quota.audited_roles:
                    continue
                auditor = auditor_of(member.staff_id)
                if auditor and self._present(staff.get(auditor)):
                    found.setdefault(auditor, []).append(member.staff_id)
        else:
            for case in self.gen.cases.values():
                if case.closed or case.opened >= day:
                    continue
                auditor = auditor_of(case.worker)
                if auditor and self._present(staff.get(auditor)):
                    found.setdefault(auditor, []).append(case.child_id)
        return {k: sorted(v) for k, v in sorted(found.items())}

    @staticmethod
    def _present(member: _Member | None) -> bool:
        return member is not None and not member.left

    def _audit_period(self, quota: AuditQuota, auditor: str, files: list[str], day: date) -> None:
        due = len(files) if quota.count is None else min(quota.count, len(files))
        if self.rng.random() < MISSED:
            due = self.rng.randint(0, max(due - 1, 0))  # this period's quota falls short
        for local_id in self.rng.sample(files, due):
            self._audit(quota, auditor, local_id, day)

    def _audit(self, quota: AuditQuota, auditor: str, local_id: str, day: date) -> None:
        from oversight.generate.authority import at

        assert self.rules is not None
        tool = self.rules.tool(quota.record)
        assert tool is not None
        gen, rng = self.gen, self.rng
        self.count += 1
        audit_id = f"QA{self.count:05d}"
        answers = {item: rng.random() < 0.8 for item in tool.item_ids}
        judgement = tool.judgements[
            min(sum(not v for v in answers.values()), len(tool.judgements) - 1)
        ]
        who = gen._actor(auditor, Role.SERVICE_MANAGER)
        subject = (
            {"staff_id": local_id}
            if quota.record is AuditRecord.SUPERVISION_FILE
            else {"child_id": local_id}
        )
        make = (
            c.AuditSupervisionFile
            if quota.record is AuditRecord.SUPERVISION_FILE
            else c.AuditCaseFile
        )
        gen._add(
            at(day, 15),
            make,
            f"audit-{audit_id}",
            actor=who,
            **subject,
            audit_id=audit_id,
            period_from=day - timedelta(days=182),
            period_to=day,
            answers=answers,
            judgement=judgement,
            comment="",
        )
        if rng.random() >= DISPUTED:
            return
        holder = (
            gen.staff[local_id]
            if quota.record is AuditRecord.SUPERVISION_FILE
            else gen.staff.get(gen.cases[local_id].worker)
        )
        if holder is None:
            return
        disputed = day + timedelta(days=2)
        gen._add(
            at(disputed, 11),
            c.DisputeAudit,
            f"dispute-{audit_id}",
            actor=gen._actor(holder.staff_id, _role(holder)),
            **subject,
            audit_id=audit_id,
            reasons="The evidence is on file; the auditor did not see it.",
        )
        moderator = gen.staff[auditor].manager
        if moderator is None or not self._present(gen.staff.get(moderator)):
            return
        gen._add(
            at(disputed + timedelta(days=5), 11),
            c.ModerateAudit,
            f"moderate-{audit_id}",
            actor=gen._actor(moderator, _role(gen.staff[moderator])),
            **subject,
            audit_id=audit_id,
            judgement=rng.choice([judgement, tool.judgements[0]]),
            rationale="Moderated on the evidence the worker pointed to.",
        )


def _role(member: _Member) -> Role:
    """The role a generated member's token carries."""
    managers = {Role.TEAM_MANAGER, Role.SERVICE_MANAGER, Role.HEAD_OF_SERVICE}
    role = Role(member.role)
    return role if role in managers else Role.PRACTITIONER


__all__ = ["QualityAudits"]

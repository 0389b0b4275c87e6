"""Every event of the catalogue says what it means on a subject's audit trail: an event
without a describer shows as "other", which tells an auditor nothing (the CIN census's
nine events did, until this test)."""

from __future__ import annotations

from domain.events import CATALOGUE, AccessLogOpened, ContentPurged
from projections.audit_trail import DESCRIBERS

#: Not entries of a trail: a purge's content removal rewrites the entries it purged (its
#: record, ``RecordPurged``, is on the trail), and an access log's opening is no act on
#: the subject.
NOT_ON_THE_TRAIL = {ContentPurged, AccessLogOpened}


def test_every_event_on_a_trail_is_described() -> None:
    undescribed = {e for e in CATALOGUE.values() if e not in DESCRIBERS}
    assert undescribed == NOT_ON_THE_TRAIL, sorted(e.__name__ for e in undescribed)

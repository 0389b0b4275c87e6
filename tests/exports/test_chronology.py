"""A child's chronology and the learning-review pack: what they hold, for whom, as known
at which instant, and how they refuse bad input (issue 24)."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import zlib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader

from application.exports.chronology import Request, Sources, chronology
from application.exports.decisions import Filters, decisions
from application.exports.reading import StoreReader
from application.exports.render import Format, chronology_document, review_document
from application.exports.review import review_pack
from domain.authorization import Principal
from domain.errors import NotFound, ValidationError
from domain.events import DisagreementEscalated, EntryCorrected, EventType, RecordAccessed
from domain.identifiers import child_id
from domain.policy.packs import PackLibrary
from domain.vocabulary import Role
from projections.audit_trail import subject_entries
from tests.exports.conftest import Told
from tests.exports.story import LA, PERSONAL_WORDS, PURGED_WORDS, at


def _sources(told: Told) -> Sources:
    return Sources(told.engine, PackLibrary.load())


def _reader(told: Told, staff: str = "AUD1", role: Role = Role.QA_AUDITOR) -> StoreReader:
    """The CLI's reader: relationships from the relationship table."""
    return StoreReader(told.app, Principal(staff, role, LA), "learning review", engine=told.engine)


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _recorded_at(told: Told, event: EventType) -> datetime:
    trail = subject_entries(told.engine, str(child_id(LA, "C1")), LA)
    return next(e.recorded_at for e in trail if e.event_type == event.__name__)


def test_the_chronology_holds_every_act_in_order_with_both_times_who_and_the_trigger(
    told: Told,
) -> None:
    found = chronology(_sources(told), _reader(told), Request(LA, "C1"))
    happened = [line.occurred_at for line in found.lines]
    assert happened == sorted(happened)
    by_entry = {line.entry: line for line in found.lines if line.entry}
    oversight = by_entry["C1-MO1"]
    assert (oversight.actor, oversight.role) == ("SM1", "service_manager")
    assert oversight.decision == "Strategy discussion"
    assert oversight.answers == (
        "C1-T9: significant incident; incident dates 2012-03-29, on 2012-03-30",
    )
    assert oversight.occurred_at == at(30)
    assert oversight.recorded_at > datetime(2026, 1, 1, tzinfo=UTC)  # both times, apart
    assert by_entry["C1-MD1"].decision == "End the child protection plan"
    (disagreement,) = found.disagreements
    assert disagreement.raised_by == "SW1"
    assert [step.level for step in disagreement.path] == ["supervisors line manager"]
    assert disagreement.resolution == "Step down deferred"
    # Findings cite their clause under the child's own pack (DUR).
    assert found.findings and all(f.rule.startswith("DUR-") for f in found.findings)
    # Reads of the record are not acts.
    assert all(line.event != RecordAccessed.__name__ for line in found.lines)


def test_a_correction_shows_what_stood_and_from_when_it_was_known_otherwise(told: Told) -> None:
    corrected_at = _recorded_at(told, EntryCorrected)
    now = chronology(_sources(told), _reader(told), Request(LA, "C1"))
    (line,) = [line for line in now.lines if line.corrections]
    (correction,) = line.corrections
    assert (correction.field, correction.stood, correction.became) == (
        "decision", "Step down soon.", "Step down next month.",
    )  # fmt: skip
    assert correction.known_otherwise_from == corrected_at
    text = _text(chronology_document(now, Format.PDF).content)
    assert "'Step down soon.' stood" in text and "Step down next month." in text
    # Known just before the correction was recorded, the original stands alone.
    before = chronology(
        _sources(told),
        _reader(told),
        Request(LA, "C1", known_at=corrected_at - timedelta(microseconds=1)),
    )
    assert not any(line.corrections for line in before.lines)
    assert any(line.decision == "Step down soon." for line in before.lines)


def test_purged_records_are_certificate_lines_never_content(told: Told) -> None:
    found = chronology(_sources(told), _reader(told), Request(LA, "C1", worker="SW1"))
    certificates = [line for line in found.lines if line.certificate]
    assert certificates
    assert all("SW1-S2" in line.summary and "DUR-4.9" in line.rules for line in certificates)
    for fmt in Format:
        content = chronology_document(found, fmt).content
        text = _text(content) if fmt is Format.PDF else content.decode()
        assert PURGED_WORDS not in text
        assert "purged under DUR-4.9" in text


def test_personal_supervision_only_for_a_reader_who_may_see_it(told: Told) -> None:
    request = Request(LA, "C1", worker="SW1")
    auditor = chronology(_sources(told), _reader(told), request)
    assert any(PERSONAL_WORDS in s.supervisee_view for s in auditor.sign_offs)
    assert any(line.personal for line in auditor.lines)
    # SW2 is in C1's team (may read the child's file) but is SW1's peer.
    peer = chronology(_sources(told), _reader(told, "SW2", Role.PRACTITIONER), request)
    assert not any(line.personal for line in peer.lines)
    assert peer.sign_offs == ()
    (withheld,) = peer.withheld
    assert "withheld" in withheld and "SW1" in withheld
    for fmt in Format:
        content = chronology_document(peer, fmt).content
        text = _text(content) if fmt is Format.PDF else content.decode()
        assert PERSONAL_WORDS not in text


def test_each_read_is_logged_on_the_child_and_the_workers_access_log(told: Told) -> None:
    chronology(_sources(told), _reader(told), Request(LA, "C1", worker="SW1"))
    logged = [
        (n.originator_id, n.state)
        for n in told.app.recorder.select_notifications(start=1, limit=100_000)
        if n.topic.endswith(RecordAccessed.__name__)
    ]
    assert len(logged) == 2  # the child's record and SW1's personal file
    assert all(b"learning review" in state for _, state in logged)


def test_json_and_csv_are_byte_identical_and_the_pdf_stable(told: Told) -> None:
    def render(fmt: Format) -> bytes:
        found = chronology(_sources(told), _reader(told), Request(LA, "C1", worker="SW1"))
        return chronology_document(found, fmt).content

    for fmt in Format:
        assert render(fmt) == render(fmt)
    document = json.loads(render(Format.JSON))
    assert document["child"] == "C1" and document["empty_reason"] is None


def test_the_pdf_holds_the_decisions_dates_and_rule_ids(told: Told) -> None:
    found = chronology(_sources(told), _reader(told), Request(LA, "C1", worker="SW1"))
    pdf = chronology_document(found, Format.PDF).content
    reader = PdfReader(io.BytesIO(pdf))
    text = _text(pdf)
    for words in ("End the child protection plan", "Strategy discussion", "Step down deferred",
                  "2012-03-31 10:00", "DUR-4.10", "DUR-4.7b", "DUR-4.9", "Contents", "Timeline",
                  "supervisors line manager", PERSONAL_WORDS):  # fmt: skip
        assert words in text, words
    assert f"Page {len(reader.pages)}" in reader.pages[-1].extract_text()
    assert "Chronology of oversight: child C1" in reader.pages[0].extract_text()


def _png_pixels(png: bytes) -> tuple[int, int, bytes]:
    """The width, height and pixels (one byte each, greyscale) of an 8-bit greyscale or
    RGB PNG (what ``pdftoppm -png`` writes), its rows unfiltered (PNG's five filters)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    offset, data, width, height, channels = 8, b"", 0, 0, 1
    while offset < len(png):
        length = int.from_bytes(png[offset : offset + 4], "big")
        kind, body = png[offset + 4 : offset + 8], png[offset + 8 : offset + 8 + length]
        if kind == b"IHDR":
            width, height = int.from_bytes(body[:4], "big"), int.from_bytes(body[4:8], "big")
            assert body[8] == 8 and body[9] in (0, 2), "8-bit greyscale or RGB"
            channels = 1 if body[9] == 0 else 3
        elif kind == b"IDAT":
            data += body
        offset += 12 + length
    stride = width * channels
    raw, rows, previous = zlib.decompress(data), bytearray(), bytearray(stride)
    for row in range(height):
        start = row * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            corner = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                guess = left + up - corner
                nearest = min((abs(guess - left), 0, left), (abs(guess - up), 1, up),
                              (abs(guess - corner), 2, corner))[2]  # fmt: skip
                line[i] = (line[i] + nearest) & 0xFF
        rows += line
        previous = line
    grey = bytes(sum(rows[i : i + channels]) // channels for i in range(0, len(rows), channels))
    return width, height, grey


def test_page_one_renders_to_a_png_that_is_not_blank(told: Told, tmp_path: Path) -> None:
    assert shutil.which("pdftoppm"), "pdftoppm is missing: run scripts/install-pdf-tools"
    found = chronology(_sources(told), _reader(told), Request(LA, "C1"))
    pdf = tmp_path / "chronology.pdf"
    pdf.write_bytes(chronology_document(found, Format.PDF).content)
    subprocess.run(
        ["pdftoppm", "-r", "40", "-png", "-f", "1", "-l", "1", str(pdf),
         str(tmp_path / "page")],
        check=True,
    )  # fmt: skip
    (picture,) = tmp_path.glob("page*.png")
    width, height, pixels = _png_pixels(picture.read_bytes())
    assert (width, height) == (468, 331)  # A4 landscape at 40 dots an inch
    dark = sum(1 for value in pixels if value < 128)
    assert 300 < dark < len(pixels) // 4, "page 1 is blank (or all ink)"


def test_the_review_pack_says_what_was_known_at_t_against_now(told: Told) -> None:
    known = _recorded_at(told, DisagreementEscalated)
    pack = review_pack(_sources(told), _reader(told), LA, "C1", at(32, 12), known)
    assert pack.worker == "SW1"
    assert [d.disagreement for d in pack.open_disagreements] == ["C1-D1"]
    assert {line.entry for line in pack.decided} >= {"C1-MO1", "C1-MD1", "C1-CS2"}
    assert any(f.rule == "DUR-4.6d" for f in pack.due_and_missing)
    assert pack.known_then_and_now == ()  # the resolution came later in both times
    earlier = review_pack(
        _sources(told), _reader(told), LA, "C1", at(32, 12), _recorded_at(told, EntryCorrected)
        - timedelta(microseconds=1),
    )  # fmt: skip
    learnt = {learnt.line.entry: learnt.how for learnt in earlier.known_then_and_now}
    assert learnt["C1-CS2"] == "corrected after T"
    pdf = review_document(pack, Format.PDF).content
    text = _text(pdf)
    for words in ("Learning review pack", "Contents", "Disagreements open at T", "C1-D1",
                  "DUR-4.6d", "Timeline to T", "Page 3"):  # fmt: skip
        assert words in text, words
    assert review_document(pack, Format.JSON).content == review_document(pack, Format.JSON).content


def test_decisions_across_children_filter_and_log_each_child_returned(told: Told) -> None:
    reader = _reader(told)
    everything = decisions(_sources(told), reader, LA, Filters())
    assert {d.child for d in everything} == {"C1", "C3"}
    ended = decisions(
        _sources(told),
        reader,
        LA,
        Filters(kinds=("management_decision",), text="child protection plan",
                period_from=date(2012, 1, 1), period_to=date(2012, 12, 31)),
    )  # fmt: skip
    assert [(d.child, d.entry, d.decider) for d in ended] == [("C1", "C1-MD1", "TM1")]
    before = _reads(told)
    team_b = decisions(_sources(told), reader, LA, Filters(team="Team B"))
    assert [d.child for d in team_b] == ["C3"]
    assert _reads(told) == before + 1  # C3's access log only: C1 and C2 returned nothing
    corrected = decisions(_sources(told), reader, LA, Filters(kinds=("case_supervision",)))
    assert [(d.decision, d.corrected_to) for d in corrected] == [
        ("Step down soon.", "Step down next month.")
    ]
    # A team manager of Team B reads Team B's figures only.
    with pytest.raises(Exception, match="own team"):
        decisions(_sources(told), _reader(told, "TM2", Role.TEAM_MANAGER), LA, Filters())


# -- bad input -------------------------------------------------------------------------------


def test_an_unknown_child_is_not_found_naming_the_field(told: Told) -> None:
    with pytest.raises(NotFound) as refused:
        chronology(_sources(told), _reader(told), Request(LA, "C404"))
    assert refused.value.field == "child_id"


def test_a_reader_who_may_not_see_the_child_is_answered_as_if_it_were_not_there(
    told: Told,
) -> None:
    with pytest.raises(NotFound) as refused:
        chronology(_sources(told), _reader(told, "SW3", Role.PRACTITIONER), Request(LA, "C1"))
    assert refused.value.field == "child_id"


def test_an_instant_before_the_child_existed_is_refused_naming_it(told: Told) -> None:
    with pytest.raises(ValidationError) as refused:
        chronology(_sources(told), _reader(told), Request(LA, "C1", as_of=at(-30)))
    assert refused.value.field == "as_of"
    with pytest.raises(ValidationError) as refused:
        chronology(
            _sources(told),
            _reader(told),
            Request(LA, "C1", known_at=datetime(2020, 1, 1, tzinfo=UTC)),
        )
    assert refused.value.field == "known_at"
    with pytest.raises(ValidationError) as refused:
        review_pack(_sources(told), _reader(told), LA, "C1", at(-30))
    assert refused.value.field == "at"


def test_a_period_with_no_events_is_an_empty_valid_document_that_says_why(told: Told) -> None:
    found = chronology(
        _sources(told),
        _reader(told),
        Request(LA, "C1", period_from=date(2020, 1, 1), period_to=date(2020, 1, 31)),
    )
    assert found.lines == ()
    assert found.empty_reason and "2020-01-01" in found.empty_reason
    for fmt in Format:
        content = chronology_document(found, fmt).content
        text = _text(content) if fmt is Format.PDF else content.decode()
        assert "No oversight act on this child's record between 2020-01-01" in text


def test_a_period_that_ends_before_it_begins_is_refused(told: Told) -> None:
    with pytest.raises(ValidationError) as refused:
        chronology(
            _sources(told),
            _reader(told),
            Request(LA, "C1", period_from=date(2012, 5, 1), period_to=date(2012, 4, 1)),
        )
    assert refused.value.field == "to"


def _reads(told: Told) -> int:
    return sum(
        1
        for n in told.app.recorder.select_notifications(start=1, limit=100_000)
        if n.topic.endswith(RecordAccessed.__name__)
    )


def test_nothing_is_logged_for_a_refused_read(told: Told) -> None:
    before = _reads(told)
    with pytest.raises(NotFound):
        chronology(_sources(told), _reader(told, "SW3", Role.PRACTITIONER), Request(LA, "C1"))
    assert _reads(told) == before


@pytest.mark.parametrize(
    ("staff", "role", "child", "worker"),
    [
        ("AUD1", Role.QA_AUDITOR, True, True),
        ("SW2", Role.PRACTITIONER, True, False),
        ("SW3", Role.PRACTITIONER, False, False),
        ("TM1", Role.TEAM_MANAGER, True, True),
        ("TM2", Role.TEAM_MANAGER, False, False),
        ("SM1", Role.SERVICE_MANAGER, True, True),
    ],
)
def test_the_relationship_table_and_the_aggregates_decide_alike(
    told: Told, staff: str, role: Role, child: bool, worker: bool
) -> None:
    principal = Principal(staff, role, LA)
    for reader in (
        StoreReader(told.app, principal, "check", engine=told.engine),
        StoreReader(told.app, principal, "check"),
    ):
        try:
            reader.open_child("C1", what="check")
            opened = True
        except NotFound:
            opened = False
        assert opened is child
        assert reader.open_personal_file("SW1", what="check") is worker

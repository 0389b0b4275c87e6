"""The PDF documents, drawn with reportlab: a cover, contents, numbered pages, tables of
the acts and a timeline chart of triggers, decisions, supervisions and breaches
(``reportlab.graphics``). Invariant mode: the same inputs give the same bytes."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any
from xml.sax.saxutils import escape

from reportlab.graphics.shapes import Circle, Drawing, Line, Rect, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from application.exports.chronology import Chronology, FindingLine
from application.exports.chronology import Line as Act
from application.exports.review import ReviewPack

PAGE = landscape(A4)
_styles = getSampleStyleSheet()
TITLE = ParagraphStyle("CoverTitle", parent=_styles["Title"], fontSize=26, leading=32)
H1 = ParagraphStyle("Heading", parent=_styles["Heading1"], fontSize=15, leading=19)
BODY = ParagraphStyle("Body", parent=_styles["BodyText"], fontSize=9, leading=11.5)
SMALL = ParagraphStyle("Small", parent=BODY, fontSize=7.5, leading=9.5)
COVER = ParagraphStyle("Cover", parent=_styles["BodyText"], fontSize=12, leading=17)

#: The chart's lanes, top to bottom, and the colour of each.
LANES = (
    ("Triggers", colors.HexColor("#c0392b")),
    ("Decisions", colors.HexColor("#1f4e79")),
    ("Supervisions", colors.HexColor("#2e7d32")),
    ("Breaches", colors.HexColor("#e67e22")),
)
_LANE_OF_KIND = {
    "oversight_trigger": "Triggers",
    "management_oversight": "Decisions",
    "management_decision": "Decisions",
    "case_supervision": "Supervisions",
    "supervision_session": "Supervisions",
}


class _Document(BaseDocTemplate):
    """Headings go into the contents; every page but the cover carries its number."""

    def __init__(self, buffer: io.BytesIO, title: str, footer: str) -> None:
        super().__init__(
            buffer,
            pagesize=PAGE,
            title=title,
            author="oversight",
            subject=title,
            creator="oversight (reportlab)",
            invariant=1,
            leftMargin=15 * mm,
            rightMargin=15 * mm,
            topMargin=15 * mm,
            bottomMargin=15 * mm,
        )
        frame = Frame(self.leftMargin, self.bottomMargin, self.width, self.height, id="body")
        self.footer = footer
        self.headings: list[tuple[str, int]] = []
        self.addPageTemplates(
            [
                PageTemplate(id="cover", frames=[frame]),
                PageTemplate(id="body", frames=[frame], onPage=self._number),
            ]
        )

    def _number(self, canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 8)
        canvas.drawString(15 * mm, 8 * mm, self.footer)
        canvas.drawRightString(PAGE[0] - 15 * mm, 8 * mm, f"Page {doc.page}")
        canvas.restoreState()

    def afterFlowable(self, flowable: Any) -> None:  # noqa: N802 (reportlab's hook)
        if isinstance(flowable, Paragraph) and flowable.style.name == H1.name:
            self.headings.append((flowable.getPlainText(), self.page))

    def canvas(self, *args: Any, **kwargs: Any) -> Canvas:
        """A canvas that draws the contents, once every heading's page is known, into the
        form the contents page shows: one pass over the story, where reportlab's own
        table of contents lays the whole document out twice."""
        return _ContentsCanvas(self.headings, *args, **kwargs)


CONTENTS_FORM = "contents"
CONTENTS_HEIGHT = 160 * mm


class _ContentsCanvas(Canvas):
    def __init__(self, headings: list[tuple[str, int]], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.headings = headings

    def save(self) -> None:
        self.beginForm(CONTENTS_FORM)
        self.setFont("Helvetica", 11)
        right = PAGE[0] - 30 * mm
        for index, (title, page) in enumerate(self.headings):
            y = CONTENTS_HEIGHT - (index + 1) * 8 * mm
            self.drawString(0, y, title)
            self.setDash(1, 2)
            self.line(self.stringWidth(title, "Helvetica", 11) + 2 * mm, y, right - 12 * mm, y)
            self.setDash()
            self.drawRightString(right, y, str(page))
        self.endForm()
        super().save()


class _Contents(Flowable):
    """The contents page's entries: a form drawn when the document is complete."""

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return available_width, CONTENTS_HEIGHT

    def draw(self) -> None:
        self.canv.doForm(CONTENTS_FORM)


def _p(text: str, style: ParagraphStyle = BODY) -> Paragraph:
    return Paragraph(escape(text), style)


def _when(value: datetime | date | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


#: Rows per table: a long table is several, each with its header. reportlab splits a
#: table at a page's end by laying out what is left again, so one table of 2,000 rows
#: cost time that grew with the square of its length (24 s, benchmarks/chronology.py).
CHUNK = 20

FONT_SIZE, LEADING = 7.5, 9.0
#: reportlab's default padding of a table cell, left and right.
CELL_PADDING = 6


def _lines(text: str, width: float) -> str:
    """``text`` broken into lines no wider than ``width`` points."""
    return "\n".join(simpleSplit(text, "Helvetica", FONT_SIZE, width))


_TABLE_STYLE = TableStyle(
    [
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dfe6ee")),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#9aa5b1")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f6f8fa")]),
        ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", FONT_SIZE, LEADING),
        ("FONT", (0, 1), (-1, -1), "Helvetica", FONT_SIZE, LEADING),
    ]
)


def _table(
    header: Sequence[str],
    rows: Iterable[Sequence[str]],
    widths: Sequence[float],
    wrapped: Sequence[int] = (),
) -> list[Any]:
    """``wrapped``: the columns whose text is broken into lines to fit; the others are
    short and drawn as they are. Plain lines, not paragraphs: a paragraph per cell was
    most of a long document's time (benchmarks/chronology.py)."""
    head = list(header)
    inner = [w * mm - 2 * CELL_PADDING for w in widths]
    cells = [
        [_lines(cell, inner[i]) if i in wrapped else cell for i, cell in enumerate(row)]
        for row in rows
    ]
    tables: list[Any] = []
    for start in range(0, max(len(cells), 1), CHUNK):
        table = Table(
            [head, *cells[start : start + CHUNK]],
            colWidths=[w * mm for w in widths],
            repeatRows=1,
        )
        table.setStyle(_TABLE_STYLE)
        tables.append(table)
    return tables


def _add(story: list[Any], part: Any) -> None:
    """A flowable, or a table's several, onto the story."""
    if isinstance(part, list):
        story.extend(part)
    else:
        story.append(part)


def _cover(title: str, facts: Sequence[tuple[str, str]]) -> list[Any]:
    story: list[Any] = [Spacer(1, 35 * mm), Paragraph(escape(title), TITLE), Spacer(1, 10 * mm)]
    rows = [[_p(k, COVER), _p(v, COVER)] for k, v in facts]
    table = Table(rows, colWidths=[60 * mm, 160 * mm])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story += [table, Spacer(1, 15 * mm)]
    _add(
        story,
        _p(
            "Both times are given for every act: when it happened (valid time) and when it "
            "was recorded (system time). Corrections are shown as corrections: what stood, "
            "and from when it was known otherwise. Purged records appear only as the "
            "certificate lines their purge left.",
            COVER,
        ),
    )
    return story


def _contents() -> list[Any]:
    title = ParagraphStyle("ContentsTitle", parent=_styles["Heading1"])
    return [Paragraph("Contents", title), _Contents()]


def _heading(text: str) -> Paragraph:
    return Paragraph(escape(text), H1)


def _acts(lines: Sequence[Act]) -> list[Any]:
    rows = []
    for line in lines:
        detail = line.summary
        if line.answers:
            detail += " | answers: " + "; ".join(line.answers)
        for c in line.corrections:
            detail += (
                f" | CORRECTION of {c.field}: '{c.stood}' stood; known otherwise from "
                f"{_when(c.known_otherwise_from)}: '{c.became}' ({c.reason})"
            )
        rows.append(
            [
                _when(line.occurred_at),
                _when(line.recorded_at),
                f"{line.actor}\n({line.role.replace('_', ' ')})" if line.actor else "",
                line.kind.replace("_", " "),
                detail,
                "\n".join(line.rules),
            ]
        )
    return _table(
        ("Happened", "Recorded", "Who (role)", "Kind", "What", "Clause"),
        rows,
        (24, 24, 40, 30, 124, 25),
        wrapped=(3, 4),
    )


def _decisions(lines: Sequence[Act]) -> list[Any]:
    """Who decided what and when: the decisions of the chronology, one line each."""
    return _table(
        ("Decided", "Recorded", "Who (role)", "Entry", "Decision"),
        [
            (
                _when(line.occurred_at),
                _when(line.recorded_at),
                f"{line.actor}\n({line.role.replace('_', ' ')})",
                line.entry or "",
                line.decision or "",
            )
            for line in lines
        ],
        (24, 24, 40, 30, 149),
        wrapped=(3, 4),
    )


def _corrections(lines: Sequence[Act]) -> list[Any]:
    """Each corrected field: what stood, what it became, and from when it was known."""
    return _table(
        ("Entry", "Field", "What stood", "Known otherwise\nfrom", "Became", "Why"),
        [
            (c.entry, c.field, c.stood, _when(c.known_otherwise_from), c.became, c.reason)
            for line in lines
            for c in line.corrections
        ],
        (30, 25, 70, 27, 70, 45),
        wrapped=(0, 2, 4, 5),
    )


def _findings(findings: Sequence[FindingLine]) -> list[Any]:
    return _table(
        ("Rule", "Status", "Due", "Finding"),
        [(f.rule, f.status.replace("_", " "), _when(f.due_on), f.sentence) for f in findings],
        (25, 22, 25, 195),
        wrapped=(3,),
    )


def _chronology_sections(chronology: Chronology) -> list[Any]:
    story: list[Any] = [_heading("Chronology of oversight acts")]
    if chronology.empty_reason:
        _add(story, _p(chronology.empty_reason))
    else:
        _add(story, _acts(chronology.lines))
    for text in chronology.withheld:
        story += [Spacer(1, 4 * mm), _p(text)]
    story += [PageBreak(), _heading("Decisions")]
    decisions = chronology.decisions
    _add(story, _decisions(decisions) if decisions else _p("No decision in this chronology."))
    corrections = [line for line in chronology.lines if line.corrections]
    story += [Spacer(1, 6 * mm), _heading("Corrections")]
    _add(story, _corrections(corrections) if corrections else _p("Nothing was corrected."))
    story += [PageBreak(), _heading("Disagreements and their escalation")]
    if chronology.disagreements:
        _add(
            story,
            _table(
                ("Disagreement", "Raised", "Escalation path", "Outcome"),
                [
                    (
                        f"{d.disagreement}: {d.about}",
                        f"{_when(d.raised_at)} by {d.raised_by}",
                        " -> ".join(f"{s.level} ({_when(s.occurred_at)})" for s in d.path)
                        or "not escalated",
                        f"{d.resolution} ({_when(d.resolved_at)})" if d.resolution else "open",
                    )
                    for d in chronology.disagreements
                ],
                (70, 45, 85, 67),
                wrapped=(0, 1, 2, 3),
            ),
        )
    else:
        _add(story, _p("No disagreement was raised."))
    story += [Spacer(1, 6 * mm), _heading("Sign-offs")]
    if chronology.sign_offs:
        _add(
            story,
            _table(
                ("Record", "Supervisor signed", "Supervisee signed", "The supervisee's view"),
                [
                    (
                        f"{s.record} (session {s.session or '-'})",
                        _when(s.supervisor_signed_at) or "not signed",
                        _when(s.supervisee_signed_at) or "not signed",
                        s.supervisee_view,
                    )
                    for s in chronology.sign_offs
                ],
                (60, 40, 40, 127),
                wrapped=(0, 3),
            ),
        )
    else:
        _add(story, _p("No personal supervision sign-off is shown in this chronology."))
    story += [PageBreak(), _heading("Findings, with the clause each rests on")]
    if chronology.findings:
        _add(story, _p(f"Findings on {_when(chronology.findings_on)}:"))
        _add(story, _findings(chronology.findings))
    else:
        _add(story, _p("Nothing owed was found."))
    return story


def timeline_chart(
    lines: Sequence[Act],
    breaches: Sequence[FindingLine],
    width: float = 260 * mm,
    at: date | None = None,
) -> Drawing:
    """Triggers, decisions, supervisions and breaches over time: one lane each, a mark
    per act on the day it happened (a breach on its window's due day), how many in each
    lane at its end, the axis in months or years from the first day to the last, and
    the instant T of a review as a line across the lanes."""
    points: list[tuple[date, str]] = []
    for line in lines:
        lane = _LANE_OF_KIND.get(line.kind)
        if line.decision is not None and lane is None:
            lane = "Decisions"
        if lane is not None:
            points.append((line.occurred_at.date(), lane))
    points += [(f.due_on, "Breaches") for f in breaches if f.due_on is not None]
    height = 70 * mm
    drawing = Drawing(width, height)
    left, right, top, lane_height = 30 * mm, 8 * mm, height - 8 * mm, 12 * mm
    span_width = width - left - right
    frame = Rect(0, 0, width, height)
    frame.strokeColor, frame.fillColor = colors.HexColor("#9aa5b1"), None
    drawing.add(frame)
    if not points:
        drawing.add(
            String(left, height / 2, "No trigger, decision, supervision or breach.", fontSize=9)
        )
        return drawing
    first = min(p[0] for p in points)
    last = max([p[0] for p in points] + ([at] if at else []))
    days = max((last - first).days, 1)

    def x(day: date) -> float:
        return left + span_width * (day - first).days / days

    for index, (lane, colour) in enumerate(LANES):
        y = top - (index + 0.5) * lane_height
        drawing.add(Line(left, y, left + span_width, y, strokeColor=colors.HexColor("#d0d7de")))
        drawing.add(String(4 * mm, y - 3, lane, fontSize=8, fillColor=colour))
        marks = [day for day, which in points if which == lane]
        for day in marks:
            drawing.add(Circle(x(day), y, 2.2, fillColor=colour, strokeColor=colour))
        drawing.add(String(left + span_width + 2 * mm, y - 3, str(len(marks)), fontSize=7))
    axis_y = top - len(LANES) * lane_height - 2 * mm
    drawing.add(Line(left, axis_y, left + span_width, axis_y))
    for tick in _ticks(first, last):
        drawing.add(Line(x(tick), axis_y, x(tick), axis_y - 2 * mm))
        label = tick.strftime("%b %Y") if days <= 3 * 366 else str(tick.year)
        drawing.add(String(x(tick) - 6 * mm, axis_y - 6 * mm, label, fontSize=7))
    below = axis_y - 11 * mm
    drawing.add(String(x(first), below, first.isoformat(), fontSize=7, textAnchor="start"))
    drawing.add(String(x(last), below, last.isoformat(), fontSize=7, textAnchor="end"))
    if at is not None:
        marker = Line(x(at), axis_y, x(at), top, strokeColor=colors.black, strokeWidth=0.8)
        marker.strokeDashArray = [3, 2]
        drawing.add(marker)
        drawing.add(String(x(at), top + 1 * mm, "T", fontSize=8, textAnchor="middle"))
    return drawing


def _ticks(first: date, last: date) -> list[date]:
    """Month starts (or year starts, over a long span), at most a dozen."""
    months = (last.year - first.year) * 12 + last.month - first.month
    step = max(1, months // 10)
    ticks = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        ticks.append(date(year, month, 1))
        month += step
        while month > 12:
            month -= 12
            year += 1
    return [t for t in ticks if first <= t <= last] or [first]


def _build(title: str, footer: str, cover: list[Any], body: list[Any]) -> bytes:
    buffer = io.BytesIO()
    document = _Document(buffer, title, footer)
    from reportlab.platypus.doctemplate import NextPageTemplate

    story = [*cover, NextPageTemplate("body"), PageBreak(), *_contents(), PageBreak(), *body]
    document.build(story, canvasmaker=document.canvas)
    return buffer.getvalue()


def _instants(chronology: Chronology) -> list[tuple[str, str]]:
    return [
        ("Authority", chronology.authority),
        ("Child", chronology.child),
        ("Worker", chronology.worker or "all"),
        (
            "Period",
            f"{_when(chronology.period_from) or 'the beginning'} to "
            f"{_when(chronology.period_to) or 'the end of the record'}",
        ),
        ("As of (valid time)", _when(chronology.as_of) or "the end of the record"),
        ("As known at (system time)", _when(chronology.known_at) or "everything recorded"),
    ]


def chronology_pdf(chronology: Chronology) -> bytes:
    title = f"Chronology of oversight: child {chronology.child}"
    body = _chronology_sections(chronology)
    body += [
        PageBreak(),
        _heading("Timeline"),
        timeline_chart(chronology.lines, chronology.findings),
    ]
    return _build(
        title, f"{title} ({chronology.authority})", _cover(title, _instants(chronology)), body
    )


def review_pdf(pack: ReviewPack) -> bytes:
    at = _when(pack.at)
    title = f"Learning review pack: child {pack.child} at {at}"
    body: list[Any] = [_heading("What had been decided and recorded by T")]
    _add(body, _acts(pack.decided) if pack.decided else _p("No decision had been recorded."))
    body += [Spacer(1, 6 * mm), _heading("What was known at T, against what is known now")]
    if pack.known_then_and_now:
        _add(body, _p("Acts that had happened by T but were recorded, or corrected, after it:"))
        _add(body, _acts([learnt.line for learnt in pack.known_then_and_now]))
    else:
        _add(body, _p("Nothing about the time before T was recorded or corrected after T."))
    body += [PageBreak(), _heading("Oversight due and missing at T")]
    _add(
        body,
        _findings(pack.due_and_missing)
        if pack.due_and_missing
        else _p("No oversight was due and missing at T."),
    )
    body += [Spacer(1, 6 * mm), _heading("Disagreements open at T")]
    if pack.open_disagreements:
        _add(
            body,
            _table(
                ("Disagreement", "Raised", "Escalation path"),
                [
                    (
                        f"{d.disagreement}: {d.about}",
                        f"{_when(d.raised_at)} by {d.raised_by}",
                        " -> ".join(f"{s.level} ({_when(s.occurred_at)})" for s in d.path)
                        or "not escalated",
                    )
                    for d in pack.open_disagreements
                ],
                (100, 60, 107),
                wrapped=(0, 1, 2),
            ),
        )
    else:
        _add(body, _p("No disagreement was open at T."))
    body += [PageBreak(), _heading("The worker's own supervision compliance before T")]
    if pack.withheld:
        body += [_p(text) for text in pack.withheld]
    elif pack.worker is None:
        _add(body, _p("The child was not allocated to a worker at T."))
    elif pack.worker_compliance:
        _add(body, _p(f"{pack.worker}, in the year before T:"))
        _add(body, _findings(pack.worker_compliance))
    else:
        _add(body, _p(f"Nothing owed by {pack.worker}'s supervision in the year before T."))
    body += [PageBreak(), _heading("Timeline to T")]
    _add(body, timeline_chart(pack.chronology.lines, pack.due_and_missing, at=pack.at.date()))
    body += [PageBreak(), *_chronology_sections(pack.chronology)]
    facts = [
        ("Authority", pack.authority),
        ("Child", pack.child),
        ("T (as of: what had happened)", at),
        ("As known at (what had been recorded)", _when(pack.known_at)),
        ("Worker allocated at T", pack.worker or "none"),
    ]
    return _build(title, f"{title} ({pack.authority})", _cover(title, facts), body)

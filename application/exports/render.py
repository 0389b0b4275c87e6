"""Chronologies and review packs as documents: JSON, CSV and PDF (issue 24, ADR 0030).

JSON and CSV are byte-identical for the same inputs: sorted keys, the lines in the
chronology's order, nothing of "now". The PDF is drawn with reportlab (platypus for the
document, ``reportlab.graphics`` for the timeline chart) in its invariant mode, so the
same inputs give the same bytes too: no creation date or random document id.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import orjson

from application.exports import pdf
from application.exports.chronology import Chronology, Line
from application.exports.review import ReviewPack


class Format(StrEnum):
    PDF = "pdf"
    CSV = "csv"
    JSON = "json"


#: The media type of each format (the API's document field says it).
MEDIA_TYPES = {
    Format.PDF: "application/pdf",
    Format.CSV: "text/csv",
    Format.JSON: "application/json",
}


@dataclass(frozen=True)
class Document:
    format: Format
    filename: str
    content: bytes

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.format]


def _default(value: Any) -> Any:
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(type(value).__name__)


def to_json(value: dict[str, Any]) -> bytes:
    return (
        orjson.dumps(value, default=_default, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2)
        + b"\n"
    )


CSV_COLUMNS = (
    "occurred_at",
    "recorded_at",
    "kind",
    "event",
    "entry",
    "actor",
    "role",
    "summary",
    "rules",
    "answers",
    "decision",
    "correction",
    "personal",
    "certificate",
)


def _iso(value: datetime | date | None) -> str:
    return "" if value is None else value.isoformat()


def _correction_text(line: Line) -> str:
    return "; ".join(
        f"{c.field}: '{c.stood}' stood; known otherwise from "
        f"{c.known_otherwise_from.isoformat()}: '{c.became}'"
        for c in line.corrections
    )


def _line_row(line: Line) -> list[str]:
    return [
        _iso(line.occurred_at),
        _iso(line.recorded_at),
        line.kind,
        line.event,
        line.entry or "",
        line.actor,
        line.role,
        line.summary,
        " ".join(line.rules),
        " | ".join(line.answers),
        line.decision or "",
        _correction_text(line),
        "yes" if line.personal else "",
        "yes" if line.certificate else "",
    ]


def _note(kind: str, text: str, when: date | datetime | None = None) -> list[str]:
    row = [""] * len(CSV_COLUMNS)
    row[0], row[2], row[7] = _iso(when), kind, text
    return row


def chronology_rows(chronology: Chronology) -> list[list[str]]:
    """The chronology as CSV rows: its lines, then its findings, disagreements' paths and
    what is withheld, each a row of its own kind; an empty one says why."""
    rows = [_line_row(line) for line in chronology.lines]
    for finding in chronology.findings:
        row = _note("finding", finding.sentence, finding.due_on)
        row[8] = finding.rule
        row[3] = finding.status
        rows.append(row)
    for disagreement in chronology.disagreements:
        path = " -> ".join(
            f"{step.level} ({step.occurred_at.date().isoformat()})" for step in disagreement.path
        )
        outcome = disagreement.resolution or "open"
        rows.append(
            _note(
                "disagreement_path",
                f"{disagreement.disagreement}: {disagreement.about}; raised by "
                f"{disagreement.raised_by}; path: {path or 'not escalated'}; outcome: {outcome}",
                disagreement.raised_at,
            )
        )
    rows.extend(_note("withheld", text) for text in chronology.withheld)
    if chronology.empty_reason:
        rows.append(_note("empty", chronology.empty_reason))
    return rows


def to_csv(rows: Sequence[Sequence[str]], columns: Sequence[str] = CSV_COLUMNS) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return out.getvalue().encode()


# -- JSON shapes ------------------------------------------------------------------------------


def chronology_json(chronology: Chronology) -> dict[str, Any]:
    return {
        "document": "chronology",
        "authority": chronology.authority,
        "child": chronology.child,
        "worker": chronology.worker,
        "period": {"from": chronology.period_from, "to": chronology.period_to},
        "as_of": chronology.as_of,
        "known_at": chronology.known_at,
        "findings_on": chronology.findings_on,
        "lines": list(chronology.lines),
        "disagreements": list(chronology.disagreements),
        "sign_offs": list(chronology.sign_offs),
        "findings": list(chronology.findings),
        "withheld": list(chronology.withheld),
        "empty_reason": chronology.empty_reason,
    }


def review_json(pack: ReviewPack) -> dict[str, Any]:
    return {
        "document": "learning_review_pack",
        "authority": pack.authority,
        "child": pack.child,
        "at": pack.at,
        "known_at": pack.known_at,
        "decided": list(pack.decided),
        "known_then_and_now": list(pack.known_then_and_now),
        "due_and_missing": list(pack.due_and_missing),
        "open_disagreements": list(pack.open_disagreements),
        "worker": pack.worker,
        "worker_compliance": list(pack.worker_compliance),
        "withheld": list(pack.withheld),
        "chronology": chronology_json(pack.chronology),
    }


# -- documents ----------------------------------------------------------------------------------


def _stem(kind: str, authority: str, child: str) -> str:
    return f"{kind}-{authority}-{child}"


def chronology_document(chronology: Chronology, fmt: Format) -> Document:
    stem = _stem("chronology", chronology.authority, chronology.child)
    render: dict[Format, Callable[[], bytes]] = {
        Format.JSON: lambda: to_json(chronology_json(chronology)),
        Format.CSV: lambda: to_csv(chronology_rows(chronology)),
        Format.PDF: lambda: pdf.chronology_pdf(chronology),
    }
    return Document(fmt, f"{stem}.{fmt.value}", render[fmt]())


def review_document(pack: ReviewPack, fmt: Format) -> Document:
    stem = _stem("review-pack", pack.authority, pack.child)
    render: dict[Format, Callable[[], bytes]] = {
        Format.JSON: lambda: to_json(review_json(pack)),
        Format.CSV: lambda: to_csv(chronology_rows(pack.chronology)),
        Format.PDF: lambda: pdf.review_pdf(pack),
    }
    return Document(fmt, f"{stem}.{fmt.value}", render[fmt]())

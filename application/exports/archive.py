"""The auditor's sample pack as one zip: an index (CSV and JSON), each sampled case's
chronology (PDF and CSV) and the team's supervision tracking sheet (CSV). Every entry
carries the same fixed time, so the same sample gives the same bytes."""

from __future__ import annotations

import io
import zipfile

from application.exports.render import Format, chronology_document, to_csv, to_json
from application.exports.sample import SamplePack

#: Zip entries' time: fixed (the earliest a zip holds), so the archive is reproducible.
FIXED = (1980, 1, 1, 0, 0, 0)


def sample_archive(pack: SamplePack) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:

        def put(name: str, content: bytes) -> None:
            archive.writestr(zipfile.ZipInfo(name, FIXED), content)

        index = []
        for chronology in pack.chronologies:
            for fmt in (Format.PDF, Format.CSV):
                document = chronology_document(chronology, fmt)
                put(f"chronologies/{document.filename}", document.content)
            index.append(
                {
                    "child": chronology.child,
                    "acts": len(chronology.lines),
                    "decisions": len(chronology.decisions),
                    "findings": len(chronology.findings),
                    "open_disagreements": sum(
                        1 for d in chronology.disagreements if d.resolution is None
                    ),
                    "chronology": f"chronologies/chronology-{pack.authority}-{chronology.child}",
                }
            )
        put(
            "index.json",
            to_json(
                {
                    "document": "sample_pack",
                    "authority": pack.authority,
                    "team": pack.team,
                    "period": {"from": pack.period_from, "to": pack.period_to},
                    "seed": pack.seed,
                    "population": list(pack.population),
                    "sampled": index,
                    "tracking_sheet": "tracking-sheet.csv",
                }
            ),
        )
        put(
            "index.csv",
            to_csv(
                [
                    [
                        str(i[k])
                        for k in (
                            "child",
                            "acts",
                            "decisions",
                            "findings",
                            "open_disagreements",
                            "chronology",
                        )
                    ]
                    for i in index
                ],
                ("child", "acts", "decisions", "findings", "open_disagreements", "chronology"),
            ),
        )
        put(
            "tracking-sheet.csv",
            to_csv(
                [
                    [
                        line.staff_id,
                        str(line.sessions_held),
                        str(line.records_signed_by_both),
                        " ".join(f"{rule}={count}" for rule, count in line.breached_by_rule),
                    ]
                    for line in pack.sheet
                ],
                ("staff_id", "sessions_held", "records_signed_by_both", "breached_windows"),
            ),
        )
    return buffer.getvalue()

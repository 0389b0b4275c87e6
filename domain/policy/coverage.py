"""The coverage table: every rule ID the packs know of, and what they do with it.

Generated from the packs alone (``[[rule]]``, ``[[team_rule]]``, ``[[retention]]``,
``[[recorded]]``, ``[[out_of_scope]]``) and the source quotations beside them, so it cannot
drift from them and needs nothing outside this repository; ``docs/policy-coverage.md`` is its
committed output, and a test regenerates it. Given the policy digest (RULES.md, which a
user's machine may not have), it also lists digest rule IDs no pack accounts for, which
the test requires to be none; with none missing, the table is the same with or without it.

Every rule marked out of scope quotes the sentence of its source that makes it
non-computable: from the pack's own ``[[out_of_scope]]`` entry (``says``, ``source``),
else from ``data/coverage/sources.toml`` (the built-in packs' quotations).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from domain.policy.packs import BUILT_IN, Pack, PackLibrary

COMPUTED = "computed"
RECORDED_ONLY = "recorded-only"
OUT_OF_SCOPE = "out of scope"
MISSING = "missing"

#: The built-in packs' quotations for what they leave out of scope.
SOURCES = BUILT_IN / "coverage" / "sources.toml"

_ID = r"[A-Z]+-[A-Za-z0-9.]+"
_ROW = re.compile(rf"^\|\s*({_ID}(?:\s*,\s*{_ID})*)\s*\|\s*(.+?)\s*\|\s*$")
_SECTION = re.compile(r"^##\s+(\d+)\.\s+(.*)$")


@dataclass(frozen=True)
class DigestRule:
    rule_id: str
    section: str
    text: str


def digest_rule_ids(markdown: str) -> list[DigestRule]:
    """The rule IDs of RULES.md, with their section, in document order."""
    found: list[DigestRule] = []
    section = ""
    for line in markdown.splitlines():
        heading = _SECTION.match(line)
        if heading:
            section = f"{heading.group(1)}. {heading.group(2)}"
            continue
        row = _ROW.match(line)
        if row:  # one rule, or several authorities' versions of it on one row
            for rule_id in row.group(1).split(","):
                found.append(DigestRule(rule_id.strip(), section, row.group(2)))
    return found


@dataclass(frozen=True)
class Quotation:
    """The sentence of a source that makes a rule non-computable, and where it is."""

    rule_id: str
    says: str
    source: str


def quotations(path: Path = SOURCES) -> dict[str, Quotation]:
    """The quotations file, by rule ID (none when the file is absent)."""
    if not path.exists():
        return {}
    document = tomllib.loads(path.read_text(encoding="utf-8"))
    return {
        str(item["id"]): Quotation(str(item["id"]), str(item["says"]), str(item["source"]))
        for item in document.get("out_of_scope", [])
    }


@dataclass(frozen=True)
class Coverage:
    rule_id: str
    status: str
    how: str  # what is computed, or why nothing is
    packs: tuple[str, ...]
    #: The pack that defines it (its heading in the table); "" for a digest rule no pack has.
    pack: str = ""
    quotation: Quotation | None = None


def _ordered(library: PackLibrary) -> list[Pack]:
    """Authorities' packs by id, then the packs they extend (the national standard)."""
    extended = {p.extends for p in library.packs.values() if p.extends}
    return sorted(library.packs.values(), key=lambda p: (p.pack_id in extended, p.pack_id))


def _own(pack: Pack, library: PackLibrary) -> tuple[list[str], list[str]]:
    """What a pack computes that it does not inherit: (rule IDs and words, retention)."""
    parent = library.packs.get(pack.extends) if pack.extends else None
    # A rule the pack replaces is its own; one it inherits (rebound to a clock it
    # replaces, perhaps) is its parent's.
    inherited = [replace(r, clock_definition=None) for r in parent.rules] if parent else []
    kept = set(parent.retention) if parent else set()
    rules = [r for r in pack.rules if replace(r, clock_definition=None) not in inherited]
    teams = [t for t in pack.team_rules if not parent or t not in parent.team_rules]
    quotas = [q for q in pack.quality.quotas if not parent or q not in parent.quality.quotas]
    return (
        [f"{r.rule_id}\0{r.kind}: {r.title}" for r in rules]
        + [f"{t.rule_id}\0team {t.kind}: {t.title}" for t in teams]
        + [f"{q.rule_id}\0audit quota: {q.title}" for q in quotas],
        [f"{k.rule_id}\0retention: {k.title}" for k in pack.retention if k not in kept],
    )


def coverage(
    library: PackLibrary,
    digest: Sequence[DigestRule] | None = None,
    quoted: Mapping[str, Quotation] | None = None,
) -> list[Coverage]:
    """One row per rule ID the packs know of (and per digest rule ID, when given), under
    the first pack that defines it."""
    quoted = quotations() if quoted is None else quoted
    computed: dict[str, list[str]] = {}
    uncomputed: dict[str, tuple[str, str, Quotation | None]] = {}
    packs_of: dict[str, list[str]] = {}
    home: dict[str, str] = {}
    for pack in _ordered(library):
        rules, retention = _own(pack, library)
        for entry in (*rules, *retention):
            rule_id, what = entry.split("\0")
            home.setdefault(rule_id, pack.pack_id)
            if pack.pack_id not in packs_of.setdefault(rule_id, []):
                packs_of[rule_id].append(pack.pack_id)
            if what not in computed.setdefault(rule_id, []):
                computed[rule_id].append(what)
        for item in pack.uncomputed:
            home.setdefault(item.rule_id, pack.pack_id)
            if pack.pack_id not in packs_of.setdefault(item.rule_id, []):
                packs_of[item.rule_id].append(pack.pack_id)
            own = Quotation(item.rule_id, item.says, item.source) if item.says else None
            uncomputed.setdefault(
                item.rule_id, (item.status, item.reason, own or quoted.get(item.rule_id))
            )
    rows: list[Coverage] = []
    for rule_id, pack_id in home.items():
        packs = tuple(sorted(packs_of[rule_id]))
        if computed.get(rule_id):
            rows.append(Coverage(rule_id, COMPUTED, "; ".join(computed[rule_id]), packs, pack_id))
        else:
            status, reason, quotation = uncomputed[rule_id]
            quotation = quotation if status == OUT_OF_SCOPE else None
            rows.append(Coverage(rule_id, status, reason, packs, pack_id, quotation))
    for listed in digest or ():
        if listed.rule_id not in home:
            home[listed.rule_id] = ""
            rows.append(Coverage(listed.rule_id, MISSING, "no pack accounts for this rule", ()))
    return rows


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def coverage_markdown(library: PackLibrary, digest: Sequence[DigestRule] | None = None) -> str:
    """The table as committed in docs/policy-coverage.md: a section per pack."""
    rows = coverage(library, digest)
    counts = {
        s: sum(1 for r in rows if r.status == s)
        for s in (COMPUTED, RECORDED_ONLY, OUT_OF_SCOPE, MISSING)
    }
    lines = [
        "# Policy coverage",
        "",
        "Generated from the policy packs by `oversight policy coverage --write "
        "docs/policy-coverage.md`; do not edit by hand (a test regenerates it and fails "
        "when this file differs). `--rules RULES.md` also lists every rule ID of the policy "
        "digest that no pack accounts for. Each rule ID is listed under "
        "the pack that defines it:",
        "",
        "- **computed**: a pack rule evaluates it (kind, and the rule in words);",
        "- **recorded-only**: the events record it, and there is nothing to compute;",
        "- **out of scope**: not a compliance rule of the packs, with the reason, where "
        "it is handled instead, and the sentence of the source that makes it "
        "non-computable.",
        "",
        f"{counts[COMPUTED]} computed, {counts[RECORDED_ONLY]} recorded-only, "
        f"{counts[OUT_OF_SCOPE]} out of scope"
        + (f", {counts[MISSING]} missing" if counts[MISSING] else "")
        + ".",
    ]
    headings = {pack.pack_id: pack for pack in library.packs.values()}
    current: str | None = None
    for row in rows:
        if row.pack != current:
            current = row.pack
            pack = headings.get(row.pack)
            title = (
                f"{pack.pack_id}: {pack.name}"
                + (f" (extends {pack.extends})" if pack.extends else "")
                if pack is not None
                else "Rule IDs of the digest no pack accounts for"
            )
            source = f"Source: `{pack.source}`." if pack is not None and pack.source else ""
            lines += ["", f"## {title}", ""]
            lines += [source, ""] if source else []
            lines += ["| rule | status | packs | how, or why not |", "|---|---|---|---|"]
        how = _cell(row.how)
        if row.quotation is not None:
            how += f" The source: “{_cell(row.quotation.says)}” ({_cell(row.quotation.source)})"
        lines.append(f"| {row.rule_id} | {row.status} | {', '.join(row.packs)} | {how} |")
    return "\n".join(lines) + "\n"

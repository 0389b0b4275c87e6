"""Which of its own clauses a pack cites for each thing code names (issue 19 item 3).

Code names only what is stable: a named invariant (``domain.rules``: the refusal's rule),
an access decision (``domain.authorization``: a read or a write refused or allowed) and
an event class (``domain.events``: an audit-trail entry). Which clauses of a policy
those rest on is the authority's, so a pack declares it as data, in a ``[citations]``
table placed straight after ``[pack]``::

    [citations]
    EachPartySignsOnce = ["DUR-4.7a", "DUR-6"]
    PersonalFileIsPrivate = ["DUR-4.8a"]
    SupervisionAgreementSigned = ["DUR-4.1"]

A pack inherits its parent's citations (the SWRB national standard it adopts) and a name
of its own replaces the parent's. Every clause cited is one the pack accounts for (its
rules, recorded and out-of-scope entries, retention rules, or those of the pack it
extends), so no council's clause can be cited for another. A name the pack cites nothing
for is cited by its name alone (``AuthorityRules.cited``), never by another council's ID.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import Any

from domain.errors import ValidationError
from domain.events import CATALOGUE

#: A clause ID, as packs write them (``DUR-4.7a``, ``SHR-APP1d``, ``SWRB-5``).
CLAUSE = re.compile(r"^[A-Z]+-[A-Za-z0-9.]+$")
#: A name code cites by: a class-like name.
NAME = re.compile(r"^[A-Z][A-Za-z0-9]+$")

#: What a pack's citations are: clause IDs by the name code cites.
Citations = Mapping[str, tuple[str, ...]]


class CitationError(ValidationError):
    """A ``[citations]`` entry refused; ``field`` is ``citations.NAME``."""


@cache
def citable_names() -> frozenset[str]:
    """Every name code cites by: the named invariants, the access decisions and the
    event catalogue. Imported here, not at the top: the rules read the governance that
    packs build, so they load after this module."""
    from domain.authorization import ACCESS_DECISIONS
    from domain.rules import named_rules

    events = set(CATALOGUE)
    return frozenset({*named_rules(), *ACCESS_DECISIONS, *events})


def prefix_of(clause_or_pack: str) -> str:
    """The authority part of a clause ID or pack id: ``DUR`` of ``DUR-4.7a`` and ``DUR-2027``."""
    return clause_or_pack.split("-", 1)[0]


def parse_citations(
    raw: Any, known: frozenset[str], parent: Citations | None = None
) -> dict[str, tuple[str, ...]]:
    """The ``[citations]`` table over the parent's: each name citable, each clause one
    the pack accounts for (``known``). Raises ``CitationError`` naming the entry (the
    pack loader adds the file and line)."""
    inherited = dict(parent or {})
    if raw is None:
        return inherited
    if not isinstance(raw, dict):
        raise CitationError("[citations] is a table of name = [clauses]", field="citations")
    own: dict[str, tuple[str, ...]] = {}
    for name, clauses in raw.items():
        at = f"citations.{name}"
        problem = citation_problem(name, clauses, known)
        if problem is not None:
            raise CitationError(f"{at} {problem}", field=at)
        own[str(name)] = tuple(clauses)
    return {**inherited, **own}


def citation_problem(name: Any, clauses: Any, known: frozenset[str] | None) -> str | None:
    """Why ``name = clauses`` may not be cited (None: it may). ``known``: the clauses the
    pack accounts for (None: not checked, as before the pack it extends is loaded)."""
    if not isinstance(name, str) or name not in citable_names():
        return (
            "names nothing code cites: a named rule (domain/rules.py), an access "
            "decision (domain/authorization.py ACCESS_DECISIONS) or an event class"
        )
    if not isinstance(clauses, list) or not all(isinstance(c, str) for c in clauses):
        return "must be a list of clause IDs"
    for clause in clauses:
        if not CLAUSE.match(clause):
            return f"cites {clause!r}: not a clause ID like DUR-4.8a"
        if known is not None and clause not in known:
            return (
                f"cites {clause}, a clause this pack does not account for: cite only the "
                "authority's own clauses (its [[rule]], [[recorded]], [[out_of_scope]] or "
                "[[retention]] entries) or those of the pack it extends"
            )
    if len(set(clauses)) != len(clauses):
        return "cites a clause twice"
    return None


def cited(citations: Citations, name: str) -> str:
    """``name`` and the clauses the pack cites for it: the name alone where none."""
    return " ".join([name, *citations.get(name, ())])


def clauses_in(text: str | None) -> list[str]:
    """The clause IDs in a citation or a rule string (the name and labels dropped)."""
    return [t for t in (text or "").replace(",", " ").split() if CLAUSE.match(t)]


__all__ = [
    "CLAUSE",
    "CitationError",
    "Citations",
    "citable_names",
    "citation_problem",
    "cited",
    "clauses_in",
    "parse_citations",
    "prefix_of",
]

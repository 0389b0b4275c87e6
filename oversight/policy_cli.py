"""``oversight policy ...`` and ``oversight authority ...``: check a pack file, list the
packs, generate the coverage table, and register an authority on a pack (a file of its
own, with no code change: docs/adding-an-authority.md).

A pack file an authority adopts is copied into the first directory of
``OVERSIGHT_POLICY_PACKS``, which every process loads its packs from (the API, the
projection runners, this tool): so the pack is found on every later run, stays a file a
policy officer can read, diff and keep under version control, and a change to it is
seen by its digest and recomputed (ADR 0010). Storing the pack's text as an event was
the other choice; it would make every pack lookup read the event store, and put a
second, unreadable copy of the policy beside the file the council maintains.

Exit codes: 0 the pack is sound (or adopted); 1 it is refused, each problem printed as
``FILE:LINE: reason`` and nothing adopted; 2 the command was misused (click's usage
errors, e.g. no such file).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from domain.errors import DomainError
from domain.identifiers import authority_id
from domain.provenance import Actor
from domain.vocabulary import Role
from oversight.grammar import REJECTED, Failure, emit, format_option, refused
from oversight.settings import Settings, SettingsError

if TYPE_CHECKING:
    from application.app import OversightApplication
    from domain import commands as c
    from domain.policy.packs import (
        Pack,
        PackLibrary,
    )

#: A pack refused: its problems were printed, and nothing was adopted.
REFUSED = REJECTED


def _library() -> PackLibrary:
    from domain.policy.packs import PackLibrary

    try:
        return PackLibrary.load()
    except DomainError as error:
        raise Failure(str(error)) from None


def _checked(path: Path, library: PackLibrary) -> Pack:
    """The pack a file defines, or exit 4 (rejected input) printing each problem as
    FILE:LINE: reason."""
    from domain.policy.packs import PackFileError, check_pack_file

    try:
        pack = check_pack_file(path, library)
        _not_taken(pack, path, library)
    except PackFileError as error:
        for problem in error.problems:
            click.echo(str(problem), err=True)
        raise SystemExit(REFUSED) from None
    return pack


def _not_taken(pack: Pack, path: Path, library: PackLibrary) -> None:
    """A file outside the configured directories may not reuse a loaded pack's id (the
    copy it would become, identical, is the same pack)."""
    from domain.policy.packs import PackFileError, PackProblem, PackText, pack_directories

    directories = {Path(d).resolve() for d in pack_directories()}
    if pack.pack_id not in library.packs or path.resolve().parent in directories:
        return
    if library.packs[pack.pack_id].digest == pack.digest:
        return
    line = PackText.read(path).line_of("pack", 0, "id")
    reason = (
        f"pack id {pack.pack_id!r} is already loaded (built in, or in "
        "OVERSIGHT_POLICY_PACKS): give this pack a new id"
    )
    raise PackFileError([PackProblem(str(path), line, reason)])


@click.group()
def policy() -> None:
    """Policy packs: check a pack file, list the packs, and the coverage table."""


@policy.command("check")
@click.argument("pack_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def policy_check(pack_file: Path) -> None:
    """Validate a pack file: its schema, unique rule IDs, every clock's start and stop
    events in the event catalogue, the pack it extends. Exits 4 printing FILE:LINE: reason
    for each problem; 0 with a summary."""
    from domain.policy.packs import BUILT_IN, PackError, PackLibrary

    try:
        library = PackLibrary.load()
    except PackError:  # the file checked may be the broken one of the configured packs
        library = PackLibrary.load([BUILT_IN])
    pack = _checked(pack_file, library)
    parent = library.packs.get(pack.extends) if pack.extends else None
    inherited = {r.key for r in parent.rules} if parent else set()
    clocks = set(parent.clocks) if parent else set()
    own_rules = sum(1 for r in pack.rules if r.key not in inherited)
    own_clocks = sum(1 for name in pack.clocks if name not in clocks)
    extends = f", extends {pack.extends}" if pack.extends else ""
    click.echo(f"{pack_file}: pack {pack.pack_id} ({pack.name}{extends}) is sound")
    click.echo(
        f"  rules: {own_rules} of its own, {len(pack.rules) - own_rules} inherited; "
        f"clocks: {own_clocks} of its own, {len(pack.clocks) - own_clocks} inherited; "
        f"retention: {len(pack.retention)}; not computed: {len(pack.uncomputed)}"
    )
    inherited_citations = parent.authority.citations if parent else {}
    own_citations = sum(
        1 for name, cited in pack.authority.citations.items()
        if inherited_citations.get(name) != cited
    )  # fmt: skip
    click.echo(
        f"  citations: {own_citations} of its own, "
        f"{len(pack.authority.citations) - own_citations} inherited (its own clauses only)"
    )
    for rule in pack.rules:
        click.echo(f"  {rule.key:<28} {rule.kind:<14} {rule.title}")
    for team_rule in pack.team_rules:  # ADR 0024
        click.echo(f"  {team_rule.key:<28} {'team ' + team_rule.kind:<14} {team_rule.title}")


@policy.command("packs")
@format_option
def policy_packs(fmt: str) -> None:
    """The packs loaded (built in, and from OVERSIGHT_POLICY_PACKS), validated."""
    library = _library()
    packs = [
        {
            "pack": pack.pack_id,
            "name": pack.name,
            "rules": len(pack.rules),
            "extends": pack.extends,
        }
        for pack in library.packs.values()
    ]

    def table() -> None:
        for pack in library.packs.values():
            extends = f", extends {pack.extends}" if pack.extends else ""
            click.echo(f"{pack.pack_id:<8} {pack.name} ({len(pack.rules)} rules{extends})")

    emit(fmt, packs, table=table)


@policy.command("coverage")
@click.option(
    "--rules",
    "rules_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="RULES.md, the policy digest: also list its rule IDs no pack accounts for.",
)
@click.option("--write", "out", type=click.Path(dir_okay=False, path_type=Path), default=None)
def policy_coverage(rules_path: Path | None, out: Path | None) -> None:
    """The coverage table (docs/policy-coverage.md), generated from the packs."""
    from domain.policy.coverage import coverage_markdown, digest_rule_ids

    digest = digest_rule_ids(rules_path.read_text(encoding="utf-8")) if rules_path else None
    text = coverage_markdown(_library(), digest)
    if out is None:
        click.echo(text, nl=False)
        return
    out.write_text(text, encoding="utf-8")
    click.echo(f"wrote {out}")


@click.group()
def authority() -> None:
    """Authorities: register one on a policy pack, or move one to another pack."""


def _adopted_directory() -> Path:
    """Where an adopted pack file is kept: the first OVERSIGHT_POLICY_PACKS directory."""
    from domain.policy.packs import pack_directories

    extra = pack_directories()[1:]
    if not extra:
        raise Failure(
            "set OVERSIGHT_POLICY_PACKS to the directory that keeps adopted pack files "
            "(every process that serves or projects must see the same directory)"
        )
    extra[0].mkdir(parents=True, exist_ok=True)
    return extra[0]


def _adopt_file(pack_file: Path) -> tuple[str, Path | None]:
    """Check the file and copy it where every later run finds it: the pack id, and the
    copy made (None when the file was already there), to remove if registering fails."""
    from domain.policy.packs import PackError, PackLibrary

    pack = _checked(pack_file, _library())
    directory = _adopted_directory()
    target = directory / f"{pack.pack_id.lower()}.toml"
    text = pack_file.read_text(encoding="utf-8")
    if target.resolve() == pack_file.resolve():
        return pack.pack_id, None
    if target.exists():
        if target.read_text(encoding="utf-8") == text:
            return pack.pack_id, None
        raise Failure(
            f"{target} already holds another version of pack {pack.pack_id}: give the new "
            "version a new id (e.g. DUR-2027), or edit that file in place"
        )
    target.write_text(text, encoding="utf-8")
    try:
        PackLibrary.load()  # every pack still loads with the new file among them
    except PackError as error:
        target.unlink()
        raise Failure(str(error)) from None
    return pack.pack_id, target


def _pack_id(value: str) -> tuple[str, Path | None]:
    """A pack file to adopt, or the id of a pack already loaded."""
    path = Path(value)
    if value.endswith(".toml") or path.exists():
        if not path.is_file():
            raise click.BadParameter(f"no pack file {value}", param_hint="--pack")
        return _adopt_file(path)
    library = _library()
    if value not in library.packs:
        known = ", ".join(sorted(library.packs))
        raise click.BadParameter(f"no pack {value!r}; known: {known}", param_hint="--pack")
    return value, None


def _execute(
    code: str, actor_id: str, copied: Path | None, command: Callable[..., c.Command], **fields: str
) -> None:
    """Run one registration command as the authority's administrator; a refusal removes
    the pack file this run copied, so nothing is adopted."""
    from oversight.schema import SchemaOutOfDate
    from oversight.wiring import open_application

    try:
        authority_id(code)
        app: OversightApplication = open_application(Settings.from_env())
    except (SettingsError, SchemaOutOfDate) as error:
        if copied is not None:
            copied.unlink()
        raise Failure(str(error)) from None
    except DomainError as error:
        if copied is not None:
            copied.unlink()
        raise refused(error) from None
    try:
        app.execute(
            command(
                command_id=uuid.uuid4().hex,
                actor=Actor(actor_id, Role.ADMINISTRATOR, code),
                occurred_at=datetime.now(UTC),
                **fields,
            )
        )
    except DomainError as error:
        if copied is not None:
            copied.unlink()
        raise refused(error) from None
    finally:
        app.close()


@authority.command("register")
@click.argument("code", required=False)
@click.option("--code", "code_option", default=None, hidden=True, help="CODE, as an option.")
@click.option("--name", required=True, help="The authority's name.")
@click.option("--pack", "pack", required=True, help="A pack file (.toml), or a loaded pack's id.")
@click.option("--actor", "actor_id", default="ADMIN", show_default=True, help="Who registers.")
def authority_register(
    code: str | None, code_option: str | None, name: str, pack: str, actor_id: str
) -> None:
    """Register authority CODE (e.g. INV), held to a pack, before its first import: a
    pack file is checked (exit 4 with FILE:LINE: reason, nothing adopted) and kept in
    OVERSIGHT_POLICY_PACKS."""
    from domain import commands as c

    if (code is None) == (code_option is None):
        raise click.UsageError("give the authority's CODE")
    code = code or code_option
    assert code is not None
    pack_id, copied = _pack_id(pack)
    _execute(
        code, actor_id, copied, c.RegisterAuthority, authority_code=code, name=name,
        policy_pack=pack_id,
    )  # fmt: skip
    click.echo(f"registered {code} ({name}) on pack {pack_id}")


@authority.command("adopt")
@click.option("--code", required=True, help="The authority's code.")
@click.option("--pack", "pack", required=True, help="A pack file (.toml), or a loaded pack's id.")
@click.option("--actor", "actor_id", default="ADMIN", show_default=True, help="Who adopts.")
def authority_adopt(code: str, pack: str, actor_id: str) -> None:
    """Hold an existing authority's records to another pack from now on."""
    from domain import commands as c

    pack_id, copied = _pack_id(pack)
    _execute(code, actor_id, copied, c.AdoptPolicyPack, policy_pack=pack_id)
    click.echo(f"{code} adopted pack {pack_id}")

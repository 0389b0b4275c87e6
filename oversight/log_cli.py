"""``oversight log ...``: the tamper-evident event log (ADR 0019)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from domain.identifiers import child_id, worker_id
from oversight.grammar import Failure, NotFoundError, require_authority
from oversight.settings import (
    DEVELOPMENT_LOG_SIGNING_KEY,
    LOG_SIGNING_KEY_VARIABLE,
    DatabaseSettings,
    Settings,
    SettingsError,
    log_signing_key_file,
)

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )


def _database() -> DatabaseSettings:
    try:
        return Settings.from_env().database
    except SettingsError as error:
        raise Failure(str(error)) from None


def _key_path() -> Path | None:
    try:
        return log_signing_key_file()
    except SettingsError as error:
        raise Failure(str(error)) from None


def _signing_key() -> Ed25519PrivateKey:
    from oversight import integrity

    path = _key_path()
    if path is None:
        raise Failure(
            f"no key to sign checkpoints with: set {LOG_SIGNING_KEY_VARIABLE} to an Ed25519 "
            "private key (PEM), or OVERSIGHT_ENV=development to make one"
        )
    try:
        return integrity.signing_key(path, create=path == DEVELOPMENT_LOG_SIGNING_KEY)
    except (OSError, ValueError) as error:
        raise Failure(f"{LOG_SIGNING_KEY_VARIABLE}: {error}") from None


@click.group("log")
def log() -> None:
    """The event log's integrity: hash chains and signed checkpoints (ADR 0019)."""


@log.command("checkpoint")
@click.option("--follow", is_flag=True, help="Keep writing them, every --interval seconds.")
@click.option("--interval", default=60.0, show_default=True, help="Seconds between checks.")
@click.option("--min-events", default=1, show_default=True, help="Write none for fewer new events.")
def checkpoint(follow: bool, interval: float, min_events: int) -> None:
    """Sign checkpoints over the events written since the last one (at most 100,000
    events each); with --follow, keep doing so: the automatic checkpoints (ADR 0019)."""
    from oversight import integrity

    database, key = _database(), _signing_key()
    if follow:
        integrity.Checkpointer(
            database, key, interval=interval, min_events=min_events
        ).run_forever()
        return
    written = integrity.catch_up(database, key, min_events=min_events)
    if not written:
        click.echo("nothing new to checkpoint")
    for checkpoint in written:
        click.echo(
            f"checkpoint {checkpoint.number}: positions {checkpoint.previous_position + 1}.."
            f"{checkpoint.position} ({checkpoint.leaf_count} events), key {checkpoint.key_id}"
        )


@log.command("public-key")
def public_key() -> None:
    """Print the public key that verifies the checkpoints (PEM), and its key id."""
    from oversight import integrity

    key = _signing_key().public_key()
    click.echo(integrity.public_key_pem(key), nl=False)
    click.echo(f"key id: {integrity.key_id(key)}", err=True)


@log.command("verify")
@click.option("--authority", default=None, help="Check only this authority's aggregates.")
@click.option(
    "--public-key",
    "public_keys",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A public key (PEM) that signed checkpoints (repeatable: keys rotated out). "
    f"Default: the key of {LOG_SIGNING_KEY_VARIABLE}.",
)
def verify(authority: str | None, public_keys: tuple[Path, ...]) -> None:
    """Recompute every event's chain and every checkpoint; exit 1 naming the first broken
    position if anything was altered, deleted, inserted or reordered."""
    from oversight import integrity

    keys: dict[str, Ed25519PublicKey] = {}
    for path in public_keys:
        key = integrity.load_public_key(path)
        keys[integrity.key_id(key)] = key
    configured = _key_path()
    if not keys and configured is not None and configured.exists():
        key = integrity.load_private_key(configured).public_key()
        keys[integrity.key_id(key)] = key
    if authority is not None:
        require_authority(authority)
    report = integrity.verify(_database(), keys or None, authority=authority)
    scope = f" of {authority}" if authority else ""
    signed = "" if keys else " (signatures not checked: no public key given)"
    if report.intact:
        click.echo(
            f"intact: {report.events} events{scope} ({report.purged} purged), "
            f"{report.checkpoints} checkpoints{signed}"
        )
        return
    first = report.first_broken
    assert first is not None
    click.echo(f"BROKEN: first broken position: {first.position}")
    for problem in sorted(report.problems, key=lambda p: p.position):
        click.echo(f"  {problem}")
    sys.exit(1)


@log.command("export")
@click.option("--authority", required=True)
@click.option("--child", "child", default=None)
@click.option("--worker", "worker", default=None)
def export(authority: str, child: str | None, worker: str | None) -> None:
    """A subject's stored history with its checkpoint and audit path, as JSON, for an
    auditor to check offline (docs/verifying-a-history.md)."""
    from oversight import integrity

    if (child is None) == (worker is None):
        raise click.UsageError("give exactly one of --child or --worker")
    subject = child_id(authority, child) if child else worker_id(authority, worker or "")
    exported: dict[str, Any] = integrity.export_history(_database(), subject)
    if not exported["events"]:
        raise NotFoundError("no such subject")
    click.echo(json.dumps(exported, indent=2))

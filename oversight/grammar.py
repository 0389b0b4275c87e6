"""One grammar for every ``oversight`` command (issue 25, ADR 0031, docs/cli.md).

- Exit status: 0 done; 1 failed (nothing, or not all, could be done: a setting, the
  database); 2 a usage error (an option or argument the command does not take, or a
  value of the wrong shape); 3 not found (an authority, a subject, a file); 4 rejected
  input (the rules refused what was given: a command, rows of an import).
- Every error is one line on standard error, ``error: ...``, never a traceback.
- ``--format table|json|csv`` on every command that prints data.
- Progress bars on standard error, on a terminal or when asked (``oversight --progress``
  or ``OVERSIGHT_PROGRESS=1``).

Kept light: ``oversight --help`` imports this and click, nothing of the store.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import click

from domain.errors import ConcurrencyConflict, DomainError, NotFound

OK, FAILURE, USAGE, NOT_FOUND, REJECTED = 0, 1, 2, 3, 4
#: The exit statuses, as docs/cli.md lists them.
EXIT_STATUSES = {
    OK: "done",
    FAILURE: "failed: a setting, the database, or the work could not be done",
    USAGE: "usage: an option, argument or value the command does not take",
    NOT_FOUND: "not found: an authority, a subject, a record or a file",
    REJECTED: "rejected input: the rules refused what was given",
}
FORMATS = ("table", "json", "csv")
PROGRESS_VARIABLE = "OVERSIGHT_PROGRESS"

F = TypeVar("F", bound=Callable[..., Any])


class CommandError(click.ClickException):
    """An error shown as one line on standard error, with its exit status."""

    exit_code = FAILURE

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


class Failure(CommandError):
    exit_code = FAILURE


class UsageProblem(CommandError):
    exit_code = USAGE


class NotFoundError(CommandError):
    exit_code = NOT_FOUND


class Rejected(CommandError):
    exit_code = REJECTED


def refused(error: DomainError) -> CommandError:
    """A domain error as the grammar names it: not found, a race (a failure: try again),
    or input the rules refused."""
    if isinstance(error, NotFound):
        return NotFoundError(str(error))
    if isinstance(error, ConcurrencyConflict):
        return Failure(str(error))
    return Rejected(str(error))


class OversightGroup(click.Group):
    """The root group: a usage error, or a domain error no command caught, is one line
    with its exit status (click's own usage errors print the usage and a hint too)."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.exceptions.NoArgsIsHelpError:
            raise
        except click.UsageError as error:
            raise _usage(error) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.exceptions.NoArgsIsHelpError:
            raise
        except click.UsageError as error:
            raise _usage(error) from None
        except DomainError as error:
            raise refused(error) from None


def _usage(error: click.UsageError) -> UsageProblem:
    where = error.ctx.command_path if error.ctx is not None else "oversight"
    return UsageProblem(f"{error.format_message()} (see: {where} --help)")


class LazyChoice(click.Choice[str]):
    """A choice whose values are read when first needed (a ``--help`` that does not
    show them, or a command that is not run, loads nothing)."""

    def __init__(self, load: Callable[[], Sequence[str]]) -> None:
        self._load = load
        self._loaded: tuple[str, ...] | None = None
        super().__init__(())

    @property
    def choices(self) -> tuple[str, ...]:
        if self._loaded is None:
            self._loaded = tuple(self._load())
        return self._loaded

    @choices.setter
    def choices(self, value: Sequence[str]) -> None:
        """Set by click's ``__init__`` (to nothing): the values are ``load``'s."""


def format_option(function: F) -> F:
    """``--format table|json|csv`` (table: for people; json and csv: for programs)."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(FORMATS),
        default="table",
        show_default=True,
        help="How to print it: a table for people, JSON or CSV for programs.",
    )(function)


def emit(
    fmt: str,
    data: Any,
    *,
    table: Callable[[], None],
    rows: Sequence[Mapping[str, Any]] | None = None,
) -> None:
    """Print ``data`` as ``fmt`` asks: ``table()`` prints it for people; JSON is ``data``
    itself; CSV is ``rows`` (one flat mapping each), or ``data`` flattened."""
    if fmt == "json":
        click.echo(json.dumps(data, indent=2, default=str))
    elif fmt == "csv":
        click.echo(to_csv(rows if rows is not None else flat_rows(data)), nl=False)
    else:
        table()


def to_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    columns: list[str] = []
    for row in rows:
        columns.extend(key for key in row if key not in columns)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: _cell(value) for key, value in row.items()})
    return out.getvalue()


def _cell(value: Any) -> Any:
    if isinstance(value, Mapping | list | tuple):
        return json.dumps(value, default=str)
    return "" if value is None else value


def flat_rows(data: Any) -> list[dict[str, Any]]:
    """Rows for CSV from JSON-shaped data: a list of records is its rows; a mapping of
    records one row each (its key first); any other mapping one row; nested values
    are dotted columns, lists JSON cells."""
    if isinstance(data, list):
        return [_flat(item) if isinstance(item, Mapping) else {"value": item} for item in data]
    if isinstance(data, Mapping):
        if data and all(isinstance(v, Mapping) for v in data.values()):
            return [{"key": key, **_flat(value)} for key, value in data.items()]
        return [_flat(data)]
    return [{"value": data}]


def _flat(record: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flat(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def _progress_wanted() -> bool:
    context = click.get_current_context(silent=True)
    asked = bool(context and context.find_root().meta.get("oversight.progress"))
    return asked or os.environ.get(PROGRESS_VARIABLE, "") in ("1", "on", "true")


@contextlib.contextmanager
def progress(label: str, length: int = 1, unit: str = "") -> Iterator[Callable[[int, int], None]]:
    """``update(done, total)`` for a long step: a bar on standard error on a terminal;
    when asked (``--progress``) and not on a terminal, a line at each tenth of the way;
    otherwise nothing (standard output keeps only the result)."""
    asked = _progress_wanted()
    if sys.stderr.isatty():
        with click.progressbar(length=max(length, 1), label=label, file=sys.stderr) as bar:

            def update(done: int, total: int) -> None:
                bar.length = max(total, 1)
                bar.update(max(0, done - bar.pos))

            yield update
        return
    shown = [-1]

    def lines(done: int, total: int) -> None:
        tenth = done * 10 // max(total, 1)
        if asked and tenth > shown[0]:
            shown[0] = tenth
            click.echo(f"{label}: {done}/{total}{' ' + unit if unit else ''}", err=True)

    yield lines


def require_authority(code: str) -> None:
    """Not found (exit 3) unless ``code`` is a registered authority: a command that only
    reads would otherwise answer an unknown authority with nothing, and exit 0."""
    from oversight.schema import SchemaOutOfDate
    from oversight.settings import Settings, SettingsError
    from oversight.wiring import open_application

    try:
        app = open_application(Settings.from_env())
    except (SettingsError, SchemaOutOfDate) as error:
        raise Failure(str(error)) from None
    try:
        app.get_authority(code)
    except NotFound:
        raise NotFoundError(
            f"no authority {code!r} here: register it first (oversight authority register)"
        ) from None
    except DomainError as error:
        raise UsageProblem(f"--authority: {error}") from None
    finally:
        app.close()

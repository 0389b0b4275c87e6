"""How errors leave the API: typed, without an echo of the request, and logged as one
line without personal data (issue 23, ADR 0017).

Every error a client sees carries ``extensions.code``. graphql-core's syntax and
validation messages quote the request (a field name, a literal, a variable's value):
``present`` keeps the names the schema itself defines and replaces every other quoted
part, and every value after "found" or "got invalid value", with ``…``. An unexpected
exception is masked ("Unexpected error.", ``INTERNAL``, a correlation id) and logged with
its traceback's frames but not its message (an exception's text can hold the data it
failed on). Nothing logs a document's text or its variables: a line names the operation
and the first 16 hex digits of the document's sha256.

It is also where a resolver's errors become GraphQL errors, once for every resolver:
``client_error`` for what the adapter itself refuses, ``domain_error`` for the domain's
errors, and ``run_in_thread`` around every call of the synchronous service.

The codes are one documented set (``graphql_api.codes``, docs/api-errors.md, ADR 0027):
a syntax or validation error is ``BAD_USER_INPUT`` with the ``rule`` it broke and, where
the schema names it, the ``path`` of the field; a message names fields as the schema
does (camelCase), never as the code does. A client's error is logged as one line, with a
correlation id and no traceback; an unexpected one once, with its traceback's frames.
"""

from __future__ import annotations

import asyncio
import logging
import re
import traceback
import uuid
from collections.abc import Callable, Iterable
from functools import cached_property
from typing import Any, TypeVar

import strawberry
from graphql import (
    ArgumentNode,
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    GraphQLSyntaxError,
    Node,
    Visitor,
    visit,
)
from sqlalchemy.exc import DataError
from strawberry.types import ExecutionContext

from application import metrics
from application.certificates import LedgerMissing
from application.storage import CompactionIncomplete
from domain.errors import DomainError
from graphql_api import execution, unavailable
from graphql_api.codes import CLASSIFICATIONS as CLASSIFICATIONS
from graphql_api.codes import CODES as CODES
from graphql_api.codes import DOMAIN_CODES, OVER_HTTP, classification
from graphql_api.codes import INTERNAL as INTERNAL
from graphql_api.limits import BAD_USER_INPUT, document_text_for_log
from graphql_api.names import camel, camel_words
from projections.audit_trail import InvalidCursor
from projections.engine import ProjectionLagging

log = logging.getLogger("graphql_api.errors")

T = TypeVar("T")

#: ``extensions.classification`` for errors that are the caller's to fix (bad input, not
#: found, forbidden, unauthenticated), as graphql-java and Apollo label them, so generic
#: clients and tools can tell them from server faults; ``code`` is ours (ADR 0011).
CLIENT = "BAD_REQUEST"
#: ``extensions.code`` of input the caller must change: an argument, a variable, a value.
INPUT = BAD_USER_INPUT
#: A domain error's code as the API names it: invalid input is ``BAD_USER_INPUT``
#: whether the adapter or the domain found it (ADR 0017); a key reused or a record
#: already there is ``CONFLICT`` (ADR 0027).
API_CODES = DOMAIN_CODES
MASKED = "Unexpected error."


def client_error(message: str, code: str, **extensions: Any) -> GraphQLError:
    """An error that is the caller's to fix, found by the adapter itself."""
    return GraphQLError(
        camel_words(message),
        extensions={"code": code, "classification": classification(code), **extensions},
    )


def domain_error(error: DomainError) -> GraphQLError:
    """A domain error as the API names it: its code, rule and field (in GraphQL's name)."""
    code = API_CODES.get(error.code, error.code)
    extensions: dict[str, Any] = {"code": code, "classification": classification(code)}
    if error.field:
        extensions["field"] = camel(error.field)  # the argument's GraphQL name
    if error.rule:
        extensions["rule"] = error.rule
    if error.retryable:
        extensions["retryable"] = True
    return GraphQLError(camel_words(error.message), extensions=extensions)


def unstorable() -> GraphQLError:
    """The database refused a value (PostgreSQL text cannot hold U+0000, say): the
    client's input, not a server fault."""
    return client_error(
        "a value cannot be stored or searched for (does it contain a NUL character?)", INPUT
    )


#: What stops a purge before it finishes (ADR 0018): the records named may be destroyed
#: already (the message says what remains), so the caller runs it again.
UNFINISHED_PURGE = (LedgerMissing, CompactionIncomplete, ProjectionLagging)


def unfinished_purge(error: Exception) -> GraphQLError:
    """A purge that could not finish, as a typed error: retryable, except that a missing
    ledger needs the deployment fixed first."""
    code = {
        LedgerMissing: "PURGE_LEDGER_MISSING",
        CompactionIncomplete: "COMPACTION_INCOMPLETE",
        ProjectionLagging: ProjectionLagging.code,
    }.get(type(error), "PURGE_INCOMPLETE")
    return GraphQLError(
        camel_words(str(error)),
        extensions={
            "code": code,
            "classification": classification(code),
            "retryable": code != "PURGE_LEDGER_MISSING",
        },
    )


async def run_in_thread(func: Callable[[], T]) -> T:
    """Run the synchronous service in a thread; domain errors become typed errors."""
    try:
        return await asyncio.to_thread(func)
    except ProjectionLagging as error:
        raise GraphQLError(
            camel_words(str(error)),
            extensions={
                "code": error.code,
                "classification": classification(error.code),
                "retryable": True,
            },
        ) from None
    except InvalidCursor as error:
        raise client_error(str(error), INPUT, field="after") from None
    except DomainError as error:
        raise domain_error(error) from None
    except DataError:
        raise unstorable() from None
    except Exception as error:
        unavailable.reraise(error)


_QUOTED = re.compile(r"'([^']*)'|\"((?:[^\"\\]|\\.)*)\"")
_VALUE_AFTER = re.compile(r"(got invalid value|found)\s+.*?(?=(?: at '[^']*')?;|\.\s|$)")


def schema_names(schema: GraphQLSchema) -> frozenset[str]:
    """Every name the schema defines: types, fields, arguments, enum values, directives."""
    names: set[str] = set()
    for type_ in schema.type_map.values():
        names.add(type_.name)
        for field_name, field in (getattr(type_, "fields", None) or {}).items():
            names.add(field_name)
            names.update((getattr(field, "args", None) or {}).keys())
        names.update((getattr(type_, "values", None) or {}).keys())
    for directive in schema.directives:
        names.add(directive.name)
        names.add(f"@{directive.name}")
        names.update(directive.args.keys())
    return frozenset(names)


def _schema_path(text: str, names: frozenset[str]) -> bool:
    """Whether ``text`` is a path of the schema's names (``input.caseDiscussions[0].childId``)."""
    parts = [re.sub(r"\[\d+\]", "", part) for part in text.strip("[]!").split(".")]
    return all(part in names for part in parts)


def scrub(message: str, names: frozenset[str]) -> str:
    """``message`` with the request's own words taken out: values after "found" and
    "got invalid value", and any quoted part that is not one of the schema's names (or
    a path of them)."""
    message = _VALUE_AFTER.sub(lambda m: f"{m.group(1)} …", message)

    def keep_or_hide(match: re.Match[str]) -> str:
        inner = match.group(1) if match.group(1) is not None else match.group(2)
        quote = match.group(0)[0]
        return match.group(0) if inner and _schema_path(inner, names) else f"{quote}…{quote}"

    return _python_text_out(_QUOTED.sub(keep_or_hide, message))


#: A custom scalar's refusal ends with the exception that refused it ("Value cannot
#: represent a DateTime: "…". invalid literal for int() with base 10: …"): cut there.
_SCALAR_TAIL = re.compile(r'(cannot represent an? [A-Za-z]+: "…")\.?\s[^;]*')
#: What Python says, never a client (the last guard: the sentence holding it goes).
_PYTHONIC = re.compile(
    r"invalid literal|Traceback|object has no attribute|NoneType|not supported between"
    r"|unexpected keyword|required positional|\bint\(\)|\bfloat\(\)|<class "
    r"|\b[A-Z][A-Za-z]*(?:Error|Exception)\b|__\w+__"
)


def _python_text_out(message: str) -> str:
    """``message`` without what Python said about the value (ADR 0027)."""
    message = _SCALAR_TAIL.sub(r"\1", message)
    found = _PYTHONIC.search(message)
    if found is None:
        return message
    kept = re.split(r"(?<=[.;])\s", message[: found.start()])
    return " ".join(kept[:-1]).rstrip(" ;") or "the value is not valid for its type"


#: graphql-core's variable coercion names where in the value it failed: ``at 'a.b[0]'``.
_AT = re.compile(r" at '([^']*)'")


def _rule_of(error: GraphQLError) -> str:
    """The rule a request error broke: the validation rule's name (the gate tags each),
    ``Syntax``, or ``VariableValues`` for a variable's value (coerced as it executes)."""
    tagged = (error.extensions or {}).get("rule")
    if isinstance(tagged, str):
        return tagged
    if isinstance(error, GraphQLSyntaxError):
        return "Syntax"
    if error.message.startswith("Variable '$"):
        return "VariableValues"
    return OVER_HTTP


class _FieldPath(Visitor):
    """The schema's field names from the operation down to one node (aliases aside)."""

    def __init__(self, target: Node, names: frozenset[str]) -> None:
        super().__init__()
        self.target = target
        self.names = names
        self.stack: list[str] = []
        self.found: list[str] | None = None

    def enter(self, node: Node, *_: Any) -> Any:
        if isinstance(node, FieldNode):
            self.stack.append(node.name.value)
        if node is self.target:
            self.found = [name for name in self.stack if name in self.names]
            if isinstance(node, ArgumentNode) and node.name.value in self.names:
                self.found.append(node.name.value)
            return Visitor.BREAK
        return None

    def leave(self, node: Node, *_: Any) -> None:
        if isinstance(node, FieldNode):
            self.stack.pop()


def _path_of(
    error: GraphQLError, document: DocumentNode | None, names: frozenset[str]
) -> list[str] | None:
    """Where a request error is, as the schema names it: the fields down to its node,
    or the path into a variable's value; none when nothing of it is the schema's."""
    at = _AT.search(error.message)
    if at is not None and _schema_path(at.group(1), names):
        return [re.sub(r"\[\d+\]", "", p) for p in at.group(1).split(".")]
    if document is None or not error.nodes:
        return None
    finder = _FieldPath(error.nodes[0], names)
    visit(document, finder)
    return finder.found or None


def _is_unexpected(error: GraphQLError) -> bool:
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError)


def _operation(context: ExecutionContext | None) -> tuple[str, str]:
    if context is None:
        return "-", "-"
    try:
        name = (context.operation_name or "-")[:64]
    except Exception:  # an unparsable document has no operation to name
        name = "-"
    return name, document_text_for_log(context.query)


def _document(context: ExecutionContext | None) -> DocumentNode | None:
    return None if context is None else context.graphql_document


def present(error: GraphQLError, names: frozenset[str], context: ExecutionContext | None) -> None:
    """Make ``error`` fit to send (in place, as strawberry's own processing does) and log
    it as one line."""
    operation, document = _operation(context)
    if not error.path:
        # Refused before it ran: the operation's name is the client's unchecked text.
        operation = "-"
    # A path holds the client's aliases: the log keeps the schema's names and indexes.
    path = (
        ".".join(str(p) if isinstance(p, int) or p in names else "…" for p in error.path or ())
        or "-"
    )
    correlation = uuid.uuid4().hex
    if _is_unexpected(error):
        original = error.original_error
        assert original is not None
        frames = "".join(traceback.format_tb(original.__traceback__))
        log.error(
            "graphql.internal code=%s correlation=%s operation=%s document=%s path=%s "
            "exception=%s\n%s",
            INTERNAL, correlation, operation, document, path, type(original).__name__, frames,
        )  # fmt: skip
        error.message = MASKED
        error.extensions = {
            "code": INTERNAL,
            "classification": classification(INTERNAL),
            "correlationId": correlation,
        }
        error.original_error = None  # presented once: a second pass only logs it again
        metrics.count_error(INTERNAL)
        return
    extensions = dict(error.extensions or {})
    if "code" not in extensions:
        # Syntax and validation errors: graphql-core's text quotes the document.
        where = _path_of(error, _document(context), names)
        extensions["rule"] = _rule_of(error)
        error.message = scrub(error.message, names)
        extensions["code"] = BAD_USER_INPUT
        if where:
            extensions["path"] = where
        if isinstance(error, GraphQLSyntaxError):
            extensions["syntax"] = True
    elif extensions["code"] not in CODES:
        # A code outside the documented set is a fault of ours: logged, and sent typed.
        log.error("graphql.untyped code=%s correlation=%s", extensions["code"], correlation)
        extensions = {"code": INTERNAL, "correlationId": correlation}
        error.message = MASKED
    extensions["classification"] = classification(extensions["code"])
    error.extensions = extensions
    metrics.count_error(extensions["code"])
    retryable = bool(extensions.get("retryable"))
    log.log(
        logging.WARNING if retryable else logging.INFO,
        "graphql.error code=%s correlation=%s operation=%s document=%s path=%s%s%s",
        extensions["code"], correlation, operation, document, path,
        f" field={extensions['field']}" if "field" in extensions else "",
        f" rule={extensions['rule']}" if "rule" in extensions else "",
    )  # fmt: skip


class OversightSchema(strawberry.Schema):
    """The schema, with errors presented by ``present`` (and none logged by strawberry),
    and executed as ``graphql_api.execution`` arranges (enum values written and
    interfaces' types resolved by lookups, plain leaf fields read without an ``Info``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        execution.arrange(self)

    @cached_property
    def _names(self) -> frozenset[str]:
        return schema_names(self._schema)

    def process_errors(
        self, errors: Iterable[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            present(error, self._names, execution_context)

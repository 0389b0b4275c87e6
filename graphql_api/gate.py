"""The document gate (issue 23, ADR 0017): parses, measures and validates each document
in two threads of its own (never the resolvers' pool), within the time budget, keeping
the verdict of each text it has seen; and the strawberry extension that hands it the
work. Only what is bounded and small runs on the event loop: a kept verdict's lookup,
and the request's checks of a short text seen before with short scalar variables.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from threading import Lock
from typing import Any, ClassVar

from graphql import (
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    parse,
    validate,
)
from strawberry.extensions import SchemaExtension
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

from domain.vocabulary import Role
from graphql_api.arguments import (
    ArgumentsWithinBounds,
    DatesInSupportedRange,
    variable_bound_errors,
    variable_date_errors,
)
from graphql_api.limits import Limits, limited
from graphql_api.measure import DocumentMeasurer, Measure, TooLong

# -- the gate ---------------------------------------------------------------------------------

#: The longest text (and variable that is a string) checked on the event loop once its
#: verdict is kept: a few fields' measure and checks, bounded (``DocumentGate.check``).
QUICK_DOCUMENT_CHARS = 2048


def _short_scalars(variables: Mapping[str, Any] | None) -> bool:
    """Whether each variable is a number, a truth value, null or a short string."""
    return variables is None or (
        len(variables) <= 20
        and all(
            value is None
            or isinstance(value, (bool, int, float))
            or (isinstance(value, str) and len(value) <= QUICK_DOCUMENT_CHARS)
            for value in variables.values()
        )
    )


@dataclass(frozen=True)
class Checked:
    """A document's verdict that does not depend on the request: kept per text."""

    document: DocumentNode | None
    errors: tuple[GraphQLError, ...]


class DocumentGate:
    """Parses and validates documents in its own threads, within the time budget; keeps
    the verdicts of the texts it has seen (front ends send the same few again and again)."""

    def __init__(self, schema: GraphQLSchema, limits: Limits, cache_size: int = 512) -> None:
        self.schema = schema
        self.limits = limits
        self.cache_size = cache_size
        self._checked: OrderedDict[tuple[str, tuple[type[ASTValidationRule], ...]], Checked] = (
            OrderedDict()
        )
        self._lock = Lock()
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="graphql-check")

    async def verdict(self, query: str, rules: tuple[type[ASTValidationRule], ...]) -> Checked:
        """The document parsed, measured and validated (kept per text and rules). A text
        seen before is answered from what was kept, on the event loop: a lookup, where a
        hop to the gate's thread and back was a sixth of the time GraphQL adds to a
        child's state read (issue 18, session 15)."""
        kept = self._kept((query, rules))
        if kept is not None:
            return kept
        deadline = time.monotonic() + self.limits.validation_seconds
        checked: Checked = await self._in_pool(self._verdict, query, rules, deadline)
        return checked

    async def check(
        self,
        query: str,
        rules: tuple[type[ASTValidationRule], ...],
        variables: Mapping[str, Any] | None,
        operation_name: str | None,
        role: Role | None,
    ) -> list[GraphQLError]:
        """Every error of this request's document, variables and cost for this role.

        A short text whose verdict is kept, with variables that are each a short
        scalar, is checked on the event loop with that verdict (80 µs for a record's
        state and history; the work is linear in the text, which is short): the hop to
        the gate's thread and back cost more than the check, on every such request
        (issue 18, ADR 0036). Anything else is checked in the gate's threads, within
        the time budget."""
        deadline = time.monotonic() + self.limits.validation_seconds
        kept = (
            self._kept((query, rules))
            if len(query) <= QUICK_DOCUMENT_CHARS and _short_scalars(variables)
            else None
        )
        if kept is not None:
            try:
                return self._check(query, rules, variables, operation_name, role, deadline, kept)
            except TooLong:
                return [self._too_long()]
        errors: list[GraphQLError] = await self._in_pool(
            self._check, query, rules, variables, operation_name, role, deadline
        )
        return errors

    async def _in_pool(self, func: Any, *args: Any) -> Any:
        loop = asyncio.get_running_loop()
        work = loop.run_in_executor(self._pool, func, *args)
        try:
            return await asyncio.wait_for(work, timeout=self.limits.validation_seconds)
        except (TimeoutError, TooLong):
            error = self._too_long()
            if func == self._verdict:
                return Checked(None, (error,))
            return [error]

    def _too_long(self) -> GraphQLError:
        return limited(
            f"the document could not be checked within {self.limits.validation_seconds} s",
            "validationTime",
        )

    def _check(
        self,
        query: str,
        rules: tuple[type[ASTValidationRule], ...],
        variables: Mapping[str, Any] | None,
        operation_name: str | None,
        role: Role | None,
        deadline: float,
        kept: Checked | None = None,
    ) -> list[GraphQLError]:
        """The request's errors; ``kept``: the document's verdict, already at hand (else
        found, or made, here)."""
        checked = kept if kept is not None else self._verdict(query, rules, deadline)
        if checked.errors or checked.document is None:
            return list(checked.errors)
        operation = _operation(checked.document, operation_name)
        if operation is None:
            return []  # strawberry reports the operation it cannot find
        errors = variable_date_errors(self.schema, operation, variables or {})
        errors += variable_bound_errors(checked.document, variables or {})
        if errors:
            return errors
        try:
            measure = DocumentMeasurer(
                self.schema, checked.document, variables, deadline
            ).operation(operation)
        except RecursionError:
            return [limited("the document nests too deeply", "nesting")]
        budget = self.limits.cost_budgets.get(role, min(self.limits.cost_budgets.values()))
        if measure.cost > budget:
            return [
                limited(
                    f"the operation would cost {measure.cost}; this role's budget is {budget}",
                    "cost",
                    cost=measure.cost,
                    budget=budget,
                )
            ]
        return []

    def _verdict(
        self, query: str, rules: tuple[type[ASTValidationRule], ...], deadline: float
    ) -> Checked:
        key = (query, rules)
        found = self._kept(key)
        if found is not None:
            return found
        try:
            verdict = self._first_check(query, rules, deadline)
        except RecursionError:
            # Selections or fragments nested past what a recursive descent can follow:
            # no client needs that, and it is refused before anything else runs.
            verdict = Checked(None, (limited("the document nests too deeply", "nesting"),))
        with self._lock:
            self._checked[key] = verdict
            while len(self._checked) > self.cache_size:
                self._checked.popitem(last=False)
        return verdict

    def _kept(self, key: tuple[str, tuple[type[ASTValidationRule], ...]]) -> Checked | None:
        """The verdict kept for a text and rules, now the most recently used; or None."""
        with self._lock:
            found = self._checked.get(key)
            if found is not None:
                self._checked.move_to_end(key)
            return found

    def _first_check(
        self, query: str, rules: tuple[type[ASTValidationRule], ...], deadline: float
    ) -> Checked:
        limits = self.limits
        try:
            document = parse(query, max_tokens=limits.max_tokens)
        except GraphQLError as error:
            if "nested too deeply" in error.message:
                return Checked(None, (limited("the document nests too deeply", "nesting"),))
            if "tokens. Parsing aborted" in error.message:
                return Checked(
                    None,
                    (limited(f"the document has more than {limits.max_tokens} tokens", "tokens"),),
                )
            return Checked(None, (error,))
        # Measured first, with no variables: depth, aliases and directives do not depend
        # on them, and a document over them is refused before the validation rules run.
        measurer = DocumentMeasurer(self.schema, document, None, deadline, unknown_page=1)
        for definition in document.definitions:
            if not isinstance(definition, OperationDefinitionNode):
                continue
            measure = measurer.operation(definition)
            refusal = _over_a_limit(measure, limits)
            if refusal is not None:
                return Checked(document, (refusal,))
        if time.monotonic() > deadline:
            raise TooLong
        all_rules = (
            *rules,
            MaybeNullValidationRule,
            OneOfInputValidationRule,
            DatesInSupportedRange,
            ArgumentsWithinBounds,
        )
        errors = validate(self.schema, document, tuple(map(naming, all_rules)), max_errors=20)
        return Checked(document, tuple(errors))

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


#: Each validation rule, as a subclass that names itself on the errors it reports.
_NAMING: dict[type[ASTValidationRule], type[ASTValidationRule]] = {}


def naming(rule: type[ASTValidationRule]) -> type[ASTValidationRule]:
    """``rule``, reporting its errors with ``extensions.rule`` (its name without the
    ``Rule`` suffix, as the GraphQL specification names its validation rules): the API
    says which rule a document broke (ADR 0027)."""
    named = _NAMING.get(rule)
    if named is None:
        name = rule.__name__.removesuffix("Rule")

        def report_error(self: ASTValidationRule, error: GraphQLError) -> None:
            if "code" not in (error.extensions or {}):
                error.extensions = {**(error.extensions or {}), "rule": name}
            self.context.report_error(error)

        named = _NAMING[rule] = type(rule.__name__, (rule,), {"report_error": report_error})
    return named


def _over_a_limit(measure: Measure, limits: Limits) -> GraphQLError | None:
    """The first limit ``measure`` is over, as its refusal (or None). The cost here is
    the least the operation can cost (pages given by variables count as one item), so
    over every role's budget nothing can run it."""
    ceiling = max(limits.cost_budgets.values())
    checks = (
        (measure.depth, limits.max_depth, "depth",
         f"the query is deeper than {limits.max_depth} fields"),
        (measure.introspection_depth, limits.max_introspection_depth, "introspectionDepth",
         f"the introspection query is deeper than {limits.max_introspection_depth} fields"),
        (measure.aliases, limits.max_aliases, "aliases",
         f"the query has more than {limits.max_aliases} aliases"),
        (measure.cost, ceiling, "cost",
         f"the operation would cost at least {measure.cost}; "
         f"no role's budget is above {ceiling}"),
        (measure.overlap, limits.max_overlap, "overlappingFields",
         "the query repeats fields of one name too often to be checked"),
        (measure.directives, limits.max_directives, "directives",
         f"the query has more than {limits.max_directives} directives"),
    )  # fmt: skip
    for figure, bound, limit, message in checks:
        if figure > bound:
            extra = {"cost": measure.cost, "budget": ceiling} if limit == "cost" else {}
            return limited(message, limit, **extra)
    return None


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name and o.name.value == name), None)


class BoundedDocuments(SchemaExtension):
    """Hands parsing and validation to the gate (off the event loop, within the budget).
    A document that cannot be parsed, or is over a limit before validation, is replaced
    by a stand-in so that strawberry never parses it on the event loop: the gate's errors
    are the answer."""

    STAND_IN: ClassVar[DocumentNode] = parse("{ __typename }")

    def __init__(self, gate: DocumentGate) -> None:
        super().__init__()
        self.gate = gate
        self.refused: list[GraphQLError] | None = None

    async def on_parse(self) -> AsyncIterator[None]:
        context = self.execution_context
        context.parse_options["max_tokens"] = self.gate.limits.max_tokens
        if context.graphql_document is None and context.query is not None:
            verdict = await self.gate.verdict(context.query, tuple(context.validation_rules))
            if verdict.document is None:
                context.graphql_document = self.STAND_IN
                self.refused = list(verdict.errors)
            else:
                context.graphql_document = verdict.document
        yield

    async def on_validate(self) -> AsyncIterator[None]:
        context = self.execution_context
        if self.refused is not None:
            context.pre_execution_errors = self.refused
        elif context.pre_execution_errors is None and context.query is not None:
            principal = getattr(context.context, "principal", None)
            context.pre_execution_errors = await self.gate.check(
                context.query,
                tuple(context.validation_rules),
                context.variables,
                context.operation_name,
                getattr(principal, "role", None),
            )
        yield

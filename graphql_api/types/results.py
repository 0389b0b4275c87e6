"""What a mutation returns: the ``CommandResult`` union, success or the typed reason
nothing was written (ADR 0011)."""

from __future__ import annotations

from typing import Annotated

import strawberry


@strawberry.type(description="The command ran (or had already run under this key).")
class CommandSuccess:
    idempotency_key: str = strawberry.field(description="The command's idempotency key.")
    position: strawberry.ID | None = strawberry.field(
        description="The log position of its last event: pass it as consistentWith to read "
        "your own write. Null when it wrote nothing."
    )
    replayed: bool = strawberry.field(
        description="True when this key had already run: nothing new was written."
    )


@strawberry.type(description="A value is missing, malformed or out of range.")
class ValidationProblem:
    message: str = strawberry.field(description="What is wrong, in words.")
    field: str | None = strawberry.field(description="The input field concerned.")
    rule: str | None = strawberry.field(description="The rule it breaks, if one is named.")


@strawberry.type(description="A policy rule or invariant forbids it; the rule ID is cited.")
class RuleViolationProblem:
    message: str = strawberry.field(description="What the rule forbids, in words.")
    field: str | None = strawberry.field(description="The input field concerned.")
    rule: str | None = strawberry.field(description="The rule ID, e.g. DUR-4.7a.")


@strawberry.type(description="No such record in the caller's authority.")
class NotFoundProblem:
    message: str = strawberry.field(
        description="What was not found in the caller's authority, in words (a record the "
        "caller may not see answers the same)."
    )
    field: str | None = strawberry.field(description="The input field naming it.")


@strawberry.type(description="Another write got there first, or the key was reused.")
class ConflictProblem:
    message: str = strawberry.field(
        description="What this write conflicted with, in words: another write, or a reused key."
    )
    retryable: bool = strawberry.field(
        description="True: reload and retry with the same idempotency key."
    )
    reused_idempotency_key: str | None = strawberry.field(
        default=None,
        description="The key, when it was already used for a different input: send this "
        "input with a new key.",
    )


@strawberry.type(description="The caller may not do this; the access rule is cited.")
class ForbiddenProblem:
    message: str = strawberry.field(
        description="Why the caller may not do this, in words, naming the rule."
    )
    rule: str | None = strawberry.field(description="The access rule, e.g. DUR-4.8a.")


CommandResult = Annotated[
    CommandSuccess
    | ValidationProblem
    | RuleViolationProblem
    | NotFoundProblem
    | ConflictProblem
    | ForbiddenProblem,
    strawberry.union(
        "CommandResult",
        description="What a mutation did: success, or the typed reason nothing was written.",
    ),
]

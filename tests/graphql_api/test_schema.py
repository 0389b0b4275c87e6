"""The schema is the front-end teams' documentation: the committed SDL matches the code,
and every type, field, argument and input field is described."""

from __future__ import annotations

from pathlib import Path

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLUnionType,
)

from graphql_api.schema import build_schema

ROOT = Path(__file__).resolve().parents[2]


def test_the_committed_sdl_matches_the_code() -> None:
    committed = (ROOT / "schema.graphql").read_text(encoding="utf-8")
    assert committed == build_schema().as_str() + "\n", (
        "the schema changed: regenerate with `oversight graphql sdl --write schema.graphql` "
        "and review the difference (the breaking-change check runs in the test command)"
    )


def test_every_type_field_and_argument_is_described() -> None:
    schema = build_schema()._schema
    missing: list[str] = []
    for name, kind in schema.type_map.items():
        if name.startswith("__") or name in ("String", "Int", "Float", "Boolean", "ID"):
            continue
        if not kind.description:
            missing.append(name)
        if isinstance(kind, GraphQLObjectType | GraphQLInterfaceType):
            for field_name, field in kind.fields.items():
                if not field.description:
                    missing.append(f"{name}.{field_name}")
                for arg_name, arg in field.args.items():
                    if not arg.description:
                        missing.append(f"{name}.{field_name}({arg_name})")
        elif isinstance(kind, GraphQLInputObjectType):
            missing.extend(
                f"{name}.{field_name}"
                for field_name, field in kind.fields.items()
                if not field.description
            )
        elif isinstance(kind, GraphQLEnumType | GraphQLUnionType):
            continue
    assert missing == [], f"undescribed: {missing[:20]} ({len(missing)})"


def test_the_cli_prints_and_writes_the_sdl(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from oversight.cli import main

    printed = CliRunner().invoke(main, ["graphql", "sdl"], catch_exceptions=False)
    assert printed.exit_code == 0 and printed.output == build_schema().as_str() + "\n"
    target = tmp_path / "schema.graphql"
    written = CliRunner().invoke(main, ["graphql", "sdl", "--write", str(target)])
    assert written.exit_code == 0 and target.read_text(encoding="utf-8") == printed.output

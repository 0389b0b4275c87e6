"""The example front-end client (``examples/typescript-client``) and its npm tools, which
``make test`` installs (``npm ci``, the Makefile's ``CLIENT_TOOLS``)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "typescript-client"
NODE_MODULES = EXAMPLE / "node_modules"
OPERATIONS = EXAMPLE / "src" / "operations"


def example_tools() -> Path:
    """The example's ``node_modules``; fails, saying how to install them, when missing."""
    if shutil.which("node") is None or not (NODE_MODULES / ".bin" / "graphql-codegen").exists():
        pytest.fail(
            "node and the example client's npm tools are needed: `make test` installs them "
            f"(npm ci --prefix {EXAMPLE.relative_to(ROOT)})"
        )
    return NODE_MODULES


def operation(file_name: str) -> str:
    """One of the example's operation documents, as the client sends it."""
    return (OPERATIONS / file_name).read_text(encoding="utf-8")

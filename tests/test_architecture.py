"""Layering contracts (import-linter): the domain imports no framework or driver."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_hold() -> None:
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "lint-imports"),
            "--config",
            str(ROOT / "pyproject.toml"),
            "--no-cache",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 9 kept, 0 broken." in result.stdout


def test_domain_source_names_no_forbidden_module() -> None:
    """A second, plain-text guard: no import line in domain/ mentions a driver."""
    forbidden = ("sqlalchemy", "psycopg", "strawberry", "starlette", "alembic", "sqlite3")
    for path in (ROOT / "domain").rglob("*.py"):
        for line in path.read_text().splitlines():
            stripped = line.strip()
            if stripped.startswith(("import ", "from ")):
                assert not any(name in stripped for name in forbidden), f"{path}: {stripped}"

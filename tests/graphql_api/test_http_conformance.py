"""GraphQL over HTTP, against a live server on 127.0.0.1 (both stores): graphql-http's
server audits report no error and no warning; and the schema has no breaking change
against the last released SDL (graphql-inspector). Both tools come from the npm registry
(``tools/graphql``, installed by ``make test``)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest

from oversight.settings import DatabaseSettings

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / "tools" / "graphql"
NODE = shutil.which("node")


def _tools_ready() -> None:
    if NODE is None or not (TOOLS / "node_modules").exists():
        pytest.fail(
            "node and the npm tools are needed: `make test` installs them "
            f"(npm ci --prefix {TOOLS.relative_to(ROOT)})"
        )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def live_server(database: DatabaseSettings, tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    env = dict(
        os.environ,
        OVERSIGHT_DATABASE_URL=database.url,
        OVERSIGHT_ENV="development",
        OVERSIGHT_JWKS_FILE=str(tmp_path / ".oversight" / "dev-jwks.json"),
    )
    log = (tmp_path / "server.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "oversight.cli", "serve", "--port", str(port), "--no-projections"],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise AssertionError((tmp_path / "server.log").read_text())
            time.sleep(0.1)
        yield f"{url}/graphql"
    finally:
        server.terminate()
        server.wait(15)
        log.close()


def test_graphql_over_http_audits_report_no_error_and_no_warning(live_server: str) -> None:
    _tools_ready()
    assert NODE is not None
    done = subprocess.run(
        [NODE, "audit.mjs", live_server], cwd=TOOLS, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    assert len(results) >= 50
    problems = [r for r in results if r["status"] in ("error", "warn")]
    assert problems == [], problems
    # What is left are MAY notices: queries over GET are off on purpose (ADR 0011).
    assert all("GET" in r["name"] for r in results if r["status"] == "notice")


def test_no_breaking_change_against_the_released_schema(tmp_path: Path) -> None:
    _tools_ready()
    inspector = TOOLS / "node_modules" / ".bin" / "graphql-inspector"
    baseline = ROOT / "docs" / "schema" / "baseline.graphql"

    def diff(new: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(inspector), "diff", str(baseline), str(new)],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    current = diff(ROOT / "schema.graphql")
    assert current.returncode == 0, current.stdout + current.stderr
    # The check can fail: a field removed from the schema is reported as breaking.
    broken = tmp_path / "broken.graphql"
    text = (ROOT / "schema.graphql").read_text(encoding="utf-8")
    broken.write_text(text.replace('  """Who is signed in."""\n  viewer: Viewer!\n', ""), "utf-8")
    assert broken.read_text("utf-8") != text
    refused = diff(broken)
    assert refused.returncode != 0 and "breaking" in (refused.stdout + refused.stderr)

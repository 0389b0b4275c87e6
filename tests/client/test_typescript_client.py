"""The example TypeScript client is generated from the committed SDL and type-checks
(issue 22 item 8): graphql-codegen validates its operations against ``schema.graphql`` and
types them, and ``tsc --noEmit`` (strict) checks the code that uses them. Both checks can
fail: an operation naming a field the API does not have is refused by codegen, and code
that misuses a generated type is refused by tsc.

The generated code is not committed: each run generates it afresh from the SDL, in a copy
of the example, so the check is always against the schema as it is now."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.client.example import EXAMPLE, ROOT, example_tools

#: A bound against a hang on a loaded machine, not a timing.
PATIENCE_SECONDS = 180


@pytest.fixture
def client(tmp_path: Path) -> Path:
    """A copy of the example beside a copy of the committed SDL (the layout its
    codegen.ts names), its npm tools linked in."""
    node_modules = example_tools()
    shutil.copy(ROOT / "schema.graphql", tmp_path / "schema.graphql")
    copy = tmp_path / "examples" / "typescript-client"
    shutil.copytree(EXAMPLE, copy, ignore=shutil.ignore_patterns("node_modules", "generated"))
    (copy / "node_modules").symlink_to(node_modules, target_is_directory=True)
    return copy


def _run(client: Path, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(client / "node_modules" / ".bin" / tool), *args],
        cwd=client, capture_output=True, text=True, timeout=PATIENCE_SECONDS,
    )  # fmt: skip


def codegen(client: Path) -> subprocess.CompletedProcess[str]:
    return _run(client, "graphql-codegen", "--config", "codegen.ts")


def tsc(client: Path) -> subprocess.CompletedProcess[str]:
    return _run(client, "tsc", "--noEmit", "--pretty", "false")


def test_the_client_is_generated_from_the_committed_sdl_and_type_checks(client: Path) -> None:
    generated = codegen(client)
    assert generated.returncode == 0, generated.stdout + generated.stderr
    types = (client / "src" / "generated" / "graphql.ts").read_text(encoding="utf-8")
    for document in ("ViewerDocument", "ChildAllocationDocument", "WorkerTeamDocument",
                     "RecordManagementOversightDocument", "AuditTrailDocument"):  # fmt: skip
        assert f"export const {document} = " in types, document
    # The mutation's input is typed from the SDL: no field of it names who decided.
    assert "export type RecordManagementOversightInput = {" in types
    checked = tsc(client)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_an_operation_the_schema_does_not_have_is_refused_by_codegen(client: Path) -> None:
    (client / "src" / "operations" / "wrong.graphql").write_text(
        "query Wrong { viewer { staffId favouriteColour } }\n", encoding="utf-8"
    )
    refused = codegen(client)
    output = refused.stdout + refused.stderr
    assert refused.returncode != 0, output
    assert 'Cannot query field "favouriteColour" on type "Viewer"' in output, output


def test_code_that_misuses_a_generated_type_is_refused_by_tsc(client: Path) -> None:
    generated = codegen(client)
    assert generated.returncode == 0, generated.stdout + generated.stderr
    # An oversight without its decision and rationale, and a staff id read as a number.
    (client / "src" / "wrong.ts").write_text(
        "import { OversightClient } from './client';\n"
        "import { recordManagementOversight, signedIn } from './oversight';\n"
        "const client = new OversightClient({ url: 'http://localhost/graphql', token: 't' });\n"
        "export const answer = recordManagementOversight(client, {\n"
        "  childId: 'C1', entryId: 'MO-1', answersTriggerIds: [], reason: 'r',\n"
        "  currentSituation: 's', actions: [],\n"
        "}, 'key-1');\n"
        "export const staffNumber: Promise<number> = signedIn(client).then((v) => v.staffId);\n",
        encoding="utf-8",
    )
    refused = tsc(client)
    output = refused.stdout + refused.stderr
    assert refused.returncode != 0, output
    assert "src/wrong.ts(4," in output and "decision, rationale" in output, output
    assert "src/wrong.ts(8," in output and "TS2322" in output, output

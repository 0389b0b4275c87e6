"""The API from a browser (issue 22 item 8): Debian's chromium, headless, driven by
Playwright, against the real server (``oversight serve``, development mode) on each store,
with every other host blocked.

- GraphiQL loads offline (its assets vendored, ADR 0027); a query typed into its editor and
  run from its toolbar answers in its result pane.
- In the page, the ``graphql-ws`` client (the example client's own copy, answered to the
  page by the test on the server's origin, since the page may not reach a CDN) opens the
  example's ``AuditTrail`` subscription with the token in ``connection_init``; events that
  other requests record, one of them the example's ``RecordManagementOversight``, arrive.

``make test`` installs the browser (scripts/install-browser) and the example's npm tools.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx2 as httpx
import pytest
from playwright.sync_api import BrowserContext, Page, Route, sync_playwright

from domain.vocabulary import Role
from tests.client.example import example_tools, operation
from tests.graphql_api.test_transports import PATIENCE_SECONDS, Server
from tests.graphql_api.test_transports import server as server  # the installed server

#: Debian's chromium (scripts/install-browser); OVERSIGHT_CHROMIUM names another.
CHROMIUM = Path(os.environ.get("OVERSIGHT_CHROMIUM", "/usr/bin/chromium"))
#: Headless, and none of Chromium's own traffic (updates, sync, field trials): on a closed
#: network those connections are refused, and offline means no other host at all.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
#: Where the page finds the graphql-ws client: a path on the server's own origin that the
#: test answers from the example's node_modules.
VENDOR = "/__test__/graphql-ws/"


@pytest.fixture
def chromium(tmp_path: Path) -> Iterator[BrowserContext]:
    """Chromium, headless, on a fresh profile."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"no {CHROMIUM}: `make test` installs it (scripts/install-browser)")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=str(CHROMIUM),
            headless=True, args=CHROMIUM_ARGS,
        )  # fmt: skip
        context.set_default_timeout(PATIENCE_SECONDS * 1000)  # a bound against a hang
        try:
            yield context
        finally:
            context.close()


class Offline:
    """Every request of the browser, seen: the server's origin passes (the graphql-ws
    client answered from disk), any other host is aborted and remembered."""

    def __init__(self, origin: str, graphql_ws: Path) -> None:
        self.origin = origin
        self.graphql_ws = graphql_ws
        self.passed: list[str] = []
        self.elsewhere: list[str] = []

    def route(self, route: Route) -> None:
        url = urlsplit(route.request.url)
        if f"{url.scheme}://{url.netloc}" != self.origin:
            self.elsewhere.append(route.request.url)
            route.abort("blockedbyclient")
            return
        self.passed.append(url.path)
        if url.path.startswith(VENDOR):
            name = url.path.removeprefix(VENDOR)
            served = self.graphql_ws / name
            if "/" in name or not served.is_file():
                route.fulfill(status=404)
            else:
                route.fulfill(path=served, content_type="text/javascript; charset=utf-8")
        else:
            route.continue_()


def _post(server: Server, token: str, query: str, variables: dict[str, Any]) -> Any:
    """Another request: over HTTP, not through the page."""
    return httpx.post(
        f"{server.url}/graphql", json={"query": query, "variables": variables},
        headers={"authorization": f"Bearer {token}"}, timeout=PATIENCE_SECONDS,
    ).json()  # fmt: skip


def _editor(page: Page, selector: str) -> str:
    """A GraphiQL editor's text, from its CodeMirror instance."""
    return str(page.evaluate("(s) => document.querySelector(s).CodeMirror.getValue()", selector))


QUERY = "{ viewer { staffId role localAuthority { name pack } } }"
QUERY_EDITOR = ".graphiql-query-editor .CodeMirror"
HEADERS_EDITOR = ".graphiql-editor-tool .CodeMirror"
RESULT = ".result-window .CodeMirror"


def test_graphiql_offline_and_a_subscription_in_the_browser(
    server: Server, chromium: BrowserContext, tmp_path: Path
) -> None:
    offline = Offline(server.url, example_tools() / "graphql-ws" / "dist")
    chromium.route("**/*", offline.route)
    page = chromium.pages[0] if chromium.pages else chromium.new_page()
    sockets: list[str] = []
    page.on("websocket", lambda socket: sockets.append(socket.url))
    failures: list[str] = []
    page.on("pageerror", lambda error: failures.append(str(error)))
    manager = server.token("SM1", Role.SERVICE_MANAGER)
    graphql_ws_url = server.url.replace("http", "ws", 1) + "/graphql"

    # GraphiQL, from the API itself.
    page.goto(f"{server.url}/graphql")
    page.wait_for_selector(QUERY_EDITOR)
    assert page.title() == "Case oversight API: GraphiQL"
    # The token typed into its Headers tab, the query into its editor; run from its toolbar.
    page.get_by_role("button", name="Headers").click()
    page.locator(HEADERS_EDITOR).last.click()
    page.keyboard.type(json.dumps({"Authorization": f"Bearer {manager}"}))
    page.locator(QUERY_EDITOR).click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.type(QUERY)
    assert _editor(page, QUERY_EDITOR) == QUERY
    page.get_by_role("button", name="Prettify query").click()
    assert _editor(page, QUERY_EDITOR).startswith("{\n  viewer {\n    staffId\n")
    page.locator(".graphiql-execute-button").click()
    page.wait_for_function(
        "(s) => document.querySelector(s)?.CodeMirror.getValue().includes('data')", arg=RESULT
    )
    page.screenshot(path=tmp_path / "graphiql.png")  # to look at when it fails
    assert json.loads(_editor(page, RESULT)) == {"data": {"viewer": {
        "staffId": "SM1", "role": "SERVICE_MANAGER",
        "localAuthority": {"name": "API-LA Council", "pack": "DUR"}}}}  # fmt: skip

    # In the page: graphql-ws, the example's subscription, the token in connection_init.
    page.evaluate(SUBSCRIBE, {
        "module": f"{VENDOR}client.js", "url": graphql_ws_url, "token": manager,
        "query": operation("audit-trail.graphql"),
        "variables": {"childId": "C1", "purpose": "live review"},
    })  # fmt: skip
    page.wait_for_function("() => window.trail.entries.length || window.trail.errors.length")
    opened = page.evaluate("() => window.trail")
    assert opened["errors"] == [], opened
    assert opened["entries"][0]["summary"] == "Child C1 registered: cin, medium risk", opened

    # Other requests: the child's social worker raises an oversight trigger, and their team
    # manager answers it with a management oversight (the example's own mutation).
    triggered = _post(server, server.token("SW1", Role.PRACTITIONER), TRIGGER, {})
    trigger = triggered["data"]["triggerOversight"]
    assert trigger["__typename"] == "CommandSuccess", triggered
    recorded = _post(
        server, server.token("TM1", Role.TEAM_MANAGER),
        operation("record-management-oversight.graphql"),
        {"idempotencyKey": "browser-oversight-1", "input": OVERSIGHT},
    )  # fmt: skip
    oversight = recorded["data"]["recordManagementOversight"]
    assert oversight["__typename"] == "CommandSuccess", recorded
    assert oversight["replayed"] is False

    # Both arrive in the page, as their requests recorded them.
    page.wait_for_function(
        "(p) => window.trail.errors.length || window.trail.entries.some((e) => e.position === p)",
        arg=oversight["position"],
    )
    trail = page.evaluate("() => window.trail")
    assert trail["errors"] == [], trail
    arrived = {entry["position"]: entry for entry in trail["entries"]}
    assert arrived[trigger["position"]]["actorId"] == "SW1", trail
    assert arrived[oversight["position"]]["actorId"] == "TM1", trail
    assert "MO-BROWSER-1" in arrived[oversight["position"]]["summary"], trail

    # Offline: nothing was asked of any other host; what the page did ask, the server (or
    # the test, for graphql-ws) answered; the one socket was the server's.
    assert offline.elsewhere == []
    assert {"/graphql", "/ide/graphiql.min.js", f"{VENDOR}client.js"} <= set(offline.passed)
    assert sockets == [graphql_ws_url]
    assert failures == []
    # And the guard would have seen one: a request to another host is caught and refused.
    probe = "https://cdn.invalid/graphql-ws.js"
    refused = page.evaluate("(u) => fetch(u).then(() => 'fetched', () => 'refused')", probe)
    assert (refused, offline.elsewhere) == ("refused", [probe])


#: Loads the graphql-ws client as an ES module and subscribes; what arrives is kept on
#: ``window.trail`` for the test to read.
SUBSCRIBE = """async ({ module, url, token, query, variables }) => {
  const { createClient } = await import(module);
  window.trail = { entries: [], errors: [] };
  const client = createClient({ url, connectionParams: { Authorization: `Bearer ${token}` } });
  client.subscribe({ query, variables }, {
    next: (result) => result.errors
      ? window.trail.errors.push(JSON.stringify(result.errors))
      : window.trail.entries.push(result.data.auditTrail.node),
    error: (error) => window.trail.errors.push(String(error.reason ?? error)),
    complete: () => {},
  });
}"""

TRIGGER = """mutation { triggerOversight(idempotencyKey: "browser-trigger-1", input: {
  childId: "C1", triggerId: "T-BROWSER-1", kind: "court_direction", detail: "ICO"}) {
    __typename ... on CommandSuccess { position } } }"""
OVERSIGHT = {
    "childId": "C1", "entryId": "MO-BROWSER-1", "answersTriggerIds": ["T-BROWSER-1"],
    "reason": "Oversight asked for by a court direction", "currentSituation": "Settled at home",
    "decision": "Continue the child in need plan", "rationale": "Needs met; risk stable",
    "actions": [{"actionId": "A-BROWSER-1", "description": "Visit the child at school",
                 "owner": "SW1", "dueOn": "2030-01-31"}],
}  # fmt: skip

"""The ASGI application: Starlette, the GraphQL endpoint, authentication and limits.

- ``POST /graphql`` (and the IDE on ``GET`` where enabled); ``GET /healthz`` (alive),
  ``GET /readyz`` (ready to serve: 200, or 503 naming what is not) and ``GET /metrics``
  (Prometheus) for the platform (docs/operations.md, ADR 0031).
- Every request has an id (``X-Request-ID``, or one made here, echoed in the answer) that
  every log line of the request carries, with the caller's person id and authority.
- A bearer token, when sent, must verify (401 otherwise, with ``WWW-Authenticate``).
  Without one, only introspection answers: every field needs a principal.
- Limits: request body size, query depth, aliases and tokens; page sizes in the schema.
- Errors: domain errors and validation messages are shown, typed by ``extensions.code``;
  anything unexpected is masked (its detail goes to the log, never to the client).
- Responses are ``application/graphql-response+json`` when the client accepts it, and a
  request error (no ``data``: unparsable, invalid) is HTTP 400 (GraphQL over HTTP); an
  answer whose every error is ``UNAUTHENTICATED`` and that has no data is HTTP 401.
- Every error's ``extensions.code`` is from one documented set (``graphql_api.codes``,
  docs/api-errors.md), the transport's own refusals too; a 405 says what is ``Allow``ed.
- Cross-origin requests from the configured origins only (``Cors``; ADR 0027), and the
  IDE from this package's own copy of GraphiQL (``/ide/``), so it works offline.
"""

from __future__ import annotations

import json
import logging
import math
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import structlog
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.registry import Collector
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.extensions import DisableIntrospection
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.types.unset import UNSET

from application import metrics
from domain.authorization import Principal
from graphql_api import unavailable
from graphql_api.auth import AuthenticationFailed, TokenVerifier
from graphql_api.codes import (
    BAD_USER_INPUT,
    FORBIDDEN,
    NOT_FOUND,
    OVER_HTTP,
    UNAUTHENTICATED,
    typed,
)
from graphql_api.gate import BoundedDocuments, DocumentGate
from graphql_api.limits import (
    LIMITED,
    Limits,
    PersistedDocuments,
    RateLimiter,
    RequestRefused,
    load_body,
    variables_too_deep,
)
from graphql_api.schema import Context, build_schema
from graphql_api.service import Service, ServiceRoutes

log = logging.getLogger(__name__)
#: One line per HTTP request: method, route (never its query), status and duration. Not
#: under ``graphql_api``: that logger's lines are the error contract's (docs/api-errors.md).
access_log = logging.getLogger("access")
#: Where every error the API sends is logged, one line each (docs/api-errors.md).
errors_log = logging.getLogger("graphql_api.errors")

GRAPHQL_RESPONSE = "application/graphql-response+json"
_QUOTED = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'[^']*'|`[^`]*`")
#: This package's copy of GraphiQL (VERSIONS there says where from); its page is ide.html.
IDE_ASSETS = Path(__file__).parent / "static" / "graphiql"


@dataclass(frozen=True)
class Cors:
    """Which browser origins may call the API (CORS): exact origins, and a pattern for
    development's any-port localhost. None by default: a browser on another origin is
    refused unless the deployment names it (``OVERSIGHT_CORS_ORIGINS``)."""

    origins: tuple[str, ...] = ()
    origin_pattern: str | None = None


class OversightGraphQL(GraphQL[Context, None]):
    def __init__(
        self,
        service: Service,
        limits: Limits,
        verifier: TokenVerifier,
        routes: ServiceRoutes | None = None,
    ) -> None:
        # Factories: a fresh extension per request. Parsing, limits and validation are
        # the gate's, in its own threads; it keeps the verdicts of the texts it has seen
        # (front ends send the same documents again and again: ADR 0011, ADR 0017).
        gate: list[DocumentGate] = []  # made once the schema exists
        extensions: list[Any] = [lambda: BoundedDocuments(gate[0])]
        if not limits.introspection:
            extensions.append(DisableIntrospection)
        schema = build_schema(extensions)
        self.gate = DocumentGate(schema._schema, limits)
        gate.append(self.gate)
        self.persisted = PersistedDocuments(limits)
        self.limits = limits
        super().__init__(
            schema,
            graphql_ide="graphiql" if limits.ide else None,
            allow_queries_via_get=False,
        )
        self.service = service
        self.verifier = verifier
        self.routes = routes

    def service_of(self, principal: Principal | None) -> Service:
        """The service of the caller's authority's database (ADR 0033); ``service``
        when one database holds every authority, or for a caller with no token (who
        reads nothing but the schema). ``Authenticate`` has refused an unrouted one."""
        if self.routes is None or principal is None:
            return self.service
        routed = self.routes.service_for(principal.authority_code)
        if routed is None:  # Authenticate refuses these first: never the default store
            raise RequestRefused(403, FORBIDDEN, UNROUTED, rule=TENANCY_RULE)
        return routed

    @property
    def graphql_ide_html(self) -> str:
        """The IDE's page, loading GraphiQL from ``/ide/`` (never a CDN: ADR 0027)."""
        return (IDE_ASSETS.parent / "ide.html").read_text(encoding="utf-8")

    def encode_json(self, data: object) -> str:
        """An answer as compact JSON, by orjson: a child's history of fifty events took
        32 µs by stdlib ``json`` and 2 µs by orjson (issue 18, session 15). Text, not
        bytes, so that a subscription's messages stay WebSocket text frames; what orjson
        cannot write (an integer past 64 bits) by ``json``, as strawberry would."""
        try:
            return orjson.dumps(data).decode()
        except TypeError:
            return json.dumps(data, separators=(",", ":"))

    def decode_json(self, data: str | bytes) -> object:
        """The body as JSON, within the nesting limit; not JSON (or not UTF-8) is the
        client's 400, never our 500."""
        return load_body(data, self.limits)

    async def parse_http_body(self, request: Any) -> GraphQLRequestData | list[GraphQLRequestData]:
        parsed = await super().parse_http_body(request)
        for data in parsed if isinstance(parsed, list) else [parsed]:
            if data.variables is not None and variables_too_deep(data.variables, self.limits):
                raise RequestRefused(
                    400, LIMITED,
                    f"variables nest deeper than {self.limits.max_variables_depth} levels",
                    limit="variablesDepth",
                )  # fmt: skip
            data.query = self.persisted.resolve(data.query, data.extensions)
        return parsed

    async def run(
        self, request: Request | WebSocket, context: Any = UNSET, root_value: Any = UNSET
    ) -> Any:
        try:
            return await super().run(request, context, root_value)
        except RequestRefused as refused:
            accepts = GRAPHQL_RESPONSE in request.headers.get("accept", "")
            return _refusal(refused, GRAPHQL_RESPONSE if accepts else "application/json")

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        principal = request.scope.get("principal")
        return Context(service=self.service_of(principal), principal=principal)

    async def on_ws_connect(self, context: Context) -> Any:
        """A subscription's token may come in ``connection_init`` (browsers cannot set
        headers on a WebSocket): verified like a header; a bad one closes with 4403."""
        token = str((context.connection_params or {}).get("Authorization", ""))
        if context.principal is None and token:
            scheme, _, value = token.partition(" ")
            try:
                if scheme.lower() != "bearer":
                    raise AuthenticationFailed("use the Bearer scheme")
                context.principal = self.verifier.verify(value.strip())
            except AuthenticationFailed:
                raise ConnectionRejectionError({"code": "UNAUTHENTICATED"}) from None
            if not routed(self.routes, context.principal):
                raise ConnectionRejectionError({"code": FORBIDDEN})
            context.service = self.service_of(context.principal)
        return UNSET

    def create_response(
        self, response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse], sub_response: Response
    ) -> Response:
        single = response_data if isinstance(response_data, Mapping) else None
        errors = (
            [e for e in (single.get("errors") or []) if isinstance(e, Mapping)] if single else []
        )
        request_error = (
            single is not None
            and single.get("data") is None
            and bool(errors)
            and not any(error.get("path") for error in errors)
        )
        if request_error and single is not None:
            # Unparsable or invalid: nothing executed, so no data entry at all.
            response_data = {k: v for k, v in single.items() if k != "data"}  # type: ignore[assignment]
        response = super().create_response(response_data, sub_response)
        if request_error:
            response.status_code = 400
        codes = {(error.get("extensions") or {}).get("code") for error in errors}
        if (
            single is not None
            and codes == {UNAUTHENTICATED}
            and not any((single.get("data") or {}).values())
        ):
            # Nothing answered, for want of a token: the transport says so (RFC 6750).
            response.status_code = 401
            response.headers["www-authenticate"] = "Bearer"
        if codes & unavailable.CODES:
            # Storage cannot serve it: the transport says so too (issue 8).
            response.status_code = 503
            response.headers["retry-after"] = str(unavailable.RETRY_AFTER_SECONDS)
        response.headers["content-type"] = GRAPHQL_RESPONSE
        return response


#: Refusing a token whose authority no database of this API holds (ADR 0033).
TENANCY_RULE = "TENANCY"
UNROUTED = "no database of this service holds your authority"


def routed(routes: ServiceRoutes | None, principal: Principal | None) -> bool:
    """Whether a database here holds the principal's authority (always, unrouted)."""
    return (
        routes is None
        or principal is None
        or (routes.service_for(principal.authority_code) is not None)
    )


class Authenticate:
    """Verify the bearer token, if any, before the request reaches GraphQL; with
    several databases, refuse (403) a token of an authority none of them holds."""

    def __init__(
        self,
        app: ASGIApp,
        verifier: TokenVerifier,
        limits: Limits,
        routes: ServiceRoutes | None = None,
    ) -> None:
        self.app = app
        self.verifier = verifier
        self.limits = limits
        self.routes = routes
        self.rates = (
            RateLimiter(limits.rate_per_second, limits.rate_burst)
            if limits.rate_per_second
            else None
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        length = headers.get("content-length")
        if length is not None and (
            not length.isdigit() or int(length) > self.limits.max_body_bytes
        ):
            await _too_large(self.limits)(scope, receive, send)
            return
        authorization = headers.get("authorization")
        if authorization is not None:
            scheme, _, token = authorization.partition(" ")
            try:
                if scheme.lower() != "bearer" or not token.strip():
                    raise AuthenticationFailed("use the Bearer scheme")
                verified = self.verifier.verify(token.strip())
                scope["principal"] = verified
                # The person id and authority from the token, never a name (ADR 0031).
                structlog.contextvars.bind_contextvars(
                    user=verified.staff_id, authority=verified.authority_code
                )
            except AuthenticationFailed as error:
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 4401})
                    return
                response = _problem(401, error.code, error.reason)
                response.headers["www-authenticate"] = 'Bearer error="invalid_token"'
                await response(scope, receive, send)
                return
            if not routed(self.routes, verified):
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 4403})
                    return
                await _problem(403, FORBIDDEN, UNROUTED, rule=TENANCY_RULE)(scope, receive, send)
                return
        if self.rates is not None and scope.get("path") == "/graphql":
            principal = scope.get("principal")
            key = (
                f"{principal.authority_code}/{principal.staff_id}"
                if principal is not None
                else f"address/{(scope.get('client') or ('-',))[0]}"
            )
            wait = self.rates.take(key)
            if wait > 0:
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 4429})
                    return
                response = _problem(
                    429, LIMITED, "too many requests: slow down and retry", limit="rate"
                )
                response.headers["retry-after"] = str(max(1, math.ceil(wait)))
                await response(scope, receive, send)
                return
        if scope["type"] == "http" and GRAPHQL_RESPONSE not in headers.get("accept", ""):
            send = _legacy_json(send)
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # A chunked body has no Content-Length: count what arrives, and stop at the limit.
        limit = self.limits.max_body_bytes
        received = 0
        started = False

        async def counted() -> Any:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge
            return message

        async def tracked(message: Any) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except _TooLarge:
            if started:
                raise
            await _too_large(self.limits)(scope, receive, send)


class _TooLarge(Exception):
    """The request body passed the limit while it was being read."""


#: A request id a client may choose: short, and nothing a log line could be forged with.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
REQUEST_ID_HEADER = "x-request-id"


def request_id_of(headers: Sequence[tuple[bytes, bytes]]) -> str:
    """The client's ``X-Request-ID`` if it is a plain token, else a new one."""
    for name, value in headers:
        if name.lower() == REQUEST_ID_HEADER.encode():
            given = value.decode("latin-1")
            if _REQUEST_ID.fullmatch(given):
                return given
    return uuid.uuid4().hex


class RequestContext:
    """The outermost layer: the request's id, bound to every log line the request
    makes (with the caller's person id and authority once the token is verified) and
    echoed in ``X-Request-ID``; one access line when the answer is sent."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(scope["headers"])
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id, user="-", authority="-")
        started = time.perf_counter()
        status = [0]

        async def identified(message: Any) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                message = {
                    **message,
                    "headers": [
                        *message.get("headers", []),
                        (REQUEST_ID_HEADER.encode(), request_id.encode()),
                    ],
                }
            await send(message)

        try:
            await self.app(scope, receive, identified)
        finally:
            access_log.info(
                "http.request method=%s path=%s status=%d duration_ms=%.1f",
                scope.get("method", "WEBSOCKET"), _route_of(scope.get("path", "")), status[0],
                (time.perf_counter() - started) * 1000,
            )  # fmt: skip


#: The paths this app serves; any other is logged as ``other`` (a path is the client's text).
_ROUTES = frozenset({"/graphql", "/healthz", "/readyz", "/metrics"})


def _route_of(path: str) -> str:
    if path in _ROUTES:
        return path
    return "/ide/…" if path.startswith("/ide/") else "other"


class TypedTransportErrors:
    """The outermost layer: a 4xx in plain text from anything inside (strawberry on a
    body it cannot read, the router's 404 and 405, CORS refusing a preflight) is sent as
    every other error is sent, JSON with a code from the documented set."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            accept = b""
            for name, value in scope["headers"]:
                if name.lower() == b"accept":
                    accept = value
            media_type = GRAPHQL_RESPONSE if GRAPHQL_RESPONSE.encode() in accept else None
            send = _typed_request_errors(send, media_type or "application/json")
        await self.app(scope, receive, send)


class CrossOrigin(CORSMiddleware):
    """Starlette's CORS, with a refused preflight typed as every refusal is: FORBIDDEN
    (403), citing CORS, with the headers CORS gave it."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        refused = _problem(403, FORBIDDEN, "this origin may not call the API", rule="CORS")
        for name in ("vary",):
            if name in response.headers:
                refused.headers[name] = response.headers[name]
        return refused


#: What each plain-text 4xx is, in the documented set; any other is the caller's input.
_TRANSPORT_CODES = {401: UNAUTHENTICATED, 404: NOT_FOUND, 413: LIMITED}
#: Headers a refusal keeps (a 405's ``Allow``, CORS's ``Vary``) besides its new body's.
_KEPT = (b"allow", b"vary", b"www-authenticate", b"retry-after")


def _typed_request_errors(send: Send, media_type: str) -> Send:
    """The GraphQL layer answers a body it cannot read (not JSON, not UTF-8, no query)
    with a 4xx in plain text: send it as every other error is sent, JSON with a code."""
    held: dict[str, Any] = {}

    async def typed_send(message: Any) -> None:
        if message["type"] == "http.response.start":
            content_type = dict(message.get("headers", [])).get(b"content-type", b"")
            if 400 <= message["status"] < 500 and content_type.startswith(b"text/plain"):
                held["start"] = message
                held["body"] = b""
                return
        elif message["type"] == "http.response.body" and "start" in held:
            held["body"] += message.get("body", b"")
            if message.get("more_body"):
                return
            reason = held["body"].decode("utf-8", "replace") or "the request cannot be read"
            # strawberry's own texts quote the request ("Unknown operation named ..."):
            # the client knows what it sent, and nothing of it is sent back.
            reason = _QUOTED.sub("…", reason)
            status = held["start"]["status"]
            code = _TRANSPORT_CODES.get(status, BAD_USER_INPUT)
            extensions = typed(code, rule=OVER_HTTP) if code == BAD_USER_INPUT else typed(code)
            logged_refusal(status, extensions)
            body = json.dumps({"errors": [{"message": reason, "extensions": extensions}]}).encode()
            kept = [
                (name, value)
                for name, value in held["start"].get("headers", [])
                if name.lower() in _KEPT
            ]
            await send(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": [
                        *kept,
                        (b"content-type", media_type.encode()),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        await send(message)

    return typed_send


def _legacy_json(send: Send) -> Send:
    """A client that does not accept ``application/graphql-response+json`` gets
    ``application/json``, and a GraphQL request error with status 200 (GraphQL over
    HTTP, legacy clients); a body that is not a GraphQL request stays a 4xx."""

    async def legacy(message: Any) -> None:
        if message["type"] == "http.response.start":
            headers = [
                (name, value)
                for name, value in message.get("headers", [])
                if name.lower() != b"content-type"
            ]
            original = dict(message.get("headers", [])).get(b"content-type", b"")
            if original.startswith(GRAPHQL_RESPONSE.encode()):
                headers.append((b"content-type", b"application/json"))
                status = 200 if message["status"] == 400 else message["status"]
                message = {**message, "status": status, "headers": headers}
        await send(message)

    return legacy


def logged_refusal(status: int, extensions: Mapping[str, Any]) -> None:
    """A refusal made before GraphQL, logged as the GraphQL layer logs its errors: one
    line, no traceback, nothing of the request but its status."""
    metrics.count_error(str(extensions.get("code")))
    errors_log.info(
        "graphql.error code=%s correlation=%s operation=- document=- path=- status=%d%s%s",
        extensions.get("code"), uuid.uuid4().hex, status,
        f" limit={extensions['limit']}" if "limit" in extensions else "",
        f" rule={extensions['rule']}" if "rule" in extensions else "",
    )  # fmt: skip


def _problem(status: int, code: str, message: str, **extensions: Any) -> JSONResponse:
    logged_refusal(status, typed(code, **extensions))
    return JSONResponse(
        {
            "errors": [
                {
                    "message": message,
                    "extensions": typed(code, **extensions),
                }
            ]
        },
        status_code=status,
        media_type=GRAPHQL_RESPONSE,
    )


def _too_large(limits: Limits) -> JSONResponse:
    return _problem(
        413, LIMITED, f"the request body is larger than {limits.max_body_bytes} bytes",
        limit="bodyBytes",
    )  # fmt: skip


def _refusal(refused: RequestRefused, media_type: str) -> Response:
    """A request refused before GraphQL: a typed error; no ``data`` (nothing ran)."""
    extensions = typed(refused.code, **refused.extensions)
    logged_refusal(refused.status, extensions)
    body = json.dumps({"errors": [{"message": refused.message, "extensions": extensions}]})
    return Response(
        body, status_code=refused.status, media_type=media_type, headers=refused.headers
    )


#: What is not ready, by name (a database, the schema, a projection): empty when ready.
Readiness = Callable[[], Mapping[str, str]]


@dataclass(frozen=True)
class Monitoring:
    """What the platform's probes and scrapes read (docs/operations.md, Monitoring):
    ``readiness`` for ``/readyz``; ``collectors`` read at each scrape of ``/metrics``
    besides the process's own metrics (projection lag, purge counts); ``metrics`` off
    serves no ``/metrics`` at all."""

    readiness: Readiness | None = None
    collectors: Sequence[Collector] = ()
    metrics: bool = True


def metrics_registry(collectors: Sequence[Collector]) -> CollectorRegistry:
    """The process's registry and this app's readings, exposed together."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Shared())
    for collector in collectors:
        registry.register(collector)
    return registry


class _Shared(Collector):
    def collect(self) -> Any:
        return metrics.REGISTRY.collect()


def create_app(
    service: Service,
    verifier: TokenVerifier,
    limits: Limits | None = None,
    lifespan: Any = None,
    cors: Cors | None = None,
    monitoring: Monitoring | None = None,
    routing: ServiceRoutes | None = None,
) -> Starlette:
    """The API; with ``routing``, each caller is served by their authority's database's
    service (ADR 0033), and ``service`` only answers callers without a token."""
    chosen = limits or Limits()
    graphql = OversightGraphQL(service, chosen, verifier, routing)
    origins = cors or Cors()
    watched = monitoring or Monitoring()
    registry = metrics_registry(watched.collectors)

    async def healthz(request: Request) -> Response:
        """Alive: the process answers (nothing else is asked of it)."""
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        """Ready: each check passes; 503 naming those that do not."""
        if watched.readiness is None:
            return JSONResponse({"status": "ready"})
        problems = dict(await run_in_threadpool(watched.readiness))
        if problems:
            return JSONResponse({"status": "not ready", "problems": problems}, status_code=503)
        return JSONResponse({"status": "ready"})

    async def metrics_page(request: Request) -> Response:
        body = await run_in_threadpool(generate_latest, registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    @asynccontextmanager
    async def no_lifespan(app: Starlette) -> AsyncIterator[None]:
        yield

    routes: list[BaseRoute] = [
        Route("/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
    ]
    if watched.metrics:
        routes.append(Route("/metrics", metrics_page))
    if chosen.ide:
        routes.append(Mount("/ide", app=StaticFiles(directory=IDE_ASSETS), name="ide"))
    return Starlette(
        routes=routes,
        middleware=[
            # Outermost first: the request's id for every line and answer; typed errors
            # for all; CORS headers on every answer, refusals included (a browser cannot
            # read a 401 without them).
            Middleware(RequestContext),
            Middleware(TypedTransportErrors),
            Middleware(
                CrossOrigin,
                allow_origins=list(origins.origins),
                allow_origin_regex=origins.origin_pattern,
                allow_methods=["GET", "POST"],
                allow_headers=["authorization", "content-type", "accept"],
                expose_headers=["retry-after", "www-authenticate", REQUEST_ID_HEADER],
                max_age=600,
            ),
            Middleware(Authenticate, verifier=verifier, limits=chosen, routes=routing),
        ],
        lifespan=lifespan or no_lifespan,
    )

"""Settings from the environment. One setting chooses the store: ``OVERSIGHT_DATABASE_URL``.

- ``sqlite:///oversight.sqlite3`` (the embedded default; a relative path is relative to
  the working directory) or ``sqlite:////absolute/path.sqlite3``
- ``postgresql://user:password@host:5432/dbname`` (production; psycopg 3)
- ``postgresql://user@host1:5432,host2:5432/dbname?target_session_attrs=read-write``
  (a primary and its standbys, the form ``pg_autoctl show uri`` gives: libpq connects to
  whichever host takes writes, so a failover needs no change here; ADR 0034)

One process may serve several authorities, each in its own database (ADR 0014 step 1,
ADR 0033): ``OVERSIGHT_AUTHORITY_DATABASES`` names a TOML file routing each authority
code to its database URL (``AuthorityDatabases``). Without it, every authority is in
``OVERSIGHT_DATABASE_URL``, as before.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

DEFAULT_DATABASE_URL = "sqlite:///oversight.sqlite3"

#: The libpq parameters a PostgreSQL URL may carry, with the values each takes: those
#: ``pg_autoctl show uri`` writes (ADR 0034). Any other parameter is refused.
LIBPQ_PARAMETERS: dict[str, tuple[str, ...]] = {
    "target_session_attrs": (
        "any", "read-write", "read-only", "primary", "standby", "prefer-standby"
    ),
    "sslmode": ("disable", "allow", "prefer", "require", "verify-ca", "verify-full"),
}  # fmt: skip


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names it."""


@dataclass(frozen=True)
class DatabaseSettings:
    url: str
    backend: str  # "sqlite" | "postgresql"
    sqlite_path: str | None = None
    host: str | None = None
    port: int | None = None
    user: str | None = None
    password: str | None = None
    dbname: str | None = None
    schema: str = "public"
    pool_size: int = 5
    #: Every (host, port) of the URL, in order; ``host``/``port`` are the first.
    hosts: tuple[tuple[str, int], ...] = ()
    #: The URL's libpq parameters (``LIBPQ_PARAMETERS``), passed to every connection.
    options: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_url(cls, url: str, *, pool_size: int = 5) -> DatabaseSettings:
        parts = urlsplit(url)
        scheme = parts.scheme.split("+", 1)[0]
        if scheme == "sqlite":
            path = url.split("://", 1)[1]
            if not path.startswith("/"):
                raise SettingsError(
                    "OVERSIGHT_DATABASE_URL: a SQLite URL is sqlite:///relative/path or "
                    "sqlite:////absolute/path"
                )
            path = path[1:]
            if not path or path == ":memory:":
                raise SettingsError(
                    "OVERSIGHT_DATABASE_URL: give a SQLite file; an in-memory database "
                    "cannot be shared with the migration step"
                )
            return cls(url=url, backend="sqlite", sqlite_path=str(Path(path)))
        if scheme in ("postgresql", "postgres"):
            userinfo, _, hostlist = parts.netloc.rpartition("@")
            hosts = _hosts(hostlist)
            if not hosts or not parts.path.strip("/"):
                raise SettingsError(
                    "OVERSIGHT_DATABASE_URL: a PostgreSQL URL needs a host and a database "
                    "name: postgresql://user:password@host:5432/dbname (or several hosts: "
                    "host1:5432,host2:5432)"
                )
            user, _, password = userinfo.partition(":")
            return cls(
                url=url,
                backend="postgresql",
                host=hosts[0][0],
                port=hosts[0][1],
                user=unquote(user or "postgres"),
                password=unquote(password),
                dbname=parts.path.strip("/"),
                pool_size=pool_size,
                hosts=hosts,
                options=_libpq_options(parts.query),
            )
        raise SettingsError(
            f"OVERSIGHT_DATABASE_URL: unsupported scheme {parts.scheme!r}; "
            "use sqlite:/// or postgresql://"
        )

    def sqlalchemy_url(self) -> str:
        if self.backend == "sqlite":
            return f"sqlite:///{self.sqlite_path}"
        auth = self.user or "postgres"
        if self.password:
            from urllib.parse import quote

            auth += ":" + quote(self.password, safe="")
        if len(self.hosts) > 1 or self.options:
            # SQLAlchemy's form for several hosts: each a ``host`` parameter.
            query = [("host", f"{h}:{p}") for h, p in self.hosts] + list(self.options)
            return f"postgresql+psycopg://{auth}@/{self.dbname}?{urlencode(query)}"
        return f"postgresql+psycopg://{auth}@{self.host}:{self.port}/{self.dbname}"

    @property
    def libpq_host(self) -> str:
        """The hosts as libpq takes them: ``host1,host2`` (with ``libpq_port``)."""
        return ",".join(h for h, _ in self.hosts) if self.hosts else self.host or ""

    @property
    def libpq_port(self) -> str:
        return ",".join(str(p) for _, p in self.hosts) if self.hosts else str(self.port)

    def eventsourcing_env(self) -> dict[str, str]:
        """The library's environment for this store. Tables come from migrations only."""
        env = {"CREATE_TABLE": "false", "IS_SNAPSHOTTING_ENABLED": "false"}
        if self.backend == "sqlite":
            assert self.sqlite_path is not None
            env.update(
                PERSISTENCE_MODULE="eventsourcing.sqlite",
                SQLITE_DBNAME=self.sqlite_path,
                SQLITE_LOCK_TIMEOUT="30",
                APPLICATION_RECORDER_TOPIC="oversight.eventstore:SQLiteOversightRecorder",
            )
        else:
            env.update(
                PERSISTENCE_MODULE="eventsourcing.postgres",
                POSTGRES_HOST=self.libpq_host,
                POSTGRES_PORT=self.libpq_port,
                POSTGRES_USER=self.user or "",
                POSTGRES_PASSWORD=self.password or "",
                POSTGRES_DBNAME=self.dbname or "",
                POSTGRES_SCHEMA=self.schema,
                POSTGRES_POOL_SIZE=str(self.pool_size),
                POSTGRES_MAX_OVERFLOW="10",
                POSTGRES_CONNECT_TIMEOUT="2",
                POSTGRES_LOCK_TIMEOUT="10",
                POSTGRES_PRE_PING="y",
                APPLICATION_RECORDER_TOPIC="oversight.eventstore:PostgresOversightRecorder",
            )
            if self.options:  # the library's factory passes no other libpq parameter
                env["PERSISTENCE_MODULE"] = "oversight.failover:PostgresFactory"
                env["OVERSIGHT_LIBPQ_OPTIONS"] = urlencode(self.options)
        return env

    def same_store(self, other: DatabaseSettings) -> bool:
        """The same database, however its URL was spelt (two routes to one database)."""
        return self.sqlalchemy_url() == other.sqlalchemy_url()

    def redacted(self) -> str:
        """The URL as it may be shown (``projections status``, logs): no password."""
        return redact_url(self.url)


def redact_url(url: str) -> str:
    """``url`` with any password replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=f"{user}:***@{host}").geturl()


#: The routing table's file: authority code -> database URL (ADR 0033).
AUTHORITY_DATABASES_VARIABLE = "OVERSIGHT_AUTHORITY_DATABASES"


class UnroutedAuthority(SettingsError):
    """An authority the routing table does not name: no database holds it here."""

    def __init__(self, authority: str, source: Path) -> None:
        super().__init__(
            f"authority {authority!r} is not in the routing table {source} "
            f"({AUTHORITY_DATABASES_VARIABLE}): no database of this deployment holds it"
        )
        self.authority = authority


@dataclass(frozen=True)
class RoutedDatabase:
    """One database of the routing table and the authorities it holds, in file order."""

    database: DatabaseSettings
    authorities: tuple[str, ...]


@dataclass(frozen=True)
class AuthorityDatabases:
    """The routing table (ADR 0033): each authority code to its database. Authorities
    routed to the same URL share that database (its store, notification log, projections
    and leader locks); nothing is read or written across databases.

    The file, named by ``OVERSIGHT_AUTHORITY_DATABASES``, is TOML::

        [authorities]
        NORTH = "postgresql://oversight:secret@db-north:5432/oversight"
        SOUTH = "postgresql://oversight:secret@db-south:5432/oversight"
    """

    source: Path
    routes: Mapping[str, DatabaseSettings] = field(default_factory=dict)

    def database_of(self, authority: str) -> DatabaseSettings:
        """The authority's database; ``UnroutedAuthority`` when the table lacks it."""
        try:
            return self.routes[authority]
        except KeyError:
            raise UnroutedAuthority(authority, self.source) from None

    def databases(self) -> tuple[RoutedDatabase, ...]:
        """Each distinct database once, with its authorities, in the file's order."""
        grouped: list[tuple[DatabaseSettings, list[str]]] = []
        for authority, database in self.routes.items():
            for known, authorities in grouped:
                if known.same_store(database):
                    authorities.append(authority)
                    break
            else:
                grouped.append((database, [authority]))
        return tuple(RoutedDatabase(db, tuple(codes)) for db, codes in grouped)

    @classmethod
    def load(cls, path: Path, *, pool_size: int = 5) -> AuthorityDatabases:
        """Read and check the file: an error names the file, the line and the field."""
        from domain.identifiers import AUTHORITY_CODE

        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise SettingsError(
                f"{AUTHORITY_DATABASES_VARIABLE}: cannot read {path}: {error.strerror}"
            ) from None
        try:
            document: dict[str, Any] = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            reason = str(error)
            at = re.search(r"at line (\d+)", reason)
            line = int(at.group(1)) if at else max(1, len(text.splitlines()))
            raise SettingsError(f"{path}, line {line}: not TOML: {reason}") from None
        lines = text.splitlines()
        for key in document:
            if key != "authorities":
                raise SettingsError(
                    f"{path}, line {_line_of(lines, key)}, {key}: unknown; the file has "
                    "one table, [authorities], of authority code = database URL"
                )
        table = document.get("authorities")
        if not isinstance(table, dict) or not table:
            raise SettingsError(
                f"{path}, line {_line_of(lines, 'authorities')}, authorities: give an "
                '[authorities] table of at least one CODE = "database URL"'
            )
        routes: dict[str, DatabaseSettings] = {}
        for code, url in table.items():
            where = f"{path}, line {_line_of(lines, code, table=True)}, authorities.{code}"
            if not AUTHORITY_CODE.match(code):
                raise SettingsError(
                    f"{where}: not an authority code (capitals, digits, - or _, 2 to 32)"
                )
            if not isinstance(url, str):
                raise SettingsError(f'{where}: a database URL in quotes ("postgresql://...")')
            try:
                routes[code] = DatabaseSettings.from_url(url, pool_size=pool_size)
            except SettingsError as error:
                reason = str(error).removeprefix("OVERSIGHT_DATABASE_URL: ")
                raise SettingsError(f"{where}: {reason}") from None
        loaded = cls(source=path, routes=routes)
        backends = {each.database.backend for each in loaded.databases()}
        if len(backends) > 1:
            raise SettingsError(
                f"{path}, line {_line_of(lines, 'authorities')}, authorities: every "
                "database of one deployment is on the same backend (SQLite or PostgreSQL)"
            )
        return loaded


def _line_of(lines: list[str], key: str, *, table: bool = False) -> int:
    """The line (from 1) where ``key`` is defined or its table opens; 1 if not found."""
    quoted = re.escape(key)
    if table:
        pattern = re.compile(rf"^\s*(?:{quoted}|\"{quoted}\"|'{quoted}')\s*=")
    else:
        pattern = re.compile(rf"^\s*(?:\[+\s*{quoted}\s*\]+|{quoted}\s*=|{quoted}\.)")
    for number, line in enumerate(lines, start=1):
        if pattern.match(line):
            return number
    return 1


def _hosts(hostlist: str) -> tuple[tuple[str, int], ...]:
    """``host[:port]`` items, comma separated (an IPv6 address in brackets); port 5432
    where none is given. Empty when any host is missing."""
    found: list[tuple[str, int]] = []
    for item in hostlist.split(","):
        match = re.fullmatch(r"(\[[0-9A-Fa-f:.]+\]|[^:\[\]/]+)(?::([0-9]{1,5}))?", item)
        if not item or item.startswith(":"):
            return ()
        if match is None:
            raise SettingsError(
                f"OVERSIGHT_DATABASE_URL: {item[:80]!r} is not host:port (a port is a number)"
            )
        port = int(match.group(2) or 5432)
        if not 0 < port < 65536:
            raise SettingsError(f"OVERSIGHT_DATABASE_URL: port {port} is out of range")
        found.append((unquote(match.group(1).strip("[]")), port))
    return tuple(found)


def _libpq_options(query: str) -> tuple[tuple[str, str], ...]:
    """The URL's query: only ``LIBPQ_PARAMETERS``, each once, with a value it takes."""
    options: dict[str, str] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        allowed = LIBPQ_PARAMETERS.get(name)
        if allowed is None:
            raise SettingsError(
                f"OVERSIGHT_DATABASE_URL: the query parameter {name!r} is not supported "
                f"(only {', '.join(LIBPQ_PARAMETERS)}); the schema is always 'public' "
                "(one database per deployment or authority)"
            )
        if value not in allowed or name in options:
            raise SettingsError(
                f"OVERSIGHT_DATABASE_URL: {name}={value!r} is not one of "
                f"{', '.join(allowed)}, given once"
            )
        options[name] = value
    return tuple(options.items())


@dataclass(frozen=True)
class Settings:
    database: DatabaseSettings
    #: A PostgreSQL hot standby the API reads from (``OVERSIGHT_READ_DATABASE_URL``);
    #: writes, and the projection runners, always use ``database`` (the primary).
    read_database: DatabaseSettings | None = None
    #: The routing table, when ``OVERSIGHT_AUTHORITY_DATABASES`` names one (ADR 0033).
    routing: AuthorityDatabases | None = None

    @classmethod
    def from_env(
        cls, environ: dict[str, str] | None = None, *, authority: str | None = None
    ) -> Settings:
        """The settings; with a routing table and an ``authority`` (or, in a command
        of the CLI, its ``--authority``), ``database`` is that authority's."""
        env = dict(os.environ if environ is None else environ)
        url = env.get("OVERSIGHT_DATABASE_URL", DEFAULT_DATABASE_URL)
        pool = env.get("OVERSIGHT_DB_POOL_SIZE", "5")
        if not pool.isdigit() or int(pool) < 1:
            raise SettingsError("OVERSIGHT_DB_POOL_SIZE must be a positive integer")
        database = DatabaseSettings.from_url(url, pool_size=int(pool))
        read_url = env.get("OVERSIGHT_READ_DATABASE_URL", "")
        read = None
        if read_url:
            read = DatabaseSettings.from_url(read_url, pool_size=int(pool))
            if database.backend != "postgresql" or read.backend != "postgresql":
                raise SettingsError(
                    "OVERSIGHT_READ_DATABASE_URL: reads go to a standby of a PostgreSQL "
                    "primary; both URLs must be PostgreSQL"
                )
        routing_file = env.get(AUTHORITY_DATABASES_VARIABLE, "")
        if not routing_file:
            return cls(database=database, read_database=read)
        if read is not None:
            raise SettingsError(
                f"{AUTHORITY_DATABASES_VARIABLE} and OVERSIGHT_READ_DATABASE_URL: a standby "
                "for reads is for one database; with a routing table, reads go to each "
                "authority's database"
            )
        routing = AuthorityDatabases.load(Path(routing_file), pool_size=int(pool))
        chosen = authority if authority is not None else _command_authority(environ)
        if chosen is not None:
            try:
                database = routing.database_of(chosen)
            except UnroutedAuthority as error:
                if authority is None:  # the CLI's --authority: "not found" (exit 3)
                    from oversight.grammar import NotFoundError

                    raise NotFoundError(str(error)) from None
                raise
        return cls(database=database, routing=routing)

    @property
    def reads(self) -> DatabaseSettings:
        """Where the API reads: the standby if there is one, else the primary."""
        return self.read_database or self.database


def _command_authority(environ: Mapping[str, str] | None) -> str | None:
    """The running CLI command's ``--authority`` (or, under ``oversight authority``,
    its ``CODE``), if it has one: every command opens its store through
    ``Settings.from_env``, so this is where ``--authority`` picks the authority's
    database. None outside the CLI, and when settings are given explicitly."""
    if environ is not None:
        return None
    import click

    context = click.get_current_context(silent=True)
    if context is None:
        return None
    value = context.params.get("authority")
    if value is None and context.parent is not None and context.parent.info_name == "authority":
        # `oversight authority register CODE` / `adopt --code CODE`: the authority itself.
        value = context.params.get("code") or context.params.get("code_option")
    return value if isinstance(value, str) and value else None


#: The Ed25519 private key (PEM, PKCS 8) that signs the event log's checkpoints (ADR 0019).
LOG_SIGNING_KEY_VARIABLE = "OVERSIGHT_LOG_SIGNING_KEY_FILE"
DEVELOPMENT_LOG_SIGNING_KEY = Path(".oversight") / "log-signing-key.pem"


def log_signing_key_file(environ: dict[str, str] | None = None) -> Path | None:
    """Where the log's signing key is: ``OVERSIGHT_LOG_SIGNING_KEY_FILE``; with
    ``OVERSIGHT_ENV=development`` and none given, a key made once under ``.oversight/``;
    otherwise none (checkpoints cannot be signed)."""
    env = os.environ if environ is None else environ
    given = env.get(LOG_SIGNING_KEY_VARIABLE, "")
    if given:
        path = Path(given)
        if not path.is_file():
            raise SettingsError(f"{LOG_SIGNING_KEY_VARIABLE}: no file at {path}")
        return path
    if env.get("OVERSIGHT_ENV", "production") == "development":
        return DEVELOPMENT_LOG_SIGNING_KEY
    return None


def psycopg_conninfo(database: DatabaseSettings) -> str:
    """A libpq connection string for LISTEN and advisory locks (PostgreSQL only)."""
    from psycopg.conninfo import make_conninfo

    return make_conninfo(
        host=database.libpq_host,
        port=database.libpq_port,
        user=database.user,
        password=database.password or None,
        dbname=database.dbname,
        **dict(database.options),
    )


#: Which browser origins may call the API (CORS), comma separated: ``https://a.example``.
CORS_ORIGINS_VARIABLE = "OVERSIGHT_CORS_ORIGINS"
#: Development's default: a front end on localhost or 127.0.0.1, on any port.
DEVELOPMENT_ORIGIN_PATTERN = r"https?://(localhost|127\.0\.0\.1)(:[0-9]{1,5})?"
_ORIGIN = re.compile(
    r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?|https?://\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?"
)


@dataclass(frozen=True)
class CorsSettings:
    """The origins a browser may call the API from: none by default in production; in
    development (``OVERSIGHT_ENV=development``) and unless set, localhost on any port."""

    origins: tuple[str, ...] = ()
    origin_pattern: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> CorsSettings:
        env = os.environ if environ is None else environ
        raw = env.get(CORS_ORIGINS_VARIABLE, "")
        if not raw.strip():
            if env.get("OVERSIGHT_ENV", "production") == "development":
                return cls(origin_pattern=DEVELOPMENT_ORIGIN_PATTERN)
            return cls()
        origins = tuple(part.strip().rstrip("/") for part in raw.split(",") if part.strip())
        for origin in origins:
            if not _ORIGIN.fullmatch(origin):
                raise SettingsError(
                    f"{CORS_ORIGINS_VARIABLE}: {origin[:80]!r} is not an origin "
                    "(scheme://host[:port], no path; '*' is not accepted: name the origins)"
                )
        return cls(origins=origins)


#: ``/readyz`` says not ready while a projection is more than this many events behind.
READY_MAX_LAG_VARIABLE = "OVERSIGHT_READY_MAX_LAG"
DEFAULT_READY_MAX_LAG = 1_000


@dataclass(frozen=True)
class ObservabilitySettings:
    """How the process is watched (docs/operations.md, Monitoring; ADR 0031).

    - ``OVERSIGHT_ENV``: ``production`` (the default) logs JSON lines; ``development``
      readable ones.
    - ``OVERSIGHT_READY_MAX_LAG``: events a projection may be behind and the process
      still ready (default 1,000).
    - ``OVERSIGHT_METRICS``: ``on`` (the default) serves ``/metrics``; ``off`` does not.
    - ``OVERSIGHT_LOG_LEVEL``: ``INFO`` unless set.
    """

    environment: str = "production"
    ready_max_lag: int = DEFAULT_READY_MAX_LAG
    metrics: bool = True
    log_level: str = "INFO"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ObservabilitySettings:
        env = os.environ if environ is None else environ
        environment = env.get("OVERSIGHT_ENV", "production") or "production"
        if environment not in ("production", "development"):
            raise SettingsError("OVERSIGHT_ENV must be production or development")
        raw_lag = env.get(READY_MAX_LAG_VARIABLE, "") or str(DEFAULT_READY_MAX_LAG)
        if not raw_lag.isdigit():
            raise SettingsError(f"{READY_MAX_LAG_VARIABLE} must be a whole number of events")
        switch = (env.get("OVERSIGHT_METRICS", "") or "on").lower()
        if switch not in ("on", "off", "1", "0", "true", "false"):
            raise SettingsError("OVERSIGHT_METRICS must be on or off")
        level = (env.get("OVERSIGHT_LOG_LEVEL", "") or "INFO").upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise SettingsError("OVERSIGHT_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR")
        return cls(
            environment=environment,
            ready_max_lag=int(raw_lag),
            metrics=switch in ("on", "1", "true"),
            log_level=level,
        )

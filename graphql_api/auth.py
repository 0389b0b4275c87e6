"""Bearer tokens in the OpenID Connect style (ADR 0011).

A token is a JWT signed with an asymmetric key (RS256 or ES256) whose public half is in
the configured JWKS file. Issuer, audience, expiry, issue time and signature are all
checked; ``none``, HMAC and any other algorithm are refused before the key is looked up.
The claims name the principal: ``sub`` (staff id), ``role``, ``authority``, and for
inspectors and investigating officers ``grants`` and ``grant_expires_at``.

Token policy (issue 23, item 5): a token is at most ``MAX_TOKEN_LENGTH`` characters and
lives at most ``TokenSettings.max_lifetime_seconds`` (``exp - iat``, one hour unless
``OVERSIGHT_JWT_MAX_LIFETIME_SECONDS`` says otherwise). ``exp``, ``iat``, ``nbf`` and
``grant_expires_at`` are JSON integers between the epoch and ``LATEST_TIME``: PyJWT would
coerce ``"123"`` or ``1e300`` with ``int()``, so the raw claims are checked here, after the
signature and before any use. ``iat`` and ``nbf`` may not be in the future (beyond the
leeway). ``grants`` is at most ``MAX_GRANTS`` strings of at most ``MAX_GRANT_LENGTH``.
Every refusal is an ``AuthenticationFailed`` whose reason names the claim and the rule,
never the claim's value.

``mint`` exists for the demo and development only: it needs the private key, which
``development_keys`` creates under ``.oversight/`` when ``OVERSIGHT_ENV=development``.
"""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from threading import Lock
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.exceptions import InvalidSubjectError

from domain.authorization import (
    ACCESS_ROLES,
    Principal,
)
from domain.errors import ValidationError
from domain.identifiers import check_authority_code, check_local_id
from domain.vocabulary import Role

ALGORITHMS = ("ES256", "RS256")
DEV_DIRECTORY = Path(".oversight")

#: The longest token read at all (8 KiB): a longer one is refused before it is decoded.
MAX_TOKEN_LENGTH = 8 * 1024
#: How many verified tokens a verifier keeps, the least recently used let go first.
VERIFIED_KEPT = 1024
#: Time claims are seconds since the epoch, above 0 and below this (the year 2242).
LATEST_TIME = 2**33
MAX_GRANTS = 100
MAX_GRANT_LENGTH = 200
DEFAULT_MAX_LIFETIME_SECONDS = 3600
MAX_LIFETIME_VARIABLE = "OVERSIGHT_JWT_MAX_LIFETIME_SECONDS"


class AuthenticationFailed(Exception):
    """No usable token: the reason is for logs and the client, never a stack trace."""

    code = "UNAUTHENTICATED"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class TokenSettings:
    issuer: str
    audience: str
    jwks_file: Path
    environment: str  # development | production
    leeway_seconds: int = 30
    #: The longest a token may live (``exp - iat``), in seconds.
    max_lifetime_seconds: int = DEFAULT_MAX_LIFETIME_SECONDS

    def __post_init__(self) -> None:
        lifetime = self.max_lifetime_seconds
        if type(lifetime) is not int or not 0 < lifetime < LATEST_TIME:
            raise ValueError("max_lifetime_seconds is a positive whole number of seconds")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> TokenSettings:
        env = dict(os.environ if environ is None else environ)
        environment = env.get("OVERSIGHT_ENV", "production")
        if environment not in ("development", "production"):
            raise ValueError("OVERSIGHT_ENV is development or production")
        default_jwks = str(DEV_DIRECTORY / "dev-jwks.json") if environment == "development" else ""
        jwks = env.get("OVERSIGHT_JWKS_FILE", default_jwks)
        if not jwks:
            raise ValueError("set OVERSIGHT_JWKS_FILE: the public keys tokens are checked against")
        return cls(
            issuer=env.get("OVERSIGHT_JWT_ISSUER", "https://oversight.invalid/dev"),
            audience=env.get("OVERSIGHT_JWT_AUDIENCE", "oversight-api"),
            jwks_file=Path(jwks),
            environment=environment,
            max_lifetime_seconds=_max_lifetime(env.get(MAX_LIFETIME_VARIABLE)),
        )


def _max_lifetime(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_MAX_LIFETIME_SECONDS
    # ASCII digits only: int() would also take " 60", "6_0", "+60" and other scripts' digits;
    # at most ten significant ones, so int() is cheap and the bound below can be checked.
    if not re.fullmatch(r"0*[0-9]{1,10}", raw) or not 0 < int(raw) < LATEST_TIME:
        raise ValueError(
            f"{MAX_LIFETIME_VARIABLE} is a positive whole number of seconds (below {LATEST_TIME})"
        )
    return int(raw)


class TokenVerifier:
    """Checks bearer tokens against the keys of one JWKS file."""

    def __init__(self, settings: TokenSettings) -> None:
        self.settings = settings
        document = json.loads(settings.jwks_file.read_text(encoding="utf-8"))
        self.keys = {
            key.key_id: key
            for key in jwt.PyJWKSet.from_dict(document).keys
            if key.key_id and key.algorithm_name in ALGORITHMS
        }
        if not self.keys:
            raise ValueError(f"{settings.jwks_file} holds no ES256 or RS256 key with a kid")
        self._verified: OrderedDict[str, tuple[dict[str, Any], Principal]] = OrderedDict()
        self._lock = Lock()

    def verify(self, token: str, now: float | None = None) -> Principal:
        """The principal a token names; ``now`` (seconds since the epoch) is the clock.

        A token whose signature and claims this verifier has checked before is not
        checked again (``VERIFIED_KEPT`` are kept, by their whole text): what that check
        found depends only on the token and on this verifier's keys and settings, which
        do not change. Its times are checked against the clock on every use, so a kept
        token expires as any other does. Checking the signature was a fifth of what
        GraphQL adds to a child's state read (issue 18, session 15)."""
        if len(token) > MAX_TOKEN_LENGTH:
            raise AuthenticationFailed(
                f"the token is longer than the {MAX_TOKEN_LENGTH}-character maximum"
            )
        with self._lock:
            kept = self._verified.get(token)
            if kept is not None:
                self._verified.move_to_end(token)
        if kept is None:
            claims = self._checked_claims(token)
            check_times(claims, self.settings, time.time() if now is None else now)
            kept = claims, principal_from(claims)
            with self._lock:
                self._verified[token] = kept
                while len(self._verified) > VERIFIED_KEPT:
                    self._verified.popitem(last=False)
            return kept[1]
        check_times(kept[0], self.settings, time.time() if now is None else now)
        return kept[1]

    def _checked_claims(self, token: str) -> dict[str, Any]:
        """The token's claims, its header, key, signature, audience and issuer checked."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise AuthenticationFailed("the token is not a JWT") from None
        algorithm = header.get("alg")
        if algorithm not in ALGORITHMS:
            raise AuthenticationFailed(f"algorithm {algorithm!r} is not accepted")
        key = self.keys.get(str(header.get("kid")))
        if key is None or key.algorithm_name != algorithm:
            raise AuthenticationFailed("the token's key is not one of ours")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=[algorithm],
                audience=self.settings.audience,
                issuer=self.settings.issuer,
                # The times are checked by check_times, on the raw claims: PyJWT coerces.
                options={
                    "require": ["exp", "iat", "iss", "aud", "sub"],
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
        except jwt.InvalidAudienceError:
            raise AuthenticationFailed("the token is for another audience") from None
        except jwt.InvalidIssuerError:
            raise AuthenticationFailed("the token is from another issuer") from None
        except InvalidSubjectError:
            raise AuthenticationFailed("the token's sub must be a string") from None
        except jwt.MissingRequiredClaimError as error:
            raise AuthenticationFailed(f"the token lacks the {error.claim} claim") from None
        except jwt.PyJWTError:
            raise AuthenticationFailed("the token's signature or claims are invalid") from None
        return claims


def _seconds(claims: dict[str, Any], name: str) -> int | None:
    """A time claim as an ``int`` (``None`` when absent): a JSON integer in range, or refused."""
    value = claims.get(name)
    if value is None:
        return None
    if type(value) is not int:  # not bool, float, str, ...: PyJWT would have coerced them
        raise AuthenticationFailed(f"the token's {name} must be an integer number of seconds")
    if not 0 < value < LATEST_TIME:
        raise AuthenticationFailed(
            f"the token's {name} must be after 1970 and before {LATEST_TIME} s (the year 2242)"
        )
    return value


def check_times(claims: dict[str, Any], settings: TokenSettings, now: float) -> None:
    """``exp``, ``iat`` and ``nbf``: types, ranges, the clock (with leeway) and the lifetime."""
    exp, iat = _seconds(claims, "exp"), _seconds(claims, "iat")
    if exp is None or iat is None:  # required by jwt.decode already
        raise AuthenticationFailed(f"the token lacks the {'exp' if exp is None else 'iat'} claim")
    nbf = _seconds(claims, "nbf")
    leeway = settings.leeway_seconds
    if iat > now + leeway:
        raise AuthenticationFailed("the token's iat is in the future")
    if nbf is not None and nbf > now + leeway:
        raise AuthenticationFailed("the token is not valid yet: its nbf is in the future")
    if exp <= now - leeway:
        raise AuthenticationFailed("the token has expired: its exp is past")
    if exp <= iat:
        raise AuthenticationFailed("the token's exp must be after its iat")
    if exp - iat > settings.max_lifetime_seconds + leeway:
        raise AuthenticationFailed(
            f"the token lives longer than the {settings.max_lifetime_seconds} s maximum (exp - iat)"
        )


def principal_from(claims: dict[str, Any]) -> Principal:
    """The principal named by claims whose signature and times have been checked."""
    role_claim = claims.get("role")
    if not isinstance(role_claim, str):
        raise AuthenticationFailed("the token's role must be a string")
    try:
        role = Role(role_claim)
    except ValueError:
        raise AuthenticationFailed("the token's role is not one we know") from None
    if role not in ACCESS_ROLES:
        raise AuthenticationFailed("the token's role is not one a token may carry")
    try:
        authority = check_authority_code(claims.get("authority", ""))
    except ValidationError:
        raise AuthenticationFailed("the token's authority is not an authority code") from None
    try:
        staff_id = check_local_id(claims.get("sub", ""), field="sub")
    except ValidationError:
        raise AuthenticationFailed("the token's sub is not a staff identifier") from None
    grants = claims.get("grants", [])
    if (
        not isinstance(grants, list)
        or len(grants) > MAX_GRANTS
        or not all(isinstance(g, str) for g in grants)
    ):
        raise AuthenticationFailed(
            f"the token's grants must be a list of at most {MAX_GRANTS} strings"
        )
    if any(len(g) > MAX_GRANT_LENGTH for g in grants):
        raise AuthenticationFailed(
            f"each of the token's grants must be at most {MAX_GRANT_LENGTH} characters"
        )
    until = _seconds(claims, "grant_expires_at")
    expires = _seconds(claims, "exp")
    return Principal(
        staff_id=staff_id,
        role=role,
        authority_code=authority,
        grants=frozenset(grants),
        grant_expires_at=datetime.fromtimestamp(until, UTC) if until is not None else None,
        expires_at=datetime.fromtimestamp(expires, UTC) if expires is not None else None,
    )


# -- development keys and minting --------------------------------------------------------------


def development_keys(directory: Path = DEV_DIRECTORY) -> tuple[Path, Path]:
    """An ES256 key pair for development (created once): (private PEM, public JWKS)."""
    private_path = directory / "dev-signing-key.pem"
    jwks_path = directory / "dev-jwks.json"
    if private_path.exists() and jwks_path.exists():
        return private_path, jwks_path
    directory.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    private_path.write_bytes(pem)
    private_path.chmod(0o600)
    public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    public.update(kid=f"dev-{uuid.uuid4().hex[:8]}", alg="ES256", use="sig")
    jwks_path.write_text(json.dumps({"keys": [public]}, indent=2), encoding="utf-8")
    return private_path, jwks_path


def mint(
    settings: TokenSettings,
    private_key_path: Path,
    *,
    staff_id: str,
    role: Role,
    authority: str,
    lifetime_seconds: int = 3600,
    grants: tuple[str, ...] = (),
    grant_expires_at: datetime | None = None,
) -> str:
    """A signed token for development and the demo. Refused outside development, and
    for a lifetime over ``settings.max_lifetime_seconds`` (the verifier would refuse it)."""
    if settings.environment != "development":
        raise PermissionError("token minting is for OVERSIGHT_ENV=development only")
    if lifetime_seconds > settings.max_lifetime_seconds:
        raise ValueError(
            f"a token lives at most {settings.max_lifetime_seconds} s "
            f"({MAX_LIFETIME_VARIABLE}); {lifetime_seconds} s asked for"
        )
    document = json.loads(settings.jwks_file.read_text(encoding="utf-8"))
    kid = document["keys"][0]["kid"]
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": settings.issuer,
        "aud": settings.audience,
        "sub": staff_id,
        "iat": now,
        "exp": now + lifetime_seconds,
        "role": role.value,
        "authority": authority,
    }
    if grants:
        claims["grants"] = list(grants)
    if grant_expires_at is not None:
        claims["grant_expires_at"] = int(grant_expires_at.timestamp())
    return jwt.encode(
        claims,
        private_key_path.read_bytes(),
        algorithm="ES256",
        headers={"kid": kid},
    )

"""Bearer tokens in the OpenID Connect style (ADR 0011).

A token is a JWT signed with an asymmetric key (RS256 or ES256) whose public half is in
the configured JWKS file. Issuer, audience, expiry, issue time and signature are all
checked; ``none``, HMAC and any other algorithm are refused before the key is looked up.
The claims name the principal: ``sub`` (staff id), ``role``, ``authority``, and for
inspectors and investigating officers ``grants`` and ``grant_expires_at``.

``mint`` exists for the demo and development only: it needs the private key, which
``development_keys`` creates under ``.oversight/`` when ``OVERSIGHT_ENV=development``.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from domain.authorization import AccessRole, Principal
from domain.identifiers import check_authority_code, check_local_id

ALGORITHMS = ("ES256", "RS256")
DEV_DIRECTORY = Path(".oversight")


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
        )


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

    def verify(self, token: str, now: float | None = None) -> Principal:
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
                leeway=self.settings.leeway_seconds,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise AuthenticationFailed("the token has expired") from None
        except jwt.InvalidAudienceError:
            raise AuthenticationFailed("the token is for another audience") from None
        except jwt.InvalidIssuerError:
            raise AuthenticationFailed("the token is from another issuer") from None
        except jwt.MissingRequiredClaimError as error:
            raise AuthenticationFailed(f"the token lacks the {error.claim} claim") from None
        except jwt.PyJWTError:
            raise AuthenticationFailed("the token's signature or claims are invalid") from None
        if now is not None and claims["exp"] < now:
            raise AuthenticationFailed("the token has expired")
        return principal_from(claims)


def principal_from(claims: dict[str, Any]) -> Principal:
    try:
        role = AccessRole(str(claims.get("role")))
    except ValueError:
        raise AuthenticationFailed("the token's role is not one we know") from None
    try:
        authority = check_authority_code(str(claims.get("authority")))
        staff_id = check_local_id(str(claims.get("sub")), field="sub")
    except Exception:
        raise AuthenticationFailed("the token's authority or subject is malformed") from None
    grants = claims.get("grants", [])
    if not isinstance(grants, list) or not all(isinstance(g, str) for g in grants):
        raise AuthenticationFailed("the token's grants must be a list of strings")
    until = claims.get("grant_expires_at")
    if until is not None and not isinstance(until, int | float):
        raise AuthenticationFailed("grant_expires_at must be a number of seconds")
    return Principal(
        staff_id=staff_id,
        role=role,
        authority_code=authority,
        grants=frozenset(grants),
        grant_expires_at=datetime.fromtimestamp(until, UTC) if until is not None else None,
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
    role: AccessRole,
    authority: str,
    lifetime_seconds: int = 3600,
    grants: tuple[str, ...] = (),
    grant_expires_at: datetime | None = None,
) -> str:
    """A signed token for development and the demo. Refused outside development."""
    if settings.environment != "development":
        raise PermissionError("token minting is for OVERSIGHT_ENV=development only")
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

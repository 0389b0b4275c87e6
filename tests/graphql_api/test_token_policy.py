"""The bearer-token policy (issue 23, item 5): a bounded lifetime, time claims that are JSON
integers in a sane range, bounded sizes; every refusal a 401 ``UNAUTHENTICATED`` whose
message names the claim and the rule, never a 500 and never the claim's value."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.vocabulary import Role
from graphql_api.auth import (
    LATEST_TIME,
    MAX_TOKEN_LENGTH,
    AuthenticationFailed,
    TokenSettings,
    TokenVerifier,
    mint,
    principal_from,
)
from tests.graphql_api.conftest import Api, claims, forge

VIEWER = {"query": "{ viewer { staffId } }"}
VARIABLE = "OVERSIGHT_JWT_MAX_LIFETIME_SECONDS"
MAXIMUM = 3600
LEEWAY = 30


def _kid(tokens: TokenSettings) -> str:
    document = json.loads(tokens.jwks_file.read_text(encoding="utf-8"))
    return str(document["keys"][0]["kid"])


def _signed(tokens: TokenSettings, private_key: Path, **overrides: Any) -> str:
    """A token signed with the test key: good but for ``overrides``."""
    return forge(
        claims(tokens, **overrides), private_key.read_bytes(), "ES256", {"kid": _kid(tokens)}
    )


def _refusal(api: Api, token: str) -> str:
    """The message of a 401 ``UNAUTHENTICATED`` answer to ``token``."""
    response = api.raw(VIEWER, token)
    assert response.status_code == 401, response.text
    assert "Bearer" in response.headers["www-authenticate"]
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    message: str = error["message"]
    assert "Traceback" not in message and "Error" not in message
    return message


def _accepted(api: Api, token: str) -> None:
    response = api.raw(VIEWER, token)
    assert response.status_code == 200, response.text
    assert response.json()["data"]["viewer"]["staffId"] == "SW1"


# -- over HTTP, through the real app ------------------------------------------------------------

#: name -> (the claims to change, given the time now; what the message must say)
REFUSED: dict[str, tuple[Callable[[int], dict[str, Any]], tuple[str, ...]]] = {
    "exp 2**70": (lambda now: {"exp": 2**70}, ("exp", "2242")),
    "exp a string": (lambda now: {"exp": str(now + 600)}, ("exp", "integer")),
    "exp a float": (lambda now: {"exp": now + 600.5}, ("exp", "integer")),
    "exp a whole float": (lambda now: {"exp": float(now + 600)}, ("exp", "integer")),
    "exp a bool": (lambda now: {"exp": True}, ("exp", "integer")),
    "iat a string": (lambda now: {"iat": str(now)}, ("iat", "integer")),
    "iat in the future": (
        lambda now: {"iat": now + 600, "exp": now + 1200},
        ("iat", "future"),
    ),
    "nbf in the future": (lambda now: {"nbf": now + 600}, ("nbf", "future")),
    "nbf a float": (lambda now: {"nbf": now - 0.5}, ("nbf", "integer")),
    "exp before iat": (lambda now: {"iat": now, "exp": now - 1}, ("exp", "iat")),
    "lifetime over the maximum": (
        lambda now: {"iat": now, "exp": now + MAXIMUM + LEEWAY + 1},
        ("exp - iat", f"{MAXIMUM} s maximum"),
    ),
    "grant_expires_at 1e300": (
        lambda now: {"grant_expires_at": 1e300},
        ("grant_expires_at", "integer"),
    ),
    "grant_expires_at a string": (
        lambda now: {"grant_expires_at": str(now + 86_400)},
        ("grant_expires_at", "integer"),
    ),
    "grant_expires_at 2**40": (
        lambda now: {"grant_expires_at": 2**40},
        ("grant_expires_at", "2242"),
    ),
    "a 9 KiB token": (lambda now: {"padding": "x" * 9 * 1024}, ("token", "8192")),
    "101 grants": (
        lambda now: {"grants": [f"child:C{i}" for i in range(101)]},
        ("grants", "100"),
    ),
    "a 300-character grant": (
        lambda now: {"grants": ["child:" + "C" * 294]},
        ("grants", "200 characters"),
    ),
    "a grant not a string": (lambda now: {"grants": [7]}, ("grants", "strings")),
    "role not a string": (lambda now: {"role": ["practitioner"]}, ("role",)),
    "sub too long": (lambda now: {"sub": "S" * 65}, ("sub",)),
    "sub not a string": (lambda now: {"sub": 1234}, ("sub", "string")),
    "authority not a string": (lambda now: {"authority": 12}, ("authority",)),
}


@pytest.mark.parametrize("case", list(REFUSED), ids=list(REFUSED))
def test_a_token_breaking_the_policy_is_a_401_naming_the_claim(api: Api, case: str) -> None:
    change, words = REFUSED[case]
    overrides = change(int(time.time()))
    message = _refusal(api, _signed(api.tokens, api.private_key, **overrides))
    for word in words:
        assert word in message, (case, message)
    for value in overrides.values():  # the claim's value is never echoed back
        if not isinstance(value, bool):
            assert json.dumps(value) not in message and str(value) not in message, case


def test_a_token_of_exactly_the_maximum_lifetime_is_accepted(api: Api) -> None:
    now = int(time.time())
    _accepted(api, _signed(api.tokens, api.private_key, iat=now, exp=now + MAXIMUM))
    # Within the leeway, as issuers' clocks and rounding go.
    _accepted(api, _signed(api.tokens, api.private_key, iat=now, exp=now + MAXIMUM + LEEWAY))
    # nbf in the past, grant_expires_at an integer, grants at their limits: all fine.
    _accepted(
        api,
        _signed(
            api.tokens, api.private_key, nbf=now - 5, grant_expires_at=now + 86_400,
            grants=[f"child:C{i}" for i in range(99)] + ["child:" + "C" * 194],
        ),
    )  # fmt: skip


def test_a_minted_token_for_the_maximum_lifetime_is_accepted(api: Api) -> None:
    token = mint(
        api.tokens, api.private_key, staff_id="SW1", role=Role.PRACTITIONER,
        authority="API-LA", lifetime_seconds=MAXIMUM,
    )  # fmt: skip
    _accepted(api, token)


def _not_an_int() -> st.SearchStrategy[Any]:
    """Any JSON value but an integer (NaN and infinities too: Python's JSON writes them)."""
    leaves = st.none() | st.booleans() | st.floats() | st.text(max_size=20)
    return st.recursive(
        leaves,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
        max_leaves=6,
    )


def _bad_time() -> st.SearchStrategy[Any]:
    """A time claim's value that must be refused (``null`` is no claim at all: not here)."""
    wrong = _not_an_int() | st.integers(-(2**200), 0) | st.integers(LATEST_TIME, 2**200)
    return wrong.filter(lambda value: value is not None)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(claim=st.sampled_from(["exp", "iat", "nbf", "grant_expires_at"]), value=_bad_time())
def test_any_bad_time_claim_is_a_401_never_a_500(api: Api, claim: str, value: Any) -> None:
    message = _refusal(api, _signed(api.tokens, api.private_key, **{claim: value}))
    assert claim in message, message


# -- the verifier itself ------------------------------------------------------------------------


@pytest.fixture
def verifier(token_settings: tuple[TokenSettings, Path]) -> TokenVerifier:
    return TokenVerifier(token_settings[0])


@settings(max_examples=300, deadline=None)
@given(claim=st.sampled_from(["exp", "iat", "nbf", "grant_expires_at"]), value=_bad_time())
def test_the_verifier_refuses_any_bad_time_claim(
    token_settings: tuple[TokenSettings, Path], claim: str, value: Any
) -> None:
    tokens, private_key = token_settings
    token = _signed(tokens, private_key, **{claim: value})
    with pytest.raises(AuthenticationFailed) as refused:
        TokenVerifier(tokens).verify(token)
    assert claim in refused.value.reason


@settings(max_examples=200, deadline=None)
@given(lifetime=st.integers(1, 3 * MAXIMUM), skew=st.integers(-LEEWAY, LEEWAY))
def test_the_lifetime_rule_is_exp_minus_iat_against_the_maximum_plus_leeway(
    token_settings: tuple[TokenSettings, Path], lifetime: int, skew: int
) -> None:
    tokens, private_key = token_settings
    iat = 1_750_000_000
    token = _signed(tokens, private_key, iat=iat, exp=iat + lifetime)
    verifier = TokenVerifier(tokens)
    now = iat + skew  # within the leeway of iat: neither early nor expired
    if lifetime <= MAXIMUM + LEEWAY:
        assert verifier.verify(token, now=now).staff_id == "SW1"
    else:
        with pytest.raises(AuthenticationFailed, match="3600 s maximum"):
            verifier.verify(token, now=now)


def test_the_clock_rules_hold_with_leeway(
    verifier: TokenVerifier, token_settings: tuple[TokenSettings, Path]
) -> None:
    tokens, private_key = token_settings
    now = 1_750_000_000
    early = _signed(tokens, private_key, iat=now + LEEWAY + 1, exp=now + 600)
    with pytest.raises(AuthenticationFailed, match="iat is in the future"):
        verifier.verify(early, now=now)
    skewed = _signed(tokens, private_key, iat=now + LEEWAY, exp=now + 600)
    assert verifier.verify(skewed, now=now).staff_id == "SW1"
    waiting = _signed(tokens, private_key, iat=now, nbf=now + LEEWAY + 1, exp=now + 600)
    with pytest.raises(AuthenticationFailed, match="nbf is in the future"):
        verifier.verify(waiting, now=now)
    assert verifier.verify(waiting, now=now + 1).staff_id == "SW1"
    stale = _signed(tokens, private_key, iat=now - 600, exp=now - LEEWAY)
    with pytest.raises(AuthenticationFailed, match="exp is past"):
        verifier.verify(stale, now=now)
    assert verifier.verify(stale, now=now - 1).staff_id == "SW1"


def test_a_kept_token_is_checked_against_the_clock_on_every_use(
    token_settings: tuple[TokenSettings, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A verified token is kept, so its signature is checked once (issue 18); its times
    are not kept: once it expires, it is refused like any other. A verifier of other
    keys keeps nothing of this one's."""
    tokens, private_key = token_settings
    now = 1_750_000_000
    token = _signed(tokens, private_key, iat=now, exp=now + 600)
    verifier = TokenVerifier(tokens)
    checks: list[str] = []
    checked = verifier._checked_claims

    def counting(text: str) -> dict[str, Any]:
        checks.append(text)
        return checked(text)

    monkeypatch.setattr(verifier, "_checked_claims", counting)
    first = verifier.verify(token, now=now)
    assert verifier.verify(token, now=now + 599) == first
    assert checks == [token]  # the signature, once
    with pytest.raises(AuthenticationFailed, match="exp is past"):
        verifier.verify(token, now=now + 600 + LEEWAY + 1)
    # A token refused on its times is not kept: checked again, and accepted in time.
    waiting = _signed(tokens, private_key, iat=now, nbf=now + LEEWAY + 60, exp=now + 600)
    with pytest.raises(AuthenticationFailed, match="nbf is in the future"):
        verifier.verify(waiting, now=now)
    assert verifier.verify(waiting, now=now + 60).staff_id == "SW1"
    assert checks == [token, waiting, waiting]
    # Signed with a key this verifier does not hold: refused however often it is sent.
    document = json.loads(tokens.jwks_file.read_text(encoding="utf-8"))
    document["keys"][0]["kid"] = "another"
    other_jwks = tokens.jwks_file.with_name("other-jwks.json")
    other_jwks.write_text(json.dumps(document), encoding="utf-8")
    other = TokenVerifier(
        TokenSettings(tokens.issuer, tokens.audience, other_jwks, tokens.environment)
    )
    for _ in range(2):
        with pytest.raises(AuthenticationFailed, match="not one of ours"):
            other.verify(token, now=now)


def test_a_token_just_over_8_kib_is_refused_before_decoding(verifier: TokenVerifier) -> None:
    with pytest.raises(AuthenticationFailed, match="8192-character maximum"):
        verifier.verify("a" * (MAX_TOKEN_LENGTH + 1))
    with pytest.raises(AuthenticationFailed, match="not a JWT"):
        verifier.verify("a" * MAX_TOKEN_LENGTH)


# -- settings and minting -----------------------------------------------------------------------

BASE = {"OVERSIGHT_ENV": "development", "OVERSIGHT_JWKS_FILE": "keys.json"}


def test_the_maximum_lifetime_is_an_hour_unless_configured() -> None:
    assert TokenSettings.from_env(BASE).max_lifetime_seconds == 3600
    assert TokenSettings.from_env({**BASE, VARIABLE: "7200"}).max_lifetime_seconds == 7200
    assert TokenSettings.from_env({**BASE, VARIABLE: "60"}).max_lifetime_seconds == 60


@pytest.mark.parametrize(
    "raw",
    ["", "0", "000", "-60", "+60", " 60", "60 ", "6_0", "1.5", "1e3", "an hour", "٣٠",
     str(LATEST_TIME), "9" * 5000],
)  # fmt: skip
def test_a_bad_maximum_lifetime_is_a_value_error_naming_the_variable(raw: str) -> None:
    with pytest.raises(ValueError, match=VARIABLE):
        TokenSettings.from_env({**BASE, VARIABLE: raw})


@given(raw=st.text(max_size=12))
def test_the_maximum_lifetime_variable_is_a_positive_integer_or_refused(raw: str) -> None:
    if raw.isascii() and raw.isdigit() and 0 < int(raw) < LATEST_TIME:
        assert TokenSettings.from_env({**BASE, VARIABLE: raw}).max_lifetime_seconds == int(raw)
    else:
        with pytest.raises(ValueError, match=VARIABLE):
            TokenSettings.from_env({**BASE, VARIABLE: raw})


@pytest.mark.parametrize("lifetime", [0, -1, True, LATEST_TIME])
def test_settings_made_directly_need_a_positive_maximum(lifetime: int) -> None:
    with pytest.raises(ValueError, match="max_lifetime_seconds"):
        TokenSettings("https://idp.test/", "oversight-api", Path("k"), "development",
                      max_lifetime_seconds=lifetime)  # fmt: skip


def test_mint_refuses_a_lifetime_over_the_maximum(
    token_settings: tuple[TokenSettings, Path],
) -> None:
    tokens, private_key = token_settings

    def minted(settings: TokenSettings, lifetime: int) -> str:
        return mint(settings, private_key, staff_id="SW1", role=Role.PRACTITIONER,
                    authority="API-LA", lifetime_seconds=lifetime)  # fmt: skip

    with pytest.raises(ValueError, match=VARIABLE):
        minted(tokens, MAXIMUM + 1)
    longer = TokenSettings(
        tokens.issuer, tokens.audience, tokens.jwks_file, "development",
        max_lifetime_seconds=8 * 3600,
    )  # fmt: skip
    token = minted(longer, 8 * 3600)
    assert TokenVerifier(longer).verify(token).staff_id == "SW1"
    with pytest.raises(AuthenticationFailed, match="3600 s maximum"):
        TokenVerifier(tokens).verify(token)


@pytest.mark.parametrize("role", ["social_worker", "supervisee", "system", "importer"])
def test_a_role_no_token_may_carry_is_refused(role: str) -> None:
    """One role vocabulary (``domain.vocabulary.Role``): a post or a capacity in which
    events are recorded is a role, but not one a token may carry (``ACCESS_ROLES``)."""
    good = {"role": "practitioner", "authority": "DEMO", "sub": "SW001"}
    assert principal_from(good).role is Role.PRACTITIONER
    with pytest.raises(AuthenticationFailed, match="not one a token may carry"):
        principal_from({**good, "role": role})

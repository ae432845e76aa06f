"""Verify Cognito access tokens: RS256, a known kid, signature, exp, exact issuer, token_use, client_id."""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.request

from django.conf import settings

logger = logging.getLogger(__name__)


class TokenInvalid(Exception):
    """The token must be refused; the message says why in words a client developer understands."""


def cognito_issuer() -> str:
    return settings.COGNITO_ISSUER or (
        f"https://cognito-idp.{settings.AWS_REGION}.amazonaws.com/{settings.COGNITO_USER_POOL_ID}"
    )


def cognito_jwks_url() -> str:
    return settings.COGNITO_JWKS_URL or f"{cognito_issuer()}/.well-known/jwks.json"


class JwksCache:
    """The pool's public keys by kid; refetched on an unknown kid, at most once per refetch interval."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: dict[str, dict] = {}
        self._url = ""
        self._fetched_at = float("-inf")

    def key(self, kid: str) -> dict | None:
        url = cognito_jwks_url()
        with self._lock:
            if url != self._url:
                self._keys, self._url, self._fetched_at = {}, url, float("-inf")
            if (
                kid not in self._keys
                and time.monotonic() - self._fetched_at >= settings.JWKS_MIN_REFETCH_SECONDS
            ):
                self._refresh(url)
            return self._keys.get(kid)

    def _refresh(self, url: str) -> None:
        # Stamp the attempt first: a failing JWKS endpoint must not be hammered by every request.
        self._fetched_at = time.monotonic()
        try:
            with urllib.request.urlopen(url, timeout=settings.JWKS_FETCH_TIMEOUT_SECONDS) as response:  # noqa: S310
                document = json.load(response)
        except (OSError, ValueError) as exc:
            logger.warning("jwks fetch failed", extra={"url": url, "error": str(exc)})
            return
        self._keys = {key["kid"]: key for key in document.get("keys", []) if "kid" in key}

    def clear(self) -> None:
        with self._lock:
            self._keys, self._url, self._fetched_at = {}, "", float("-inf")


jwks_cache = JwksCache()


def access_token_verify(token: str) -> dict:
    """Return the verified claims of a Cognito access token, or raise TokenInvalid saying why."""
    # Imported here: jose loads cryptography (~50-70 ms at a cold start), which only a request carrying a
    # token needs. With SnapStart, editor/apps.py loads it in the init phase.
    from jose import jwt
    from jose.exceptions import ExpiredSignatureError, JWTClaimsError, JWTError

    if len(token) > settings.ACCESS_TOKEN_MAX_BYTES:
        raise TokenInvalid("The token is too long.")
    try:
        header = jwt.get_unverified_header(token)
    except JWTError as exc:
        raise TokenInvalid("The token is not a well-formed JWT.") from exc
    if header.get("alg") != "RS256":
        raise TokenInvalid(
            f"Token algorithm {header.get('alg')!r} is not accepted; Cognito signs with RS256."
        )
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise TokenInvalid("The token header has no key id (kid).")
    key = jwks_cache.key(kid)
    if key is None:
        raise TokenInvalid("The token was signed by a key this user pool does not publish.")
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=["RS256"],
            issuer=cognito_issuer(),
            # Access tokens carry no aud. exp is verified when present; its absence is refused below.
            options={"require_iss": True, "require_sub": True, "verify_aud": False},
        )
    except ExpiredSignatureError as exc:
        raise TokenInvalid("The token has expired; refresh it or sign in again.") from exc
    except JWTClaimsError as exc:
        raise TokenInvalid(f"The token's claims are not acceptable: {exc}.") from exc
    except JWTError as exc:
        raise TokenInvalid("The token signature is not valid.") from exc
    # python-jose accepts a token with no exp, and checks neither token_use nor client_id.
    if not isinstance(claims.get("exp"), int | float):
        raise TokenInvalid("The token has no expiry (exp); Cognito access tokens always have one.")
    if claims.get("token_use") != "access":
        raise TokenInvalid("An access token is required (this is not one).")
    if claims.get("client_id") != settings.COGNITO_APP_CLIENT_ID:
        raise TokenInvalid("The token was issued to another app client.")
    return claims

"""Helpers the sign-in and account tests share: forged tokens, TOTP codes, a pool closed to sign-up."""

from __future__ import annotations

import contextlib
import gzip
import importlib.resources
import json
import time

from django.conf import settings
from jose import jwt


@contextlib.contextmanager
def sign_up_closed():
    """The local pool with AllowAdminCreateUserOnly, for one test.

    UpdateUserPool resets every setting it is not given (as in Cognito), so the one setting is flipped in
    the local pool itself and put back after.
    """
    from moto.cognitoidp.models import cognitoidp_backends

    from editor.services.auth.pool_rules import pool_settings_forget

    pool = cognitoidp_backends["123456789012"][settings.AWS_REGION].user_pools[settings.COGNITO_USER_POOL_ID]
    before = pool.extended_config.get("AdminCreateUserConfig")
    pool.extended_config["AdminCreateUserConfig"] = {"AllowAdminCreateUserOnly": True}
    pool_settings_forget()
    try:
        yield
    finally:
        pool.extended_config["AdminCreateUserConfig"] = before
        pool_settings_forget()


def totp_now(secret: str, offset: float = 0) -> str:
    """What an authenticator app shows for this secret (RFC 6238, as Cognito expects)."""
    import base64

    from cryptography.hazmat.primitives.hashes import SHA1
    from cryptography.hazmat.primitives.twofactor.totp import TOTP

    totp = TOTP(base64.b32decode(secret), 6, SHA1(), 30, enforce_key_length=False)  # noqa: S303
    return totp.generate(time.time() + offset).decode()


def moto_private_jwk() -> dict:
    """The key the local pool signs with: lets a test forge tokens the pool would 'sign'."""
    data = (
        importlib.resources.files("moto.cognitoidp").joinpath("resources/jwks-private.json.gz").read_bytes()
    )
    return json.loads(gzip.decompress(data))


def forge(
    claims_overrides: dict | None = None,
    drop: tuple[str, ...] = (),
    key: dict | None = None,
    headers: dict | None = None,
    sub: str = "forged-sub",
) -> str:
    now = int(time.time())
    claims = {
        "sub": sub,
        "iss": settings.COGNITO_ISSUER,
        "client_id": settings.COGNITO_APP_CLIENT_ID,
        "token_use": "access",
        "username": "forged",
        "iat": now,
        "exp": now + 600,
    }
    claims.update(claims_overrides or {})
    for name in drop:
        claims.pop(name)
    key = key or moto_private_jwk()
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": key["kid"], **(headers or {})})

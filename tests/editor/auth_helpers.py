"""Helpers the sign-in and account tests share: forged tokens, TOTP codes, a pool closed to sign-up."""

from __future__ import annotations

import contextlib
import gzip
import importlib.resources
import json
import time
import uuid

from django.conf import settings
from jose import jwt

from devstack.stack import _client
from tests.conftest import PASSWORD
from tests.edge_client import EdgeClient


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


NEW_PASSWORD = "Fresh-password-2"


def client(address: str | None = None) -> EdgeClient:
    # Through the local API Gateway, as a REST client arrives. Each test gets its own client address,
    # so the per-address failure limit of one test never reaches another.
    return EdgeClient(REMOTE_ADDR=address or f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.7")


def cognito():
    return _client("cognito-idp", settings.AWS_ENDPOINT_URL)


def bearer(token: str, address: str | None = None) -> EdgeClient:
    api = client(address)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api


def token(api: EdgeClient, username: str, password: str) -> dict:
    return api.post("/api/v1/auth/token", {"username": username, "password": password}, format="json")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def mfa_on(api) -> str:
    """Set up a second factor for the signed-in person of `api`; its secret."""
    secret = api.post("/api/v1/auth/mfa/setup", {"password": PASSWORD}, format="json").json()["secret"]
    assert api.post("/api/v1/auth/mfa", {"code": totp_now(secret)}, format="json").status_code == 200
    return secret


@contextlib.contextmanager
def pool_mfa_on():
    """The local pool with MfaConfiguration ON (LOCAL_COGNITO_MFA=ON), for one test."""
    from moto.cognitoidp.models import cognitoidp_backends

    from editor.services.auth.pool_rules import pool_settings_forget

    pool = cognitoidp_backends["123456789012"][settings.AWS_REGION].user_pools[settings.COGNITO_USER_POOL_ID]
    before = pool.mfa_config
    pool.mfa_config = "ON"
    pool_settings_forget()
    try:
        yield
    finally:
        pool.mfa_config = before
        pool_settings_forget()

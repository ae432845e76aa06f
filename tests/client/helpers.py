"""Helpers the client tests share: the code an authenticator app shows."""

from __future__ import annotations

import base64
import time


def totp_now(secret: str) -> str:
    """What an authenticator app shows for this secret (RFC 6238, as Cognito expects)."""
    from cryptography.hazmat.primitives.hashes import SHA1
    from cryptography.hazmat.primitives.twofactor.totp import TOTP

    totp = TOTP(base64.b32decode(secret), 6, SHA1(), 30, enforce_key_length=False)  # noqa: S303
    return totp.generate(time.time()).decode()

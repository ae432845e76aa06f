"""A salted scrypt hash that stands in for moto's clear-text Cognito password and compares like it."""

from __future__ import annotations

import hashlib
import hmac
import os

# scrypt's interactive-login cost (about 50 ms here): a stolen state file is slow to guess from.
_N, _R, _P = 2**14, 8, 1


def _derive(password: str, salt: bytes) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, maxmem=64 * 1024 * 1024)


class PasswordHash:
    """moto checks `user.password != password`; this answers that question without keeping the password."""

    __slots__ = ("salt", "digest")

    def __init__(self, password: str) -> None:
        self.salt = os.urandom(16)
        self.digest = _derive(password, self.salt)

    def matches(self, password: object) -> bool:
        return isinstance(password, str) and hmac.compare_digest(self.digest, _derive(password, self.salt))

    def __eq__(self, other: object) -> bool:
        return self.matches(other)

    def __ne__(self, other: object) -> bool:
        return not self.matches(other)

    __hash__ = None  # mutable-looking equality: never a dict key

    def __getstate__(self):
        return {"salt": self.salt, "digest": self.digest}

    def __setstate__(self, state: dict) -> None:
        self.salt = state["salt"]
        self.digest = state["digest"]

    def __repr__(self) -> str:
        return "PasswordHash(scrypt)"

"""The local Cognito's secrets at rest: codes kept as keyed digests, TOTP secrets sealed with a local key.

The stand-in's state is pickled into the journal with the rest of Cognito (devstack/persistence.py), so
whatever it keeps on a user object reaches the disk. A code is only ever compared, so only its HMAC is
kept. A TOTP secret must be read again to check codes after a restart, so it is sealed (AES-GCM) under a
256-bit key of its own, in `cognito-standin.key` (0600, written once and fsynced before first use) beside
the journal. A copy of the journal alone reveals neither; a copy of the whole state directory does, as it
would for any key kept on the same disk.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from devstack.journal import FILE_MODE, fsync_directory

KEY_FILE = "cognito-standin.key"
_KEY_BYTES = 32


class SecretBox:
    """Digest codes and seal TOTP secrets with one local key (a fresh one in memory without a file)."""

    def __init__(self, key_file: Path | None = None) -> None:
        self.key = _key_load(key_file) if key_file else secrets.token_bytes(_KEY_BYTES)

    def digest(self, code: str) -> str:
        return hmac.new(self.key, b"code:" + str(code).encode(), hashlib.sha256).hexdigest()

    def code_matches(self, code: str | None, digest: str) -> bool:
        return bool(code) and hmac.compare_digest(self.digest(str(code)), digest)

    def seal(self, secret: str) -> str:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        nonce = secrets.token_bytes(12)
        sealed = AESGCM(self.key).encrypt(nonce, secret.encode(), b"totp")
        return base64.b64encode(nonce + sealed).decode()

    def open(self, sealed: str) -> str | None:
        """The secret, or None if it was sealed under another key (the key file was lost or replaced)."""
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        raw = base64.b64decode(sealed)
        try:
            return AESGCM(self.key).decrypt(raw[:12], raw[12:], b"totp").decode()
        except (InvalidTag, ValueError):
            return None


def _key_load(path: Path) -> bytes:
    try:
        key = path.read_bytes()
    except FileNotFoundError:
        key = secrets.token_bytes(_KEY_BYTES)
        temporary = path.with_name(path.name + ".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
        try:
            os.write(fd, key)
            os.fsync(fd)
        finally:
            os.close(fd)
        # Never replace a key that appeared meanwhile: secrets sealed under it would be lost.
        try:
            os.link(temporary, path)
        except FileExistsError:
            key = path.read_bytes()
        finally:
            temporary.unlink(missing_ok=True)
        fsync_directory(path.parent)
    if len(key) != _KEY_BYTES:
        raise SystemExit(f"{path} is not a key this stack wrote ({len(key)} bytes); move it aside.")
    os.chmod(path, FILE_MODE)
    return key

"""Where the sign-in's tokens live: the OS keyring when one works, else a 0600 file; never printed."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

from imageedit_client.config import config_dir, config_dir_ensure, private_write

SERVICE = "imageedit"


class FileStore:
    """$XDG_CONFIG_HOME/imageedit/credentials.json, 0600 in a 0700 folder, one entry per endpoint."""

    name = "file"

    @property
    def path(self) -> Path:
        return config_dir() / "credentials.json"

    def describe(self) -> str:
        return f"the file {self.path} (readable by you only)"

    def _all(self) -> dict:
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except ValueError:
            return {}  # a damaged file means signed out; the next login writes it whole again

    def load(self, endpoint: str) -> dict | None:
        return self._all().get(endpoint)

    def save(self, endpoint: str, record: dict) -> None:
        config_dir_ensure()
        entries = self._all()
        entries[endpoint] = record
        private_write(self.path, json.dumps(entries, indent=2) + "\n")

    def delete(self, endpoint: str) -> None:
        entries = self._all()
        if entries.pop(endpoint, None) is not None:
            private_write(self.path, json.dumps(entries, indent=2) + "\n")


class KeyringStore:
    """The OS keyring (Secret Service, macOS Keychain, Windows Credential Locker) via `keyring`."""

    name = "keyring"

    def __init__(self, keyring_module) -> None:
        self.keyring = keyring_module

    def describe(self) -> str:
        return f"the system keyring ({type(self.keyring.get_keyring()).__name__})"

    def load(self, endpoint: str) -> dict | None:
        value = self.keyring.get_password(SERVICE, endpoint)
        try:
            return json.loads(value) if value else None
        except ValueError:
            return None

    def save(self, endpoint: str, record: dict) -> None:
        self.keyring.set_password(SERVICE, endpoint, json.dumps(record))

    def delete(self, endpoint: str) -> None:
        with contextlib.suppress(self.keyring.errors.PasswordDeleteError):  # nothing stored: signed out
            self.keyring.delete_password(SERVICE, endpoint)


def _usable_keyring():
    """The keyring module when it is installed and has a real backend; None otherwise."""
    try:
        import keyring
        import keyring.errors
    except ImportError:
        return None
    try:
        backend = keyring.get_keyring()
    except Exception:  # a broken backend configuration: the file is the safe choice
        return None
    module = type(backend).__module__
    if module.startswith(("keyring.backends.fail", "keyring.backends.null")):
        return None
    if hasattr(backend, "backends") and not backend.backends:  # a chainer with nothing behind it
        return None
    return keyring


def token_store_get():
    """IMAGEEDIT_TOKEN_STORE=file|keyring forces one; by default the keyring when one works."""
    choice = os.environ.get("IMAGEEDIT_TOKEN_STORE", "").strip().lower()
    if choice == "file":
        return FileStore()
    keyring = _usable_keyring()
    if keyring is not None:
        return KeyringStore(keyring)
    return FileStore()

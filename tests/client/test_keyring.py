"""Tokens go to the OS keyring when `keyring` has a working backend (here a test backend, chosen the
standard way with PYTHON_KEYRING_BACKEND), and to the 0600 file when it has none."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.client.conftest import CLIENT_SOURCE

BACKEND = '''
"""A keyring backend that keeps secrets in one JSON file (a stand-in for the Secret Service)."""
import json, os
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

class FileKeyring(KeyringBackend):
    priority = 1

    def _all(self):
        try:
            with open(os.environ["TEST_KEYRING_FILE"]) as handle:
                return json.load(handle)
        except FileNotFoundError:
            return {}

    def _save(self, values):
        with open(os.environ["TEST_KEYRING_FILE"], "w") as handle:
            json.dump(values, handle)

    def get_password(self, service, username):
        return self._all().get(f"{service}|{username}")

    def set_password(self, service, username, password):
        values = self._all()
        values[f"{service}|{username}"] = password
        self._save(values)

    def delete_password(self, service, username):
        values = self._all()
        if values.pop(f"{service}|{username}", None) is None:
            raise PasswordDeleteError(username)
        self._save(values)
'''


def test_with_a_working_keyring_the_tokens_never_touch_the_config_folder(stack, cli, tmp_path):
    (tmp_path / "testkeyring.py").write_text(BACKEND)
    cli.env.pop("IMAGEEDIT_TOKEN_STORE")
    cli.env["PYTHONPATH"] += f":{tmp_path}"
    cli.env["PYTHON_KEYRING_BACKEND"] = "testkeyring.FileKeyring"
    cli.env["TEST_KEYRING_FILE"] = str(tmp_path / "keyring.json")
    username = stack.user()
    login = cli.run("login", "--username", username, "--password-stdin", stdin="Client-password-1\n")
    assert login.returncode == 0, login.stderr
    assert "system keyring (FileKeyring)" in login.stderr
    held = json.loads((tmp_path / "keyring.json").read_text())
    assert json.loads(held[f"imageedit|{stack.base}"])["username"] == username
    assert not (cli.home / "config" / "imageedit" / "credentials.json").exists()
    assert cli.run("whoami").stdout.startswith(username)
    assert cli.run("logout").returncode == 0
    assert json.loads((tmp_path / "keyring.json").read_text()) == {}


def test_without_a_usable_keyring_backend_the_file_is_used(tmp_path):
    # keyring is installed here, but this machine has no Secret Service: its "fail" backend is chosen.
    script = "from imageedit_client.tokens import token_store_get; print(token_store_get().name)"
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={
            "PYTHONPATH": str(CLIENT_SOURCE),
            "PATH": "/usr/bin",
            "HOME": str(tmp_path),
            "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        },
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "file"

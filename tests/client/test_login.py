"""`imageedit login`, `whoami`, `logout`: tokens kept in a 0600 file, never printed; each challenge."""

from __future__ import annotations

import json
import stat
import time

import requests

from tests.client.conftest import PASSWORD
from tests.client.helpers import totp_now


def test_login_keeps_tokens_in_a_private_file_and_never_prints_them(stack, cli):
    username = stack.user()
    done = cli.run("login", "--username", username, "--password-stdin", stdin=PASSWORD + "\n")
    assert done.returncode == 0, done.stderr
    store = cli.home / "config" / "imageedit" / "credentials.json"
    assert stat.S_IMODE(store.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.parent.stat().st_mode) == 0o700
    record = json.loads(store.read_text())[stack.base]
    assert record["username"] == username and record["access_token"] and record["refresh_token"]
    for secret in (record["access_token"], record["refresh_token"], PASSWORD):
        assert secret not in done.stdout + done.stderr

    who = cli.run("whoami", "--json")
    assert who.returncode == 0, who.stderr
    assert json.loads(who.stdout)["username"] == username
    assert record["access_token"] not in who.stdout + who.stderr


def test_an_expired_access_token_refreshes_itself(stack, cli):
    username = stack.user()
    cli.login(username)
    store = cli.home / "config" / "imageedit" / "credentials.json"
    entries = json.loads(store.read_text())
    old = entries[stack.base]["access_token"]
    entries[stack.base]["expires_at"] = time.time() - 5  # as if an hour had passed
    store.write_text(json.dumps(entries))
    who = cli.run("whoami")
    assert who.returncode == 0, who.stderr
    assert username in who.stdout
    assert json.loads(store.read_text())[stack.base]["access_token"] != old


def test_a_revoked_sign_in_says_to_log_in_again(stack, cli):
    username = stack.user()
    cli.login(username)
    store = cli.home / "config" / "imageedit" / "credentials.json"
    entries = json.loads(store.read_text())
    revoked = requests.post(
        f"{stack.base}/api/v1/auth/signout",
        json={"refresh_token": entries[stack.base]["refresh_token"]},
        headers={"Authorization": f"Bearer {entries[stack.base]['access_token']}"},
        timeout=30,
    )
    assert revoked.status_code == 200, revoked.text
    entries[stack.base]["expires_at"] = time.time() - 5  # so the client must refresh first
    store.write_text(json.dumps(entries))
    who = cli.run("whoami")
    assert who.returncode == 3
    assert "The sign-in has ended" in who.stderr and "imageedit login" in who.stderr


def test_wrong_password_is_exit_3_with_the_servers_message(stack, cli):
    username = stack.user()
    done = cli.run("login", "--username", username, "--password-stdin", stdin="Not-the-password-9\n")
    assert done.returncode == 3
    assert "error:" in done.stderr and not (cli.home / "config" / "imageedit" / "credentials.json").exists()


def test_logout_revokes_and_forgets(stack, cli):
    username = stack.user()
    cli.login(username)
    store = cli.home / "config" / "imageedit" / "credentials.json"
    refresh_token = json.loads(store.read_text())[stack.base]["refresh_token"]
    done = cli.run("logout")
    assert done.returncode == 0, done.stderr
    assert stack.base not in json.loads(store.read_text())
    # Revoked on the server: the refresh token no longer gives tokens.
    refreshed = requests.post(
        f"{stack.base}/api/v1/auth/refresh", json={"refresh_token": refresh_token}, timeout=30
    )
    assert refreshed.status_code in (400, 401), refreshed.text
    who = cli.run("whoami")
    assert who.returncode == 3 and "imageedit login" in who.stderr


def test_first_sign_in_with_a_temporary_password_sets_a_new_one(stack, cli):
    username = stack.user("invited", temporary="Temporary-password-1")
    done = cli.run(
        "login", "--username", username, "--password-stdin", stdin=f"Temporary-password-1\n{PASSWORD}\n"
    )
    assert done.returncode == 0, done.stderr
    assert "temporary password" in done.stderr
    assert stack.token(username, PASSWORD)  # the new password is the account's now
    assert cli.run("whoami").returncode == 0


def test_two_step_sign_in_asks_for_the_authenticator_code(stack, cli):
    username = stack.user("totp")
    bearer = {"Authorization": f"Bearer {stack.token(username)}"}
    setup = requests.post(
        f"{stack.base}/api/v1/auth/mfa/setup", json={"password": PASSWORD}, headers=bearer, timeout=30
    )
    assert setup.status_code == 200, setup.text
    secret = setup.json()["secret"]
    enabled = requests.post(
        f"{stack.base}/api/v1/auth/mfa", json={"code": totp_now(secret)}, headers=bearer, timeout=30
    )
    assert enabled.status_code == 200, enabled.text

    wrong = cli.run(
        "login", "--username", username, "--password-stdin", "--code", "000000", stdin=PASSWORD + "\n"
    )
    assert wrong.returncode in (3, 4) and "error:" in wrong.stderr
    done = cli.run(
        "login", "--username", username, "--password-stdin", "--code", totp_now(secret), stdin=PASSWORD + "\n"
    )
    assert done.returncode == 0, done.stderr
    assert cli.run("whoami").returncode == 0

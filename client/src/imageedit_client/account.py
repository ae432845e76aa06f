"""`imageedit login`, `logout` and `whoami`: sign-in with its challenges, revocation, who am I."""

from __future__ import annotations

import getpass
import sys

from imageedit_client import exits
from imageedit_client.api import Api
from imageedit_client.config import endpoint_resolve, settings_read, settings_write
from imageedit_client.exits import CliError
from imageedit_client.tokens import token_store_get
from imageedit_client.ui import Ui


def api_for(args, ui: Ui) -> Api:
    return Api(endpoint_resolve(getattr(args, "endpoint", None)), token_store_get(), notify=ui.message)


class _Answers:
    """Secrets from stdin, one a line (--password-stdin), or asked on the terminal without echo."""

    def __init__(self, from_stdin: bool) -> None:
        self.from_stdin = from_stdin

    def secret(self, prompt: str, *, confirm: bool = False) -> str:
        if self.from_stdin:
            # A line at a time, when it is needed: a code can be typed after the key it belongs to is shown.
            value = sys.stdin.readline().rstrip("\r\n")
            if not value:
                raise CliError(f"stdin ended before the {prompt.rstrip(': ').lower()} was given.")
            return value
        if not sys.stdin.isatty():
            raise CliError("No terminal to ask on: give the password on stdin with --password-stdin.")
        value = getpass.getpass(prompt)
        if confirm and getpass.getpass("Again: ") != value:
            raise CliError("The two passwords differ; nothing was changed.")
        return value


def command_login(args, ui: Ui) -> int:
    api = api_for(args, ui)
    answers = _Answers(args.password_stdin)
    username = args.username
    if not username:
        if not sys.stdin.isatty() or args.password_stdin:
            raise CliError("Give --username when the password comes from stdin.")
        username = input("Username: ").strip()
    password = answers.secret("Password: ")
    answer = api.post("/api/v1/auth/token", auth=False, json={"username": username, "password": password})
    while "challenge" in answer:
        challenge, session = answer["challenge"], answer.get("session", "")
        body = {"challenge": challenge, "username": answer.get("username") or username, "session": session}
        if challenge == "NEW_PASSWORD_REQUIRED":
            ui.message("This account has a temporary password: choose your own now.")
            body["new_password"] = answers.secret("New password: ", confirm=True)
        elif challenge == "SOFTWARE_TOKEN_MFA":
            body["code"] = args.code or answers.secret("Code from your authenticator app: ")
        elif challenge == "MFA_SETUP" and "secret" not in answer:
            pass  # first ask for a secret: the same challenge without a code answers one
        elif challenge == "MFA_SETUP":
            # The pool requires a second factor and this account has none yet: set it up here.
            ui.message(
                "This account needs two-step sign-in. Add this key to your authenticator app "
                f"(or open the link on a phone that has one):\n  key:  {answer['secret']}\n"
                f"  link: {answer['otpauth_uri']}"
            )
            body["code"] = answers.secret("First code from your authenticator app: ")
        else:
            raise CliError(
                f"The server asks for {challenge}, which this client cannot answer: sign in on the web page.",
                exit_code=exits.AUTH,
            )
        answer = api.post("/api/v1/auth/challenge", auth=False, json=body)
    api.tokens_save(username=username, tokens=answer)
    me = api.get("/api/v1/me")
    api.tokens_save(username=me.get("username") or username, tokens=answer)
    settings_write({**settings_read(), "endpoint": api.endpoint})
    ui.message(
        f"Signed in to {api.endpoint} as {me.get('username')}; the tokens are kept in {api.store.describe()}."
    )
    return exits.OK


def command_logout(args, ui: Ui) -> int:
    api = api_for(args, ui)
    record = api.store.load(api.endpoint)
    if not record:
        ui.message(f"Not signed in to {api.endpoint}.")
        return exits.OK
    path = "/api/v1/auth/signout" + ("?everywhere=1" if args.everywhere else "")
    try:
        api.post(path, json={"refresh_token": record.get("refresh_token", "")})
        revoked = True
    except CliError as exc:
        ui.warn(f"The server could not revoke the sign-in ({exc.message}); it ends when its tokens expire.")
        revoked = False
    finally:
        api.tokens_forget()  # whatever the server said, this computer keeps nothing
    where = "everywhere" if args.everywhere else "here"
    ui.message(
        f"Signed out {where} from {api.endpoint}."
        if revoked
        else "The tokens were removed from this computer."
    )
    return exits.OK if revoked else exits.UNAVAILABLE


def command_whoami(args, ui: Ui) -> int:
    api = api_for(args, ui)
    me = api.get("/api/v1/me")
    data = {"endpoint": api.endpoint, **me, "token_store": api.store.name}
    if ui.json_output:
        ui.data(data)
    else:
        ui.line(f"{me.get('username')} (sub {me.get('sub')}) at {api.endpoint}")
    return exits.OK

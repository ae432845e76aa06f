"""The client's tests: one local stack (`make run` on free ports) for the module, the `imageedit`
command run as a person runs it, in a process of its own, through the local API Gateway."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import boto3
import pytest
import requests

from tests.devstack.running import ROOT, RunningStack

CLIENT_SOURCE = ROOT / "client" / "src"
PASSWORD = "Client-password-1"


@pytest.fixture(scope="package", autouse=True)
def interruptible_children():
    """Let the CLI take the Ctrl-C the batch tests send: a suite started in the background by a script
    (`make test &`) ignores SIGINT, and children inherit an ignored signal (a caught one they do not)."""
    previous = signal.getsignal(signal.SIGINT)
    if previous is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


class Cli:
    """Runs `python -m imageedit_client` with its own config folder, pointed at the stack."""

    def __init__(self, base: str, home: Path) -> None:
        self.base, self.home = base, home
        self.env = {
            **os.environ,
            "PYTHONPATH": str(CLIENT_SOURCE),
            "IMAGEEDIT_ENDPOINT": base,
            "XDG_CONFIG_HOME": str(home / "config"),
            "IMAGEEDIT_TOKEN_STORE": "file",
            "HOME": str(home),
        }
        self.env.pop("DJANGO_SETTINGS_MODULE", None)

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "imageedit_client", *args]

    def run(self, *args: str, stdin: str = "", timeout: float = 240) -> subprocess.CompletedProcess:
        return subprocess.run(
            self.command(*args),
            input=stdin,
            capture_output=True,
            text=True,
            env=self.env,
            timeout=timeout,
            cwd=self.home,  # where results go when no -o is given
        )

    def popen(self, *args: str, stdin=subprocess.DEVNULL) -> subprocess.Popen:
        return subprocess.Popen(
            self.command(*args),
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env,
            cwd=self.home,
        )

    def login(self, username: str, password: str = PASSWORD) -> None:
        done = self.run("login", "--username", username, "--password-stdin", stdin=password + "\n")
        assert done.returncode == 0, done.stderr


class Stack:
    def __init__(self, running: RunningStack) -> None:
        self.running = running
        self.base = running.base
        args = running.process.args
        self.moto = f"http://127.0.0.1:{args[args.index('--moto-port') + 1]}"
        self.cognito = boto3.client(
            "cognito-idp",
            endpoint_url=self.moto,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        self.pool_id = self.cognito.list_user_pools(MaxResults=10)["UserPools"][0]["Id"]

    def user(self, prefix: str = "cli", *, temporary: str | None = None) -> str:
        """A new user: with a permanent PASSWORD, or with a temporary password to change at first sign-in."""
        username = f"{prefix}-{uuid.uuid4().hex[:8]}"
        self.cognito.admin_create_user(
            UserPoolId=self.pool_id,
            Username=username,
            TemporaryPassword=temporary or PASSWORD,
            MessageAction="SUPPRESS",
        )
        if temporary is None:
            self.cognito.admin_set_user_password(
                UserPoolId=self.pool_id, Username=username, Password=PASSWORD, Permanent=True
            )
        return username

    def token(self, username: str, password: str = PASSWORD) -> str:
        answer = requests.post(
            f"{self.base}/api/v1/auth/token", json={"username": username, "password": password}, timeout=30
        )
        assert answer.status_code == 200, answer.text
        return answer.json()["access_token"]

    @contextlib.contextmanager
    def slow_engine(self, seconds: float, calls: int):
        """Hold each of the next `calls` model calls for `seconds` (a batch then cannot finish between
        two lines a test reads, however loaded the machine); whatever is left is cleared afterwards."""
        engine = next(line.split()[-1] for line in self.running.lines if "local Bedrock engine" in line)
        fault = {"error": "delay", "delay_seconds": seconds, "count": calls}
        requests.post(f"{engine}/_engine/faults", json=fault, timeout=5).raise_for_status()
        try:
            yield
        finally:
            requests.delete(f"{engine}/_engine/faults", timeout=5).raise_for_status()

    def edits(self, token: str) -> list[dict]:
        """Every edit of the person, counted on the server through the API."""
        found, cursor = [], None
        while True:
            params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
            page = requests.get(
                f"{self.base}/api/v1/edits",
                params=params,
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            ).json()
            found += page["results"]
            cursor = page.get("next_cursor")
            if not cursor:
                return found


@pytest.fixture(scope="package")
def stack(tmp_path_factory):
    running = RunningStack(tmp_path_factory.mktemp("client-stack") / "state").wait_ready()
    try:
        yield Stack(running)
    finally:
        running.stop()
        RunningStack.kill_leftovers()


@pytest.fixture
def cli(stack, tmp_path):
    return Cli(stack.base, tmp_path)


def pytest_collection_modifyitems(items):
    """A test that needs the `make run` process (the `stack` fixture) is slow: `make test-fast` skips it."""
    here = Path(__file__).parent
    for item in items:
        # The hook sees the whole session's items: only this folder's `stack` is the `make run` one.
        if item.path.is_relative_to(here) and "stack" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)

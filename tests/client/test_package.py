"""The client is a distribution of its own: no Django or boto3 among its dependencies, it imports and
runs without them, every command has --help with examples; and it backs off on 429 as told."""

from __future__ import annotations

import http.server
import json
import subprocess
import sys
import threading
import time
import tomllib

from tests.client.conftest import CLIENT_SOURCE
from tests.devstack.running import ROOT

COMMANDS = [
    "login",
    "logout",
    "whoami",
    "edit",
    "batch",
    "history",
    "show",
    "versions",
    "download",
    "delete",
    "models",
    "usage",
]
SERVER_PACKAGES = ("django", "rest_framework", "boto3", "botocore", "pynamodb", "PIL", "zappa", "jose")


def test_its_declared_dependencies_are_only_what_a_terminal_client_needs():
    project = tomllib.loads((ROOT / "client" / "pyproject.toml").read_text())["project"]
    names = {
        dependency.split(">")[0].split("=")[0].split("[")[0].strip().lower()
        for dependency in project["dependencies"]
    }
    assert names == {"requests", "rich"}
    assert project["scripts"] == {"imageedit": "imageedit_client.cli:main"}
    assert project["requires-python"] == ">=3.10"


def test_every_module_imports_and_help_runs_with_the_servers_packages_blocked():
    # A finder that refuses the server's packages, as a fresh venv with only the client would.
    script = f"""
import importlib, pkgutil, sys
BLOCKED = {SERVER_PACKAGES!r}
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError("blocked: " + name)
sys.meta_path.insert(0, Block())
import imageedit_client
for module in pkgutil.iter_modules(imageedit_client.__path__):
    if module.name != "__main__":  # that one runs the command
        importlib.import_module("imageedit_client." + module.name)
from imageedit_client.cli import main
sys.argv = ["imageedit", "--help"]
main()
"""
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(CLIENT_SOURCE), "PATH": "/usr/bin"},
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "exit status:" in done.stdout and "examples:" in done.stdout


def test_every_command_has_help_with_examples():
    for command in COMMANDS:
        done = subprocess.run(
            [sys.executable, "-m", "imageedit_client", command, "--help"],
            capture_output=True,
            text=True,
            env={"PYTHONPATH": str(CLIENT_SOURCE), "PATH": "/usr/bin"},
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert f"imageedit {command}" in done.stdout.split("examples:")[1], command


class _Throttling(http.server.BaseHTTPRequestHandler):
    """429 with Retry-After: 1 twice, then the answer; records when each request came."""

    seen: list[float] = []

    def do_GET(self):  # noqa: N802
        _Throttling.seen.append(time.monotonic())
        if len(_Throttling.seen) <= 2:
            body, status, headers = {"message": "Too Many Requests"}, 429, {"Retry-After": "1"}
        else:
            body, status, headers = {"edits": 0, "limits": {}}, 200, {}
        data = json.dumps(body).encode()
        self.send_response(status)
        for name, value in {
            **headers,
            "Content-Type": "application/json",
            "Content-Length": str(len(data)),
        }.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def test_a_throttled_request_waits_as_retry_after_says_then_goes_on(tmp_path):
    sys.path.insert(0, str(CLIENT_SOURCE))
    from imageedit_client.api import Api
    from imageedit_client.tokens import FileStore

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Throttling)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        endpoint = f"http://127.0.0.1:{server.server_address[1]}"
        store = FileStore()
        notes: list[str] = []
        api = Api(endpoint, store, notify=notes.append)
        api._record = {"access_token": "t", "refresh_token": "r", "expires_at": time.time() + 3600}
        assert api.get("/api/v1/usage") == {"edits": 0, "limits": {}}
    finally:
        server.shutdown()
    gaps = [later - earlier for earlier, later in zip(_Throttling.seen, _Throttling.seen[1:], strict=False)]
    assert len(_Throttling.seen) == 3 and all(gap >= 0.95 for gap in gaps)
    assert notes == ["Too Many Requests; trying again in 1 s"] * 2


def test_a_quota_refusal_is_not_retried_and_exits_5(tmp_path):
    sys.path.insert(0, str(CLIENT_SOURCE))
    import requests
    from imageedit_client.api import error_from_response

    response = requests.Response()
    response.status_code = 429
    response._content = json.dumps(
        {
            "error": {
                "code": "daily_quota_exceeded",
                "message": "Today's 200 edits are used; the quota resets at 00:00 UTC.",
            }
        }
    ).encode()
    response.headers["Retry-After"] = "3600"
    error = error_from_response(response)
    assert (error.code, error.exit_code, error.retry_after) == ("daily_quota_exceeded", 5, 3600.0)

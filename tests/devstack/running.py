"""`python -m devstack.run` as a child process on free ports, for tests that kill or restart it."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent.parent
DEMO = ("demo", "Demo-password-1")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RunningStack:
    """One `make run` process (its own process group), its output collected as it comes."""

    # Every stack started, so that a test that fails half-way leaves none running (conftest.py).
    started: list[RunningStack] = []

    def __init__(self, state_dir: Path, *extra: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        environment = {
            **os.environ,
            "DEMO_USERNAME": DEMO[0],
            "DEMO_PASSWORD": DEMO[1],
            "PYTHONUNBUFFERED": "1",
        }
        environment.pop("DJANGO_SETTINGS_MODULE", None)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "devstack.run", "--state-dir", str(state_dir), *extra]
            + ["--port", str(self.port), "--moto-port", str(free_port()), "--bedrock-port", str(free_port())],
            cwd=ROOT,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        RunningStack.started.append(self)

    @classmethod
    def kill_leftovers(cls) -> None:
        """Kill the process group of every stack a test left running (it failed before stopping it)."""
        while cls.started:
            stack = cls.started.pop()
            if stack.process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(stack.process.pid, signal.SIGKILL)
                stack.process.wait(timeout=30)

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line.decode(errors="replace"))

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_ready(self, limit: float = 90) -> RunningStack:
        """Wait for /healthz (a guard against hanging, not a measurement: the first answer waits for the
        gateway's workers to start, which took over 2 s on a busy machine)."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"the stack exited:\n{self.output[-3000:]}"
            try:
                if requests.get(f"{self.base}/healthz", timeout=20).status_code == 200:
                    return self
            except requests.RequestException:
                pass  # not listening yet, or the gateway's workers are still starting
            time.sleep(0.2)
        raise AssertionError(f"the stack did not answer /healthz:\n{self.output[-3000:]}")

    def token(self) -> str:
        response = requests.post(
            f"{self.base}/api/v1/auth/token", json={"username": DEMO[0], "password": DEMO[1]}, timeout=30
        )
        assert response.status_code == 200, response.text
        return response.json()["access_token"]

    def kill_hard(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self._reader.join(timeout=10)

    def stop(self, signals: int = 1) -> int:
        """SIGTERM, `signals` times in quick succession; the exit code."""
        for _ in range(signals):
            if self.process.poll() is not None:
                break
            self.process.send_signal(signal.SIGTERM)
            time.sleep(0.05)
        try:
            code = self.process.wait(timeout=60)
        finally:
            if self.process.poll() is None:
                os.killpg(self.process.pid, signal.SIGKILL)
        self._reader.join(timeout=10)
        return code


def script_run(script: str, *args: str) -> dict:
    """Run a Python script that drives a LocalStack in a fresh process; its last line of output, as JSON."""
    result = subprocess.run(
        [sys.executable, "-c", script, *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])

"""Zappa's real Lambda handler in worker processes: one request at a time each, as in a Lambda container.

Lambda runs one invocation per execution environment at a time, so each worker is a process that loads
the project's Zappa settings and handler once (a cold start) and then serves invocations one by one. A
busy worker is not handed a second request; the gateway waits for a free one. An invocation that runs
past the gateway's integration timeout keeps its worker until it ends, as a Lambda keeps running after
API Gateway has given up on it.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import queue
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MOTO_ACCOUNT = "123456789012"  # the account moto's resources carry (keys testing/testing)


class IntegrationTimeout(Exception):
    """The invocation did not answer within the integration timeout."""


class FunctionError(Exception):
    """The function raised or its process died (Lambda reports an unhandled error)."""


def zappa_settings_module(stage: str, environment: dict[str, str], directory: Path) -> Path:
    """Write zappa_settings.py as `zappa package` does for `stage`, with the local stack's environment.

    The module is Zappa's own rendering of zappa_settings.json (ZappaCLI.get_zappa_settings_string):
    Django settings, binary support, log level, stage and the rest. Three things differ on this machine:
    ENVIRONMENT_VARIABLES are the local stack's (the stage's point at AWS), REMOTE_ENV is off (the
    secret key file lives in the AWS account's bucket), and the event ARNs carry moto's account id.
    """
    from zappa.cli import ZappaCLI

    cli = ZappaCLI()
    cli.api_stage = stage
    cli.load_settings(str(ROOT / "zappa_settings.json"))
    text = cli.get_zappa_settings_string()
    lines = []
    for line in text.splitlines():
        if line.startswith("ENVIRONMENT_VARIABLES="):
            line = f"ENVIRONMENT_VARIABLES={environment!r}"
        elif line.startswith("REMOTE_ENV="):
            line = "REMOTE_ENV=None"
        elif line.startswith("AWS_EVENT_MAPPING="):
            # The queue has the stage's name here too; only the account is moto's.
            line = line.replace("REPLACE_WITH_ACCOUNT_ID", MOTO_ACCOUNT)
        lines.append(line)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "zappa_settings.py"
    path.write_text("\n".join(lines) + "\n")
    return path


@dataclass
class LambdaContext:
    """The fields of Lambda's context object that Zappa and the app may read."""

    aws_request_id: str
    function_name: str
    deadline: float
    memory_limit_in_mb: int = 1024
    function_version: str = "$LATEST"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.time()) * 1000))


def _worker_main(connection, settings_dir: str, environment: dict, function_name: str, timeout: int) -> None:
    os.environ.update(environment)
    os.chdir(ROOT)
    sys.path[:0] = [settings_dir, str(ROOT)]
    from zappa import handler  # the module Lambda imports: handler.lambda_handler is the entry point

    handler.LambdaHandler("zappa_settings")  # the cold start, before the first request
    connection.send_bytes(b"ready")
    while True:
        try:
            message = connection.recv_bytes()
        except EOFError:
            return
        if message == b"stop":
            return
        event = json.loads(message)
        context = LambdaContext(str(uuid.uuid4()), function_name, time.time() + timeout)
        try:
            result = handler.lambda_handler(event, context)
            payload = json.dumps(result).encode()
        except Exception as exc:  # Lambda's answer to an unhandled error
            payload = json.dumps(
                {"errorType": type(exc).__name__, "errorMessage": str(exc), "__error__": True}
            ).encode()
        connection.send_bytes(payload)


class _Worker:
    def __init__(
        self, context, settings_dir: Path, environment: dict, function_name: str, timeout: int
    ) -> None:
        self.connection, child = context.Pipe()
        self.process = context.Process(
            target=_worker_main,
            args=(child, str(settings_dir), environment, function_name, timeout),
            daemon=True,
            name="lambda-worker",
        )
        self.process.start()
        child.close()

    def wait_ready(self, timeout: float) -> None:
        try:
            ready = self.connection.poll(timeout) and self.connection.recv_bytes() == b"ready"
        except (EOFError, OSError):
            ready = False
        if not ready:
            raise RuntimeError("a Lambda worker did not start (see its output above)")

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.connection.send_bytes(b"stop")
        self.process.join(5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


class LambdaWorkers:
    """A pool of worker processes, each running Zappa's handler; invoke() is one synchronous invocation."""

    def __init__(
        self,
        *,
        settings_dir: Path,
        environment: dict[str, str],
        count: int = 2,
        function_name: str = "imageedit-local",
        timeout_seconds: int = 300,
    ) -> None:
        self.settings_dir = settings_dir
        self.environment = environment
        self.count = count
        self.function_name = function_name
        self.timeout_seconds = timeout_seconds
        self._context = multiprocessing.get_context("spawn")  # nothing inherited from this threaded process
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._all: list[_Worker] = []
        self._lock = threading.Lock()
        self.invocations = 0  # how many events reached the function (tests check refusals never do)

    def _spawn(self) -> _Worker:
        worker = _Worker(
            self._context, self.settings_dir, self.environment, self.function_name, self.timeout_seconds
        )
        with self._lock:
            self._all.append(worker)
        return worker

    def start(self) -> LambdaWorkers:
        workers = [self._spawn() for _ in range(self.count)]
        for worker in workers:
            worker.wait_ready(120)
            self._idle.put(worker)
        return self

    def invoke(self, payload: bytes, timeout: float) -> bytes:
        """Send one event (JSON bytes); return the function's JSON answer, or raise."""
        worker = self._idle.get()
        with self._lock:
            self.invocations += 1
        try:
            worker.connection.send_bytes(payload)
            if worker.connection.poll(timeout):
                answer = worker.connection.recv_bytes()
                self._idle.put(worker)
                return answer
        except (EOFError, OSError):
            self._replace(worker)
            raise FunctionError("the function's process exited") from None
        # API Gateway gives up; the invocation runs on and its worker comes back when it is done.
        threading.Thread(target=self._finish_late, args=(worker,), daemon=True).start()
        raise IntegrationTimeout()

    def _finish_late(self, worker: _Worker) -> None:
        try:
            worker.connection.recv_bytes()
            self._idle.put(worker)
        except (EOFError, OSError):
            self._replace(worker)

    def _replace(self, worker: _Worker) -> None:
        worker.stop()
        with self._lock:
            if worker in self._all:
                self._all.remove(worker)
        replacement = self._spawn()
        replacement.wait_ready(120)
        self._idle.put(replacement)

    def stop(self) -> None:
        with self._lock:
            workers = list(self._all)
            self._all.clear()
        for worker in workers:
            worker.stop()

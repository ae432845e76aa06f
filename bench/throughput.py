"""Throughput on the local stack: 100 edits from 10 users at once, against the minimal handler.

The app runs as `make run` runs it (Django's threaded runserver) in its own process, so its peak RSS
is its own; moto and the local Bedrock engine (OpenCV, not zero-latency) run in the bench's process.
The baseline is the minimal edit handler in its own process, calling the same engine. Each user sends
its edits one after another; the users run at once.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench.common import figure, local_stack, scaled, user_signed_in
from bench.edit_overhead import BOUNDARY, mask_png, multipart, photo_png

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_ready(port: int, process: subprocess.Popen, path: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server on port {port} exited with {process.returncode}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", path)
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server on port {port} did not answer within 60 s")


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc (Linux only)")


def _load(port: int, path: str, tokens: list[str | None], per_user: int, body: bytes, check) -> dict:
    """Every user at once, each sending its edits in turn; latency per edit, errors, completed/s."""
    latencies, errors, lock = [], [], threading.Lock()

    def user(token: str | None) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        headers = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        for _ in range(per_user):
            started = time.perf_counter()
            try:
                connection.request("POST", path, body=body, headers=headers)
                response = connection.getresponse()
                answer = response.read()
                ok = check(response.status, answer)
            except OSError as exc:
                ok, answer = False, str(exc).encode()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            with lock:
                if ok:
                    latencies.append((time.perf_counter() - started) * 1000)
                else:
                    errors.append(answer[:200])

    threads = [threading.Thread(target=user, args=(token,)) for token in tokens]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        print(f"errors on port {port}: {errors[:3]}", flush=True)
    return {"latencies": latencies, "errors": len(errors), "per_second": len(latencies) / elapsed}


def _app_succeeded(status: int, answer: bytes) -> bool:
    return status == 201 and json.loads(answer).get("status") == "SUCCEEDED"


def run() -> list[dict]:
    users, per_user, side = scaled(10, 2), scaled(10, 2), scaled(1024, 256)
    body = multipart(
        {"task": "inpaint", "prompt": "a red door"},
        {"image": ("photo.png", photo_png(6.0, side)), "mask": ("mask.png", mask_png(side, side))},
    )
    with local_stack() as stack:
        tokens = [user_signed_in(f"load-{index}")[1] for index in range(users)]
        app_port, base_port = _free_port(), _free_port()
        environment = {
            **os.environ,
            **stack.app_environment(),
            "DJANGO_SETTINGS_MODULE": "imageedit.settings",
            "DAILY_EDIT_QUOTA": "100000",
            "PYTHONUNBUFFERED": "1",
        }
        app = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "runserver",
                f"127.0.0.1:{app_port}",
                "--noreload",
                "--skip-checks",
            ],
            cwd=ROOT,
            env=environment,
        )
        base = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.minimal_server",
                "--port",
                str(base_port),
                "--engine",
                stack.bedrock_url,
            ],
            cwd=ROOT,
            env=environment,
        )
        try:
            _wait_ready(app_port, app, "/healthz")
            _wait_ready(base_port, base, "/")
            print(f"{users} users x {per_user} edits, {len(body) / 1e6:.2f} MB each", flush=True)
            # One edit each first, not counted: both servers load what their first request needs.
            _load(app_port, "/api/v1/edits", tokens[:1], 1, body, _app_succeeded)
            _load(base_port, "/", [None], 1, body, lambda status, _: status == 200)
            measured = _load(app_port, "/api/v1/edits", tokens, per_user, body, _app_succeeded)
            app_rss = _peak_rss_mb(app.pid)
            baseline = _load(base_port, "/", [None] * users, per_user, body, lambda status, _: status == 200)
            base_rss = _peak_rss_mb(base.pid)
        finally:
            for process in (app, base):
                process.terminate()
                process.wait(timeout=30)
    label = f"{users * per_user} edits, {users} users"
    base_rate = figure(f"  minimal handler: completed/s ({label})", [baseline["per_second"]], unit="/s")
    base_latency = figure(
        "  minimal handler: latency per edit",
        baseline["latencies"] or [0.0],
        note=f"p95 {_p95(baseline['latencies'])} ms",
    )
    base_peak = figure("  minimal handler: server peak RSS", [base_rss], unit="MB")
    return [
        figure(
            f"throughput, app: completed/s ({label})", [measured["per_second"]], unit="/s", baseline=base_rate
        ),
        base_rate,
        figure(
            "throughput, app: latency per edit",
            measured["latencies"] or [0.0],
            baseline=base_latency,
            note=f"p95 {_p95(measured['latencies'])} ms",
        ),
        base_latency,
        figure("throughput, app: errors", [measured["errors"]], unit="", max_p50=0, note="must be 0"),
        figure("  minimal handler: errors", [baseline["errors"]], unit=""),
        figure("throughput, app: server peak RSS", [app_rss], unit="MB", baseline=base_peak),
        base_peak,
    ]


def _p95(samples: list[float]) -> float | None:
    from bench.common import percentile

    return round(percentile(samples, 0.95), 1) if samples else None


if __name__ == "__main__":
    for row in run():
        print(row)

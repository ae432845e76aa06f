"""Local stack start-up with large state: 1,000 edits and 2 GB of images (budget: /healthz within 10 s).

`python -m bench.local_state [--edits N] [--megabytes M]` builds the state through the stack itself (in a
child process: moto's backends are process-wide), then times `python -m devstack.run` from spawn to its
first /healthz 200, beside the same start with empty state, measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUDGET_S = 10.0


def build(state_dir: Path, edits: int, megabytes: int) -> None:
    """Fill `state_dir` through the stack: a user, `edits` succeeded edits, an input and output for each."""
    from bench.common import django_setup

    django_setup()
    from devstack.stack import LocalStack, django_settings_point_at
    from editor.models import SUCCEEDED, ImageEdit, OutputImage, tables_create
    from editor.services import storage
    from editor.services.auth.cognito import cognito_user_create

    stack = LocalStack(state_dir=state_dir).start()
    django_settings_point_at(stack)
    tables_create()
    sub = cognito_user_create(username="state-bench", password="Bench-password-1")
    object_bytes = max(1, megabytes * 1024 * 1024 // (2 * edits))
    payload = os.urandom(object_bytes)  # one buffer, written under every key: the bytes are what count
    with ImageEdit.batch_write() as batch:
        for index in range(edits):
            edit_id = str(uuid.uuid4())
            prefix = f"users/{sub}/edits/{edit_id}"
            for name in ("input.png", "output-0.png"):
                storage.object_put(key=f"{prefix}/{name}", data=payload, content_type="image/png")
            batch.save(
                ImageEdit(
                    id=edit_id,
                    user_id=sub,
                    request_timestamp=f"2026-11-{1 + index % 28:02d}T00:00:00.{index:06d}Z",
                    status=SUCCEEDED,
                    task="inpaint",
                    prompt=f"edit {index}",
                    image_reference=f"{prefix}/input.png",
                    outputs=[
                        OutputImage(key=f"{prefix}/output-0.png", content_type="image/png", width=1, height=1)
                    ],
                )
            )
    stack.stop()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def time_to_healthz(state_dir: Path) -> float:
    """Seconds from spawning `make run`'s process to its first /healthz 200."""
    port = _free_port()
    ports = ["--port", str(port), "--moto-port", str(_free_port()), "--bedrock-port", str(_free_port())]
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "devstack.run", "--state-dir", str(state_dir), *ports],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"devstack.run exited with {process.returncode}")
            try:
                # Our own loopback server.
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        return time.perf_counter() - started
            except OSError:
                time.sleep(0.05)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)


def _size(path: Path) -> int:
    return sum(file.stat().st_size for file in path.rglob("*") if file.is_file())


def run(edits: int = 1000, megabytes: int = 2048, samples: int = 3) -> list[dict]:
    from bench.common import figure, smoke

    if smoke():
        edits, megabytes, samples = 20, 8, 1

    with tempfile.TemporaryDirectory(prefix="imageedit-state-bench-") as scratch:
        large, empty = Path(scratch) / "large", Path(scratch) / "empty"
        started = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.local_state",
                "--build",
                str(large),
                "--edits",
                str(edits),
                "--megabytes",
                str(megabytes),
            ],
            cwd=ROOT,
            check=True,
        )
        journal_mib = (large / "journal").stat().st_size / 2**20
        print(
            f"state built: {edits} edits, {_size(large) / 2**30:.2f} GiB on disk, "
            f"journal {journal_mib:.1f} MiB, in {time.perf_counter() - started:.0f} s",
            flush=True,
        )
        time_to_healthz(empty)  # creates the empty state once, so each sample below is a restart
        baseline, loaded = [], []
        for _ in range(samples):  # interleaved, so drift on this machine hits both alike
            baseline.append(time_to_healthz(empty) * 1000)
            loaded.append(time_to_healthz(large) * 1000)
        empty_row = figure("  start-up to /healthz, empty state", baseline)
        return [
            figure(
                f"start-up to /healthz, {edits} edits + {megabytes} MB",
                loaded,
                baseline=empty_row,
                max_p50=BUDGET_S * 1000,
            ),
            empty_row,
        ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--edits", type=int, default=1000)
    parser.add_argument("--megabytes", type=int, default=2048)
    parser.add_argument("--samples", type=int, default=3)
    parser.add_argument("--build", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build:
        build(args.build, args.edits, args.megabytes)
    else:
        run(args.edits, args.megabytes, args.samples)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`make run` keeps every acknowledged edit through kill -9 under concurrent load, and stops quietly."""

from __future__ import annotations

import base64
import io
import json
import stat
from concurrent.futures import ThreadPoolExecutor, as_completed

import numpy as np
import pytest
import requests
from PIL import Image

from tests.devstack.running import DEMO, RunningStack

pytestmark = pytest.mark.slow  # starts and kills `make run` processes


def photo_and_mask() -> tuple[bytes, bytes]:
    rng = np.random.default_rng(7)
    photo = Image.fromarray(rng.integers(0, 255, (256, 256, 3), dtype=np.uint8))
    mask = Image.new("L", (256, 256), 0)
    mask.paste(255, (64, 64, 192, 192))
    out = []
    for image in (photo, mask):
        buffer = io.BytesIO()
        image.save(buffer, "PNG")
        out.append(buffer.getvalue())
    return out[0], out[1]


def history(stack: RunningStack, token: str) -> dict[str, dict]:
    response = requests.get(
        f"{stack.base}/api/v1/edits?limit=100", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    assert response.status_code == 200, response.text
    return {edit["id"]: edit for edit in response.json()["results"]}


def slow_engine(stack: RunningStack) -> None:
    """Hold every job in the engine, so the kill surely finds edits RUNNING (4 workers) and PENDING."""
    bedrock = next(line.split()[-1] for line in stack.lines if "local Bedrock engine" in line)
    requests.post(
        f"{bedrock}/_engine/faults", json={"error": "delay", "delay_seconds": 10, "count": 20}, timeout=5
    )


def test_kill_9_under_20_concurrent_edits_loses_nothing_acknowledged(tmp_path):
    state = tmp_path / "state"
    photo, mask = photo_and_mask()
    stack = RunningStack(state).wait_ready()
    token = stack.token()
    acknowledged: list[str] = []

    def post(number: int, wait: int = 0):
        return requests.post(
            f"{stack.base}/api/v1/edits",
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": f"edit-{number}"},
            data={"task": "inpaint", "prompt": "grass", "wait": str(wait)},
            files={"image": ("photo.png", photo), "mask": ("mask.png", mask)},
            timeout=60,
        )

    for number in range(100, 103):  # finished before the burst: their results must survive too
        finished = post(number, wait=20)
        assert finished.status_code == 201 and finished.json()["status"] == "SUCCEEDED", finished.text
        acknowledged.append(finished.json()["id"])
    slow_engine(stack)
    with ThreadPoolExecutor(20) as pool:
        futures = [pool.submit(post, number) for number in range(20)]
        for future in as_completed(futures):
            try:
                response = future.result()
            except requests.RequestException:
                continue  # cut off by the kill: never acknowledged
            if 200 <= response.status_code < 300:
                acknowledged.append(response.json()["id"])
            if len(acknowledged) == 15:
                stack.kill_hard()  # mid-flight: requests in the air, jobs pending and running
    assert len(acknowledged) >= 15

    again = RunningStack(state).wait_ready()
    token = again.token()
    after_crash = history(again, token)
    assert set(acknowledged) <= set(after_crash), "an acknowledged edit was lost"
    # The interrupted ones were failed before the app served anything: none waits for a timeout.
    statuses = {edit["status"] for edit in after_crash.values()}
    assert statuses <= {"SUCCEEDED", "FAILED"}, statuses
    failed = [edit for edit in after_crash.values() if edit["status"] == "FAILED"]
    assert len(failed) >= 12 and all(edit["error"]["code"] == "interrupted" for edit in failed)
    succeeded = [edit for edit in after_crash.values() if edit["status"] == "SUCCEEDED"]
    assert set(acknowledged[:3]) <= {edit["id"] for edit in succeeded}
    for edit in succeeded:  # and their images survived too
        assert requests.get(edit["outputs"][0]["url"], timeout=10).content[:8] == b"\x89PNG\r\n\x1a\n"
    assert again.stop() == 0

    third = RunningStack(state).wait_ready()
    assert _same_records(history(third, third.token()), after_crash)
    # Stopping: more signals while it stops change nothing (they once printed a double traceback).
    assert third.stop(signals=4) == 0
    assert "Traceback" not in third.output, third.output[-3000:]
    assert third.output.count("stopped") == 1
    assert_private(state)


def _same_records(now: dict, before: dict) -> bool:
    """Equal but for presigned URLs, which are signed afresh on every read."""

    def stable(edit: dict) -> dict:
        return {
            **{key: value for key, value in edit.items() if not key.endswith("_url")},
            "outputs": [{k: v for k, v in o.items() if not k.endswith("url")} for o in edit["outputs"]],
        }

    return {key: stable(value) for key, value in now.items()} == {
        key: stable(value) for key, value in before.items()
    }


def assert_private(state) -> None:
    """0700 directories, 0600 files, and no password or token anywhere, even inside pickled copies."""
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    secrets = [DEMO[1].encode(), b"eyJ"]  # the password, and the start of every JWT
    for path in state.rglob("*"):
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))
        if path.is_file():
            data = path.read_bytes()
            blobs = [data]
            if path.name.startswith("journal"):
                for line in data.splitlines():
                    record = json.loads(line[9:])
                    blobs.extend(base64.b64decode(value) for key, value in record.items() if key == "state")
            for blob in blobs:
                # Image bytes may hold any three letters by chance; the password is long enough to test.
                for secret in secrets[:1] if path.parent.name == "objects" else secrets:
                    assert secret not in blob, (path, secret)

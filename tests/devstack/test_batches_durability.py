"""A batch survives kill -9 of the whole local stack: every item ends, once, charged once."""

from __future__ import annotations

import pytest

from tests.devstack.batch_client import BatchClient
from tests.devstack.running import RunningStack

pytestmark = pytest.mark.slow  # starts and kills `make run` processes


def test_kill_9_half_way_then_restart_every_item_ends_once(tmp_path):
    state = tmp_path / "state"
    client = BatchClient(RunningStack(state).wait_ready())
    uploads = [client.upload(seed) for seed in range(3)]
    client.engine_delay(0.3, count=200)
    created = client.create([uploads[number % 3] for number in range(30)])
    client.wait(created["id"], until=lambda batch: batch["counts"]["SUCCEEDED"] >= 12)
    client.stack.kill_hard()  # mid-flight: items running in the worker, messages in flight and queued

    client = BatchClient(RunningStack(state).wait_ready())
    assert "unfinished batch item(s) queued again" in client.stack.output
    batch = client.wait(created["id"])
    assert batch["status"] == "COMPLETED", batch
    edits = client.edits(created["id"])
    assert sorted(edit["batch_index"] for edit in edits) == list(range(30))  # exactly one edit per item
    assert {edit["status"] for edit in edits} == {"SUCCEEDED"}, [edit["error"] for edit in edits]
    usage = client.usage()
    assert usage["edits"] == 30  # charged once, when accepted; nothing again after the restart
    assert usage["estimated_spend_usd"] == pytest.approx(created["charged_usd"])
    client.stack.stop()

"""`imageedit batch --server`: the folder handed to POST /api/v1/batches; the client follows the batch,
downloads every result, and a rerun after Ctrl-C follows the same batch (one charge per photo)."""

from __future__ import annotations

import json
import signal

from tests.editor.photo_samples import photo_like


def test_a_server_batch_runs_on_the_server_and_a_rerun_follows_it(stack, cli, tmp_path):
    username = stack.user("server-batch")
    cli.login(username)
    token = stack.token(username)
    photos, out = tmp_path / "photos", tmp_path / "out"
    photos.mkdir()
    for index in range(6):
        photo_like(64, 64, seed=index).save(photos / f"p{index}.png")
    (photos / "broken.png").write_bytes(b"not a picture")
    args = ("batch", str(photos), "--task", "upscale_fast", "--out", str(out), "--yes", "--server")

    first = cli.popen(*args)
    for line in first.stderr:
        if "] done " in line:  # the batch is on the server and results are coming back
            first.send_signal(signal.SIGINT)
            break
    rest = first.communicate(timeout=60)[1]
    assert first.returncode == 130, rest
    assert (out / ".imageedit-server-batch.json").exists()  # what the rerun follows

    second = cli.run(*args, "--json")
    assert second.returncode == 1, second.stderr  # the broken photo failed
    report = json.loads(second.stdout)
    statuses = {item["photo"]: item["status"] for item in report["items"]}
    assert statuses.pop("broken.png") == "FAILED"
    assert set(statuses.values()) <= {"SUCCEEDED", "SKIPPED"} and len(statuses) == 6
    assert all((out / f"p{index}.png").exists() for index in range(6))
    assert not (out / ".imageedit-server-batch.json").exists()
    edits = stack.edits(token)
    assert len(edits) == 7 and len({edit["batch_id"] for edit in edits}) == 1  # one batch, sent once
    assert sorted(edit["batch_index"] for edit in edits) == list(range(7))

"""`imageedit batch`: 12 photos (one broken) in subfolders with masks by stem, interrupted in the
middle, then resumed: the resume makes exactly the missing edits (counted on the server)."""

from __future__ import annotations

import json
import signal

import pytest
from PIL import Image

from tests.editor.photo_samples import photo_like, rect_mask


def _folder(tmp_path):
    photos, masks = tmp_path / "photos", tmp_path / "masks"
    for index in range(11):
        folder = photos / ("sub" if index % 3 == 0 else "")
        folder.mkdir(parents=True, exist_ok=True)
        name = f"p{index:02d}" + (".jpg" if index % 2 else ".png")
        photo_like(320, 240, seed=index).save(folder / name)  # each different: each its own edit
        (masks / ("sub" if index % 3 == 0 else "")).mkdir(parents=True, exist_ok=True)
        rect_mask((320, 240), (100 + index, 80, 180, 160)).save(
            masks / ("sub" if index % 3 == 0 else "") / f"p{index:02d}.png"
        )
    (photos / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not a JPEG at all")
    rect_mask((320, 240), (10, 10, 50, 50)).save(masks / "broken.png")
    return photos, masks


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "killed"])
def test_an_interrupted_batch_resumes_with_exactly_the_missing_edits(stack, cli, tmp_path, stop):
    username = stack.user("batch")
    cli.login(username)
    token = stack.token(username)
    photos, masks = _folder(tmp_path)
    out = tmp_path / "out"
    args = (
        "batch",
        str(photos),
        "--task",
        "erase",
        "--mask",
        str(masks),
        "--out",
        str(out),
        "--recursive",
        "--yes",
    )

    # Each model call held 0.3 s: the eight items left take seconds, so the signal surely finds the run
    # going even when this test reads its lines late (a fast engine could finish the batch first).
    with stack.slow_engine(0.3, calls=12):
        first = cli.popen(*args, "--jobs", "1")
        done_lines = []
        for line in first.stderr:  # one line per finished item when stderr is not a terminal
            if "] done " in line:
                done_lines.append(line)
            if len(done_lines) == 4:
                first.send_signal(stop)
                break
        rest = first.stderr.read()
        first.wait(timeout=60)
    if stop == signal.SIGINT:
        assert first.wait(timeout=60) == 130, rest
        assert "Interrupted: 4 of 12 done." in rest and "Run the same command again to resume" in rest
        assert "imageedit batch" in rest
    else:
        assert first.wait(timeout=60) == -signal.SIGKILL  # a crash: nothing said, nothing tidied
    made_before = {edit["id"] for edit in stack.edits(token)}
    assert 4 <= len(made_before) <= 5  # the four finished, and perhaps the one in flight

    second = cli.run(*args, "--jobs", "3", "--json")
    assert second.returncode == 1, second.stderr  # one item failed: the broken file
    report = json.loads(second.stdout)
    by_photo = {item["photo"]: item for item in report["items"]}
    assert len(by_photo) == 12
    assert by_photo["broken.jpg"]["status"] == "REFUSED"
    assert "may be damaged. (corrupt_image)" in by_photo["broken.jpg"]["message"]  # the server's words
    assert sum(item["status"] == "SKIPPED" for item in report["items"]) == 4
    assert sum(item["status"] == "SUCCEEDED" for item in report["items"]) == 7
    assert "4 finished before (skipped)" in second.stderr
    assert "Estimated cost: at most" in second.stderr and "Left today:" in second.stderr

    edits = stack.edits(token)
    assert len(edits) == 11 and len({edit["id"] for edit in edits}) == 11  # no duplicate of any photo
    assert made_before <= {edit["id"] for edit in edits}
    for index in range(11):
        folder = out / ("sub" if index % 3 == 0 else "")
        with Image.open(folder / (f"p{index:02d}" + (".jpg" if index % 2 else ".png"))) as result:
            assert result.size == (320, 240)
    assert not list(out.rglob("*.part"))

    third = cli.run(*args)  # nothing left but the broken file: no new edit, and the same report
    assert third.returncode == 1
    assert "11 finished before (skipped)" in third.stderr
    assert len(stack.edits(token)) == 11

"""Every shell block a user is told to run, in README.md and docs/**/*.md, runs against one local stack.

Blocks marked `<!-- not-run: why -->` are skipped with that reason (pytest -ra lists them). A block
passes when bash runs it to the end (`set -e -o pipefail`: a failing command, a curl that cannot read a
file or reach the stack, a Python error) and the gateway answered none of its requests with a 5xx.
"""

from __future__ import annotations

import json
import os
import re
import subprocess

import pytest

from tests.devstack.running import ROOT, RunningStack
from tests.docs_blocks import all_shell_blocks, for_the_stack
from tests.editor.photo_samples import encoded, photo_like, rect_mask

BLOCKS = all_shell_blocks()


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    running = RunningStack(tmp_path_factory.mktemp("docs-state"))
    # One stack for every block: out of the per-test clean-up list (conftest.py), stopped here instead.
    RunningStack.started.remove(running)
    try:
        yield running.wait_ready()
    finally:
        running.stop()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """Where the blocks run: the files the docs name (photo.png, mask.png, big.jpg, ...)."""
    directory = tmp_path_factory.mktemp("docs-run")
    photo = photo_like(320, 240)
    (directory / "photo.png").write_bytes(encoded(photo, "png"))
    (directory / "mask.png").write_bytes(encoded(rect_mask((320, 240), (100, 80, 180, 150)), "png"))
    (directory / "small.png").write_bytes(encoded(photo_like(160, 120, seed=3), "png"))
    (directory / "painting.png").write_bytes(encoded(photo_like(320, 240, seed=11), "png"))
    (directory / "big.jpg").write_bytes(encoded(photo_like(1600, 1200, seed=5), "jpeg", quality=95))
    return directory


def _address(output: str, label: str) -> str:
    found = re.search(rf"{label}\s+(http://127\.0\.0\.1:\d+)", output)
    assert found, f"the stack did not print its {label} address"
    return found.group(1)


def _access_log(lines: list[str]) -> list[dict]:
    """The gateway's access-log lines among the stack's output."""
    return [json.loads(line) for line in lines if line.startswith('{"requestId"')]


def test_the_docs_have_blocks_to_run_and_say_why_others_are_not():
    assert any(block.not_run is None for block in BLOCKS)
    for block in BLOCKS:
        assert block.not_run is None or len(block.not_run) > 10, block.name  # a reason a person can read


@pytest.mark.parametrize("block", BLOCKS, ids=[block.name for block in BLOCKS])
def test_a_documented_block_runs(block, request):
    if block.not_run:
        pytest.skip(f"not-run: {block.not_run}")
    stack, workdir = request.getfixturevalue("stack"), request.getfixturevalue("workdir")
    script = for_the_stack(
        block.script,
        base=stack.base,
        moto=_address(stack.output, r"local AWS \(moto\)"),
        bedrock=_address(stack.output, "local Bedrock engine"),
    )
    seen = len(stack.lines)
    result = subprocess.run(
        ["/bin/bash", "-e", "-o", "pipefail", "-c", script],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}", "HOME": str(workdir)},
    )
    assert result.returncode == 0, (
        f"{block.name} failed ({result.returncode})\n--- stdout\n{result.stdout[-3000:]}\n"
        f"--- stderr\n{result.stderr[-3000:]}"
    )
    answered = _access_log(stack.lines[seen:])
    if stack.base in script:
        assert answered, f"{block.name} names the stack but sent it nothing"
    errors = [entry for entry in answered if entry["status"].startswith("5")]
    assert not errors, f"{block.name}: the stack answered 5xx: {errors}"

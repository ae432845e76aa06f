"""Every shell block a user is told to run, in README.md and docs/**/*.md, runs against one local stack.

A document's blocks run in order in one shell, as a person pastes them into one terminal (a later block
may use what an earlier one set), in a fresh folder that holds the files the examples name and links to
the checkout's top level (`.venv`, `deploy`, ...), so commands written for a checkout work. The document
passes when bash runs every block to the end (`set -e -o pipefail`: a failing command, a curl that
cannot read a file or reach the stack, a Python error) and the gateway answered none of its requests with
a 5xx. Blocks marked `<!-- not-run: why -->` (or run by a test of their own) are listed as skipped.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess

import pytest

from tests.devstack.running import ROOT, RunningStack
from tests.docs_blocks import all_shell_blocks, for_the_stack
from tests.editor.photo_samples import encoded, photo_like, rect_mask

pytestmark = pytest.mark.slow  # runs the docs against a `make run` process

BLOCKS = all_shell_blocks()
LEFT_OUT = [block for block in BLOCKS if block.not_run]
DOCUMENTS = sorted({block.path for block in BLOCKS if not block.not_run})
MARKER = "### docs block "


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    running = RunningStack(tmp_path_factory.mktemp("docs-state"))
    # One stack for every document: out of the per-test clean-up list (conftest.py), stopped here instead.
    RunningStack.started.remove(running)
    try:
        yield running.wait_ready()
    finally:
        running.stop()


def workdir_make(directory):
    """A folder with the files the docs name (photo.png, mask.png, big.jpg, ...) and the checkout's
    top level linked in."""
    (directory / "photo.png").write_bytes(encoded(photo_like(320, 240), "png"))
    (directory / "mask.png").write_bytes(encoded(rect_mask((320, 240), (100, 80, 180, 150)), "png"))
    (directory / "small.png").write_bytes(encoded(photo_like(160, 120, seed=3), "png"))
    (directory / "painting.png").write_bytes(encoded(photo_like(320, 240, seed=11), "png"))
    (directory / "big.jpg").write_bytes(encoded(photo_like(1600, 1200, seed=5), "jpeg", quality=95))
    for entry in ROOT.iterdir():
        if not (directory / entry.name).exists() and entry.name not in (".git", ".devstack"):
            (directory / entry.name).symlink_to(entry)
    return directory


def _address(output: str, label: str) -> str:
    found = re.search(rf"{label}\s+(http://127\.0\.0\.1:\d+)", output)
    assert found, f"the stack did not print its {label} address"
    return found.group(1)


def _access_log(lines: list[str]) -> list[dict]:
    """The gateway's access-log lines among the stack's output."""
    return [json.loads(line) for line in lines if line.startswith('{"requestId"')]


def test_the_docs_have_blocks_to_run_and_say_why_others_are_not():
    assert DOCUMENTS
    for block in LEFT_OUT:
        assert len(block.not_run) > 10, block.name  # a reason a person can read
        if block.not_run.startswith("run by "):
            runner = ROOT / block.not_run.split()[2]
            assert runner.is_file() and block.path in runner.read_text(), f"{block.name}: {runner} runs it?"


@pytest.mark.parametrize("block", LEFT_OUT, ids=[block.name for block in LEFT_OUT])
def test_a_block_left_out(block):
    pytest.skip(f"not-run: {block.not_run}")


@pytest.mark.parametrize("document", DOCUMENTS)
def test_a_documents_blocks_run_in_order(document, stack, tmp_path):
    addresses = {
        "base": stack.base,
        "moto": _address(stack.output, r"local AWS \(moto\)"),
        "bedrock": _address(stack.output, "local Bedrock engine"),
    }
    blocks = [block for block in BLOCKS if block.path == document and not block.not_run]
    script = "".join(
        f"echo {shlex.quote(MARKER + block.name)} >&2\n{for_the_stack(block.script, **addresses)}"
        for block in blocks
    )
    seen = len(stack.lines)
    result = subprocess.run(
        ["/bin/bash", "-e", "-o", "pipefail", "-c", script],
        cwd=workdir_make(tmp_path),
        capture_output=True,
        text=True,
        timeout=600,
        env={"PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}", "HOME": str(tmp_path)},
    )
    last = [line[len(MARKER) :] for line in result.stderr.splitlines() if line.startswith(MARKER)]
    assert result.returncode == 0, (
        f"{last[-1] if last else document} failed ({result.returncode})\n"
        f"--- stdout\n{result.stdout[-3000:]}\n--- stderr\n{result.stderr[-3000:]}"
    )
    answered = _access_log(stack.lines[seen:])
    assert answered, f"{document}'s blocks sent the stack nothing"
    errors = [entry for entry in answered if entry["status"].startswith("5")]
    assert not errors, f"{document}: the stack answered 5xx: {errors}"

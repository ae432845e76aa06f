"""A batch that cannot fit today's quota is refused before anything is sent (a stack with a quota of 3
edits a day); one that would need an answer from a terminal that is not there asks for --yes."""

from __future__ import annotations

import pytest

from tests.client.conftest import Cli, Stack
from tests.devstack.running import RunningStack
from tests.editor.photo_samples import photo_like


def _photos(folder, count):
    folder.mkdir()
    for index in range(count):
        photo_like(96, 64, seed=index).save(folder / f"p{index}.png")
    return folder


@pytest.mark.slow  # a `make run` process of its own, with a small quota
def test_a_batch_over_the_daily_quota_is_refused_up_front(tmp_path, monkeypatch):
    monkeypatch.setenv("DAILY_EDIT_QUOTA", "3")  # the stack's app reads its limits from the environment
    running = RunningStack(tmp_path / "state").wait_ready()
    try:
        stack = Stack(running)
        username = stack.user("quota")
        cli = Cli(stack.base, tmp_path)
        cli.login(username)
        photos, out = _photos(tmp_path / "photos", 5), tmp_path / "out"

        refused = cli.run("batch", str(photos), "--task", "remove_background", "--out", str(out), "--yes")
        assert refused.returncode == 5, refused.stderr
        assert "5 edits do not fit in today's quota: 3 left" in refused.stderr
        assert "Nothing was sent." in refused.stderr
        assert stack.edits(stack.token(username)) == [] and not out.exists()

        for extra in (3, 4):
            (photos / f"p{extra}.png").unlink()
        fits = cli.run("batch", str(photos), "--task", "remove_background", "--out", str(out), "--yes")
        assert fits.returncode == 0, fits.stderr
        assert len(stack.edits(stack.token(username))) == 3
    finally:
        running.stop()


def test_without_a_terminal_the_batch_asks_for_yes_and_sends_nothing(stack, cli, tmp_path):
    username = stack.user("asked")
    cli.login(username)
    photos = _photos(tmp_path / "photos", 2)
    done = cli.run("batch", str(photos), "--task", "remove_background", "--out", str(tmp_path / "out"))
    assert done.returncode == 2
    assert "Estimated cost: at most $" in done.stderr and "Add --yes" in done.stderr
    assert stack.edits(stack.token(username)) == []


@pytest.mark.parametrize("task", ["replace"])
def test_a_task_the_server_cannot_run_is_refused_before_any_upload(stack, cli, tmp_path, task):
    username = stack.user("unavailable")
    cli.login(username)
    photos = _photos(tmp_path / "photos", 1)
    done = cli.run(
        "batch",
        str(photos),
        "--task",
        task,
        "--search-prompt",
        "a cat",
        "--out",
        str(tmp_path / "o"),
        "--yes",
    )
    assert done.returncode == 4
    assert f"The '{task}' task is not available here" in done.stderr
    assert stack.edits(stack.token(username)) == []

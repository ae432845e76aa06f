"""Local-stack tests: no `make run` process outlives the test that started it."""

from __future__ import annotations

import pytest

from tests.devstack.running import RunningStack


@pytest.fixture(autouse=True)
def _no_stack_left_running():
    yield
    RunningStack.kill_leftovers()

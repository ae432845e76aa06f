"""`make run`'s signal handling: the first signal stops it, later ones cannot interrupt the stop."""

from __future__ import annotations

import signal

import pytest

from devstack import run

pytestmark = pytest.mark.slow  # starts `make run` in a child process


def test_after_the_first_signal_later_ones_are_ignored():
    previous = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        signal.signal(signal.SIGINT, run._interrupt)
        signal.signal(signal.SIGTERM, run._interrupt)
        with pytest.raises(KeyboardInterrupt):
            run._interrupt(signal.SIGTERM, None)
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_IGN
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def test_reset_moves_the_state_aside_instead_of_deleting_it(tmp_path):
    from devstack.persistence import state_reset

    state = tmp_path / ".devstack"
    state.mkdir()
    (state / "journal").write_bytes(b"a person's edits")
    kept = state_reset(state)
    assert not state.exists()
    assert kept.parent == tmp_path and kept.name.startswith(".devstack.reset-")
    assert (kept / "journal").read_bytes() == b"a person's edits"
    assert state_reset(state) is None  # nothing to set aside

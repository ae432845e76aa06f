"""`make run`'s signal handling: the first signal stops it, later ones cannot interrupt the stop."""

from __future__ import annotations

import signal

import pytest

from devstack import run


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

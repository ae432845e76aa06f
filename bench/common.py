"""Shared helpers: Django on the local stack, percentiles, and the figures table."""

from __future__ import annotations

import contextlib
import os
import statistics
import threading
import time


def django_setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imageedit.settings")
    import django

    django.setup()


@contextlib.contextmanager
def local_stack():
    """The local stack with Django's settings pointed at it and the tables created."""
    django_setup()
    from devstack.stack import LocalStack, django_settings_point_at, django_settings_restore
    from editor.models import tables_create

    stack = LocalStack().start()
    previous = django_settings_point_at(stack)
    tables_create()
    try:
        yield stack
    finally:
        django_settings_restore(previous)
        stack.stop()


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def report(name: str, samples_ms: list[float], budget_ms: float | None = None, unit: str = "ms") -> dict:
    figures = {
        "benchmark": name,
        "n": len(samples_ms),
        "p50": round(statistics.median(samples_ms), 2),
        "p90": round(percentile(samples_ms, 0.9), 2),
        "max": round(max(samples_ms), 2),
        "unit": unit,
    }
    if budget_ms is not None:
        figures["budget_p50"] = budget_ms
        figures["within_budget"] = figures["p50"] <= budget_ms
    print(
        f"{name:<44} n={figures['n']:<4} p50={figures['p50']:>9.2f} {unit}  p90={figures['p90']:>9.2f} {unit}"
        + (
            f"  budget p50<={budget_ms} {unit}: {'OK' if figures['within_budget'] else 'OVER'}"
            if budget_ms
            else ""
        ),
        flush=True,
    )
    return figures


class AwsCallTimer:
    """Sum the time spent in botocore's HTTP sends, across threads (the job runs on a worker thread)."""

    def __init__(self) -> None:
        import botocore.endpoint

        self.total = 0.0
        self.calls = 0
        self._lock = threading.Lock()
        original = botocore.endpoint.Endpoint._send
        timer = self

        def timed_send(endpoint, request):
            started = time.perf_counter()
            try:
                return original(endpoint, request)
            finally:
                with timer._lock:
                    timer.total += time.perf_counter() - started
                    timer.calls += 1

        botocore.endpoint.Endpoint._send = timed_send

    def take(self) -> tuple[float, int]:
        with self._lock:
            total, calls, self.total, self.calls = self.total, self.calls, 0.0, 0
        return total * 1000, calls

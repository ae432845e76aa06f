"""Shared helpers: Django on the local stack, percentiles, figures beside their baselines, the table."""

from __future__ import annotations

import contextlib
import os
import statistics
import threading
import time


def smoke() -> bool:
    """BENCH_SMOKE=1 (or `python -m bench --smoke`): each benchmark once, tiny, to prove it runs."""
    return os.environ.get("BENCH_SMOKE", "") not in ("", "0")


def scaled(full: int, tiny: int) -> int:
    return tiny if smoke() else full


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


# The app's code the benchmarks call, imported here only, so a move inside editor/ is fixed in one place.


PASSWORD = "Bench-password-1"


def user_signed_in(username: str, password: str = PASSWORD) -> tuple[str, str]:
    """Create a Cognito user on the local stack and sign it in: (sub, access token)."""
    from editor.services.auth.cognito import cognito_sign_in, cognito_user_create

    sub = cognito_user_create(username=username, password=password)
    return sub, cognito_sign_in(username=username, password=password)["access_token"]


def bedrock_point_at(url: str):
    """Point the app's Bedrock client at `url`; return a plain boto3 client with the app's settings."""
    import boto3
    from django.conf import settings

    from editor.services.aws import aws_clients_reset, bedrock_client_config

    settings.BEDROCK_ENDPOINT_URL = url
    settings.BEDROCK_LOCAL_ENGINE = True
    aws_clients_reset()
    return boto3.client(
        "bedrock-runtime", endpoint_url=url, region_name="us-east-1", config=bedrock_client_config()
    )


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def figure(
    name: str,
    samples: list[float],
    *,
    unit: str = "ms",
    baseline: dict | None = None,
    max_p50: float | None = None,
    max_ratio: float | None = None,
    note: str = "",
) -> dict:
    """One row of the table: p50/p90 of the samples, beside a baseline figure of the same run.

    The verdict is "ok" or "over" when there is a budget (every bound must hold), else "info".
    """
    row = {
        "figure": name,
        "unit": unit,
        "n": len(samples),
        "p50": round(statistics.median(samples), 2),
        "p90": round(percentile(samples, 0.9), 2),
        "baseline": None,
        "baseline_p50": None,
        "ratio": None,
        "budget": None,
        "verdict": "info",
        "note": note,
    }
    if baseline is not None:
        row["baseline"] = baseline["figure"].strip()
        row["baseline_p50"] = baseline["p50"]
        row["ratio"] = round(row["p50"] / baseline["p50"], 2) if baseline["p50"] else None
    bounds, held = [], []
    if max_p50 is not None:
        bounds.append(f"p50<={max_p50:g}{unit}")
        held.append(row["p50"] <= max_p50)
    if max_ratio is not None:
        bounds.append(f"ratio<={max_ratio:g}")
        held.append(row["ratio"] is not None and row["ratio"] <= max_ratio)
    if bounds:
        row["budget"] = " & ".join(bounds)
        row["verdict"] = "ok" if all(held) else "over"
    print(f"figure: {row}", flush=True)
    return row


def report(name: str, samples_ms: list[float], budget_ms: float | None = None, unit: str = "ms") -> dict:
    """The older helper's signature, kept so a benchmark written against it still makes a table row."""
    return figure(name, samples_ms, unit=unit, max_p50=budget_ms)


def unmeasured(name: str, reason: str, verdict: str = "not measured") -> dict:
    """A row that says plainly why there is no figure (a refusal, or work still to come)."""
    row = {
        "figure": name,
        "unit": "",
        "n": 0,
        "p50": None,
        "p90": None,
        "baseline": None,
        "baseline_p50": None,
        "ratio": None,
        "budget": None,
        "verdict": verdict,
        "note": reason,
    }
    print(f"figure: {row}", flush=True)
    return row


def _cell(value, width: int, unit: str = "") -> str:
    if value is None:
        return "-".rjust(width)
    if isinstance(value, float):
        text = f"{value:.2f}" if abs(value) < 100 else f"{value:.0f}"
        return (text + unit).rjust(width)
    return str(value).rjust(width)


def table(rows: list[dict]) -> str:
    """The figures as a fixed-width text table: figure, p50, p90, n, baseline, ratio, budget, verdict."""
    lines = [
        f"{'figure':<58} {'p50':>10} {'p90':>10} {'n':>4}  {'baseline (p50)':<44} {'ratio':>6}  "
        f"{'budget':<24} verdict",
        "-" * 176,
    ]
    for row in rows:
        unit = {"ms": "ms", "MB": "MB", "/s": "/s"}.get(row["unit"], "")
        baseline = ""
        if row["baseline"]:
            baseline = f"{row['baseline'][:33]} ({_cell(row['baseline_p50'], 0, unit).strip()})"
        verdict = row["verdict"] + (f": {row['note']}" if row.get("note") else "")
        lines.append(
            f"{row['figure'][:58]:<58} {_cell(row['p50'], 10, unit)} {_cell(row['p90'], 10, unit)} "
            f"{row['n']:>4}  {baseline[:44]:<44} {_cell(row['ratio'], 6)}  {(row['budget'] or ''):<24} "
            f"{verdict}"
        )
    return "\n".join(lines)


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
        self._original = original

    def take(self) -> tuple[float, int]:
        with self._lock:
            total, calls, self.total, self.calls = self.total, self.calls, 0.0, 0
        return total * 1000, calls

    def close(self) -> None:
        import botocore.endpoint

        botocore.endpoint.Endpoint._send = self._original

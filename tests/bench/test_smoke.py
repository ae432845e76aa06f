"""Each benchmark runs once, tiny (--smoke), and leaves its figures in the JSON: no timings are asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.__main__ import BENCHMARKS
from deploy.package import lambda_python

pytestmark = pytest.mark.slow  # every benchmark once, each in processes of its own

ROOT = Path(__file__).resolve().parents[2]
# The figure names each benchmark must produce (a prefix is enough).
EXPECTED = {
    "cold start": ["cold start, imageedit (no SnapStart)", "cold start, minimal", "cold start, bare handler"],
    "edit overhead": [
        "edit overhead, photo-like",
        "edit overhead, smooth",
        "  protocol, photo-like",
        "cost: infrastructure per 1,000 edits",
        "edit",
    ],
    "history": [
        "history API, page 1 of",
        "history API, page 3 of",
        "  raw boto3 Query, same page, client side",
    ],
    "throughput": [
        "throughput, app: completed/s",
        "  minimal handler: completed/s",
        "throughput, app: errors",
    ],
    "large photos": ["large photos"],
    "package": ["package, imageedit: zipped", "package, minimal app: zipped"],
    "local engine": ["local engine: inpaint"],
    "access that ends": ["auth: full authenticate, warm cache", "auth: token-state check alone, warm"],
    "local state": ["start-up to /healthz, 20 edits", "  start-up to /healthz, empty state"],
    "batches": [
        "batches: POST of",
        "batches: worker's own time per item",
        "single edit: app's own time",
    ],
}
NEEDS_LAMBDA_PYTHON = {"cold start", "package"}


@pytest.fixture(scope="module")
def smoke_results(tmp_path_factory) -> dict:
    """One `python -m bench --smoke` run for all the tests below (they read its JSON)."""
    folder = tmp_path_factory.mktemp("bench")
    results, log = folder / "results.json", folder / "bench.log"
    only = [
        arg
        for name, _ in BENCHMARKS
        if name not in NEEDS_LAMBDA_PYTHON or lambda_python()
        for arg in ("--only", name)
    ]
    completed = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--results", str(results), "--log", str(log), *only],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    return {
        "returncode": completed.returncode,
        "stdout": completed.stdout,
        "log": log.read_text() if log.exists() else "",
        "json": json.loads(results.read_text()),
    }


def test_every_benchmark_is_registered_with_expectations():
    assert {name for name, _ in BENCHMARKS} == set(EXPECTED)


@pytest.mark.parametrize("name", list(EXPECTED))
def test_benchmark_runs_and_writes_its_figures(smoke_results, name):
    if name in NEEDS_LAMBDA_PYTHON and not lambda_python():
        pytest.skip("no python3.12 on this machine (pyenv 3.12.1 expected)")
    rows = smoke_results["json"]["rows"]
    assert name not in smoke_results["json"]["failed"], smoke_results["log"][-3000:]
    for prefix in EXPECTED[name]:
        matching = [row for row in rows if row["figure"].startswith(prefix)]
        assert matching, f"no figure starting {prefix!r} in {[row['figure'] for row in rows]}"
        for row in matching:
            assert row["verdict"] in ("ok", "over", "info", "refused", "not measured"), row
            if row["verdict"] in ("ok", "over", "info"):
                assert row["n"] >= 1 and row["p50"] is not None and row["p90"] >= row["p50"], row
            if row["baseline"]:
                assert row["baseline_p50"] is not None, row


def test_the_table_goes_to_stdout_and_the_logs_to_the_file(smoke_results):
    assert smoke_results["returncode"] == 0, smoke_results["log"][-3000:]
    header = smoke_results["stdout"].splitlines()[1].split()
    assert header[:4] == ["figure", "p50", "p90", "n"] and header[-1] == "verdict"
    assert "== history ==" in smoke_results["log"]
    assert "== history ==" not in smoke_results["stdout"]


def test_compare_lines_up_two_runs(smoke_results, tmp_path):
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    first.write_text(json.dumps(smoke_results["json"]))
    later = json.loads(json.dumps(smoke_results["json"]))
    measured = next(row for row in later["rows"] if row["p50"])
    measured["p50"] = measured["p50"] * 2
    second.write_text(json.dumps(later))
    completed = subprocess.run(
        [sys.executable, "-m", "bench", "compare", str(first), str(second)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(line for line in completed.stdout.splitlines() if line.startswith(measured["figure"][:58]))
    assert "+100%" in line

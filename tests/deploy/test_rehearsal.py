"""`make deploy-rehearsal`: the deploy of docs/deploy.md against a local moto server, start to finish."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # builds the package and plays the whole deploy against moto

ROOT = Path(__file__).resolve().parents[2]
DEPLOY_DOC = (ROOT / "docs" / "deploy.md").read_text()


def test_the_deploy_rehearsal_passes_and_moto_gaps_are_in_the_deploy_doc(built_package):
    # A separate process: the rehearsal points every AWS client (and Zappa's CLI) at its own moto server.
    result = subprocess.run(
        [sys.executable, "-m", "deploy.rehearsal", "production", "--package", str(built_package)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=170,
    )
    print(result.stdout[-5000:], result.stderr[-3000:])
    assert result.returncode == 0, result.stdout[-3000:]
    for step in (
        "zappa deploy production",
        "zappa update production",
        "zappa rollback production -n 1",
        "zappa undeploy production",
    ):
        assert f"== {step}" in result.stdout
    assert "0 failure(s)" in result.stdout
    # Every gap the rehearsal met is listed in docs/deploy.md (by its resource type or Lambda operation).
    gaps = [
        line.split("moto cannot: ", 1)[1] for line in result.stdout.splitlines() if "moto cannot: " in line
    ]
    assert gaps
    for gap in gaps:
        keys = re.findall(r"AWS::\w+::\w+|(?<=Lambda )\w+|SnapStart", gap)
        assert keys, gap
        assert all(key in DEPLOY_DOC for key in keys), f"docs/deploy.md does not list: {gap}"

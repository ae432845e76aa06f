"""The Lambda package, built once per test session (the package tests and the deploy rehearsal share it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from deploy import package


@pytest.fixture(scope="session")
def built_package(tmp_path_factory) -> Path:
    output = tmp_path_factory.mktemp("package") / "imageedit-production.zip"
    package.main(["production", "--output", str(output)])
    return output

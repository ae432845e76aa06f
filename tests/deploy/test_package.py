"""zappa_settings.json is sound, and the Lambda package builds from Lambda wheels without excluded paths."""

from __future__ import annotations

import importlib
import json
import zipfile
from pathlib import Path

import pytest

from deploy import package

ROOT = Path(__file__).resolve().parent.parent.parent
SETTINGS = json.loads((ROOT / "zappa_settings.json").read_text())


@pytest.mark.parametrize("stage", ["dev", "production"])
def test_stage_settings(stage):
    config = {**SETTINGS["production"], **SETTINGS[stage]}
    assert config["runtime"] == "python3.12"
    assert config["endpoint_configuration"] == ["REGIONAL"]
    assert config["binary_support"] is True
    assert config["django_settings"] == "imageedit.settings"
    assert config["use_precompiled_packages"] is False  # our wheels, not Zappa's silent fallback
    environment = config["environment_variables"]
    assert environment["IMAGEEDIT_ENV"] == "production"
    read_timeout, attempts = (
        float(environment["BEDROCK_READ_TIMEOUT_SECONDS"]),
        int(environment["BEDROCK_MAX_ATTEMPTS"]),
    )
    assert (
        read_timeout * attempts + 30
        <= int(environment["EDIT_JOB_TIMEOUT_SECONDS"])
        <= config["timeout_seconds"]
    )
    assert not any("SECRET" in name for name in environment), "secrets belong in remote_env, not in the repo"
    for excluded in ("devstack", "tests", "bench", "infra", ".venv"):
        assert excluded in config["exclude"]


def test_scheduled_events_point_at_real_functions():
    for event in SETTINGS["production"]["events"]:
        module, name = event["function"].rsplit(".", 1)
        assert callable(getattr(importlib.import_module(module), name))


@pytest.fixture(scope="module")
def built_package(tmp_path_factory) -> Path:
    output = tmp_path_factory.mktemp("package") / "imageedit-production.zip"
    package.main(["production", "--output", str(output)])
    return output


def test_package_holds_the_app_and_nothing_excluded(built_package):
    with zipfile.ZipFile(built_package) as archive:
        names = archive.namelist()
    assert "handler.py" in names and "zappa_settings.py" in names
    assert "editor/services/bedrock.py" in names and "templates/base.html" in names
    assert any(name.startswith("editor/static/editor/") for name in names)
    forbidden = [name for name in names if name.startswith(package.FORBIDDEN_PREFIXES)]
    assert forbidden == []
    # Lambda's own wheels: compiled modules are for CPython 3.12 on manylinux x86_64.
    compiled = [name for name in names if name.endswith(".so")]
    assert compiled and all(
        "cpython-312" in name or "abi3" in name or ".libs/" in name for name in compiled
    ), [
        name for name in compiled if "cpython-312" not in name and "abi3" not in name and ".libs/" not in name
    ]
    assert built_package.stat().st_size <= package.SIZE_BUDGET_MB * 1_000_000


def test_package_check_refuses_forbidden_paths(tmp_path):
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as archive:
        archive.writestr("handler.py", "")
        archive.writestr("devstack/stack.py", "")
    with pytest.raises(SystemExit, match="excluded paths"):
        package.package_check(bad)

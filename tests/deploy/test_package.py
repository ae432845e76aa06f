"""zappa_settings.json is sound, and the Lambda package builds from Lambda wheels without excluded paths."""

from __future__ import annotations

import importlib
import json
import zipfile
from pathlib import Path

import pytest

from deploy import package

pytestmark = pytest.mark.slow  # builds the Lambda package from wheels and runs it on python3.12

ROOT = Path(__file__).resolve().parent.parent.parent
SETTINGS = json.loads((ROOT / "zappa_settings.json").read_text())


@pytest.mark.parametrize("stage", ["dev", "production"])
def test_stage_settings(stage):
    config = {**SETTINGS["production"], **SETTINGS[stage]}
    assert config["runtime"] == "python3.12"
    assert config["apigateway_enabled"] is False  # infra/template.yaml owns the REST API (design §1.1)
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


def test_production_starts_from_a_snapshot():
    production = SETTINGS["production"]
    assert production["snap_start"] == "PublishedVersions"
    assert production["keep_warm"] is False  # a snapshot makes warming pings pointless
    assert production["aws_environment_variables"]["INSTANTIATE_LAMBDA_HANDLER_ON_IMPORT"] == "true"
    assert production["environment_variables"]["IMAGEEDIT_WARM_ON_START"] == "true"
    assert production["debug"] is False


def test_scheduled_events_point_at_real_functions():
    events = SETTINGS["production"]["events"]
    assert events, "production has no scheduled events (the stale-edit and upload sweeps)"
    for event in events:
        module, name = event["function"].rsplit(".", 1)
        assert callable(getattr(importlib.import_module(module), name))


def test_package_holds_the_app_and_nothing_excluded(built_package):
    with zipfile.ZipFile(built_package) as archive:
        names = archive.namelist()
    assert "handler.py" in names and "zappa_settings.py" in names
    assert "editor/services/bedrock/runtime.py" in names and "templates/base.html" in names
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


SMOKE = r"""
import io, json, sys, time
sys.path[:0] = [sys.argv[1], sys.argv[2]]
from PIL import Image
for kind in ("PNG", "JPEG", "WEBP"):
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "red").save(out, kind)
    assert Image.open(io.BytesIO(out.getvalue())).size == (64, 48), kind
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives import serialization
from jose import jwt
key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
encoding, formats = serialization.Encoding.PEM, serialization.PrivateFormat
pem = key.private_bytes(encoding, formats.PKCS8, serialization.NoEncryption())
public = key.public_key().public_bytes(encoding, serialization.PublicFormat.SubjectPublicKeyInfo)
token = jwt.encode({"sub": "x", "exp": time.time() + 60}, pem.decode(), algorithm="RS256")
assert jwt.decode(token, public.decode(), algorithms=["RS256"])["sub"] == "x"
# The Content Credentials layer, where Lambda puts it on sys.path: its shared library loads here.
sys.path.insert(0, sys.argv[3])
import c2pa
print(json.dumps({"c2pa": c2pa.sdk_version()}))
import zappa_settings
host = zappa_settings.ENVIRONMENT_VARIABLES["DJANGO_ALLOWED_HOSTS"].split(",")[0].lstrip(".")
from handler import lambda_handler
class Context:
    aws_request_id = "smoke"
    function_name = "imageedit-production"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:imageedit-production"
    def get_remaining_time_in_millis(self):
        return 300000
event = {"resource": "/{proxy+}", "path": "/healthz", "httpMethod": "GET",
         "headers": {"Host": "smoke." + host, "X-Forwarded-Proto": "https"}, "multiValueHeaders": {},
         "queryStringParameters": None, "pathParameters": {"proxy": "healthz"}, "body": None,
         "isBase64Encoded": False, "requestContext": {"requestId": "smoke-1", "stage": "production",
         "httpMethod": "GET", "path": "/production/healthz", "identity": {"sourceIp": "127.0.0.1"}}}
response = lambda_handler(event, Context())
print(json.dumps({"status": response["statusCode"], "body": response["body"]}))
"""


def test_package_runs_on_lambdas_python(built_package, tmp_path):
    """Pillow, cryptography and the Zappa handler load from the package on python3.12, and it serves."""
    import os
    import subprocess

    python = package.lambda_python()
    if python is None:
        missing = "no python3.12 on this machine (pyenv 3.12.1 expected)"
        # In CI the check is required: .ci/run provides python3.12, and a runner without it must fail loudly.
        if os.environ.get("CI") == "true":
            pytest.fail(f"{missing}: CI=true requires Lambda's Python for this check", pytrace=False)
        pytest.skip(missing)
    tree, runtime = package.extract_for_local_run(built_package, tmp_path / "task"), tmp_path / "runtime"
    with zipfile.ZipFile(built_package.with_name("imageedit-c2pa-layer.zip")) as layer:
        layer.extractall(tmp_path / "opt")
    boto3 = next(
        line for line in (ROOT / "requirements.txt").read_text().splitlines() if line.startswith("boto3==")
    )
    package.pip_install_for_lambda(runtime, boto3)
    environment = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/root"),
        "PYENV_VERSION": "3.12.1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "IMAGEEDIT_ENV": "production",
        "DJANGO_SECRET_KEY": "smoke-" + "k" * 50,
        "S3_BUCKET": "b",
        "COGNITO_USER_POOL_ID": "us-east-1_x",
        "COGNITO_APP_CLIENT_ID": "c",
        **package.LOCAL_RUN_ENVIRONMENT,
        "AWS_LAMBDA_FUNCTION_NAME": "imageedit-production",
        # As in production: Zappa's handler, Django and every view load in the init phase (SnapStart).
        **SETTINGS["production"]["aws_environment_variables"],
    }
    result = subprocess.run(
        [python, "-c", SMOKE, str(tree), str(runtime), str(tmp_path / "opt" / "python")],
        cwd=tree,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["status"] == 200 and json.loads(outcome["body"]) == {"status": "ok"}
    assert "Could not load remote settings" not in result.stdout + result.stderr  # no S3 read was tried
    assert '{"c2pa": ' in result.stdout  # the layer's bindings load on Lambda's Python
    with zipfile.ZipFile(built_package) as archive:
        assert "editor/services/edits/__pycache__/running.cpython-312.pyc" in archive.namelist()


def test_the_content_credentials_layer_holds_the_bindings_and_the_function_does_not(built_package):
    layer = built_package.with_name("imageedit-c2pa-layer.zip")
    with zipfile.ZipFile(layer) as archive:
        names = archive.namelist()
    assert "python/c2pa/libs/libc2pa_c.so" in names and "python/c2pa/c2pa.py" in names
    assert not [name for name in names if name.endswith((".rlib", ".d"))]  # never loaded, 31 MB
    assert not [name for name in names if name.startswith(("python/requests/", "python/cryptography/"))]
    assert layer.stat().st_size <= package.LAYER_SIZE_BUDGET_MB * 1_000_000
    with zipfile.ZipFile(built_package) as archive:
        assert not [name for name in archive.namelist() if name.startswith("c2pa/")]

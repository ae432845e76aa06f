"""Production settings: `manage.py check --deploy` is clean, and a missing required setting stops the app."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import PRODUCTION, manage

ROOT = Path(__file__).resolve().parent.parent


def test_check_deploy_is_clean_for_production_settings():
    # With the start-up warm-up on, as deployed: every view module is imported while Django starts.
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        environment={**PRODUCTION, "IMAGEEDIT_WARM_ON_START": "true"},
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_required_setting():
    result = manage(
        "check", environment={key: value for key, value in PRODUCTION.items() if key != "S3_BUCKET"}
    )
    assert result.returncode != 0
    assert "S3_BUCKET must be set in production" in result.stderr


def test_production_is_not_debug_and_cookies_are_secure():
    probe = (
        "from django.conf import settings as s; "
        "print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY)"
    )
    result = manage("shell", "-c", probe, environment=PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].split() == ["False", "True", "True", "True"]


# The probe prints, for every task, whether it is refused as beyond the local engine, then where the two
# Bedrock clients send their calls.
ENGINE_PROBE = (
    "from editor.services.bedrock.catalog import LOCAL_ENGINE_CANNOT, engine_describe; "
    "from editor.services.bedrock.catalog import task_unavailable_note; "
    "from editor.services.aws import aws_client; "
    "print(sum(task_unavailable_note(t) is not None for t in LOCAL_ENGINE_CANNOT), len(LOCAL_ENGINE_CANNOT), "
    "engine_describe()['local'], aws_client('bedrock-runtime').meta.endpoint_url, "
    "aws_client('bedrock').meta.endpoint_url)"
)
FIPS = "https://bedrock-runtime-fips.us-east-1.amazonaws.com"


def test_a_custom_bedrock_endpoint_alone_refuses_no_task():
    # A FIPS (or VPC) endpoint of the real Bedrock: every task stays on, the control plane stays AWS's own.
    result = manage(
        "shell", "-c", ENGINE_PROBE, environment={**PRODUCTION, "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": FIPS}
    )
    assert result.returncode == 0, result.stderr
    refused, tasks, local, runtime, control = result.stdout.strip().splitlines()[-1].split()
    assert int(tasks) == 7
    assert (refused, local) == ("0", "False")
    assert runtime == FIPS
    assert control == "https://bedrock.us-east-1.amazonaws.com"


def test_the_local_engine_is_said_explicitly_and_then_refuses_what_it_cannot_do():
    engine = "http://127.0.0.1:5002"
    environment = {"AWS_ENDPOINT_URL_BEDROCK_RUNTIME": engine, "BEDROCK_LOCAL_ENGINE": "true"}
    result = manage("shell", "-c", ENGINE_PROBE, environment=environment)
    assert result.returncode == 0, result.stderr
    refused, tasks, local, runtime, control = result.stdout.strip().splitlines()[-1].split()
    assert refused == tasks == "7"
    assert local == "True"
    assert runtime == control == engine


def test_production_refuses_the_local_engine_setting():
    result = manage("check", environment={**PRODUCTION, "BEDROCK_LOCAL_ENGINE": "true"})
    assert result.returncode != 0
    assert "BEDROCK_LOCAL_ENGINE is for the local stack" in result.stderr

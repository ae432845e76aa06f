"""Production settings: `manage.py check --deploy` is clean, and a missing required setting stops the app."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "IMAGEEDIT_ENV": "production",
    "DJANGO_SECRET_KEY": "a-production-secret-" + "k" * 40,
    "DJANGO_ALLOWED_HOSTS": ".execute-api.us-east-1.amazonaws.com",
    "S3_BUCKET": "imageedit-bucket",
    "COGNITO_USER_POOL_ID": "us-east-1_example",
    "COGNITO_APP_CLIENT_ID": "exampleclient",
}


def manage(*args: str, environment: dict) -> subprocess.CompletedProcess:
    clean = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "IMAGEEDIT_"))}
    clean.pop("AWS_ENDPOINT_URL", None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**clean, **environment},
        timeout=120,
    )


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

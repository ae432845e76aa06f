"""Helpers tests in several folders share: manage.py in a fresh process, with production settings."""

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
    prefixes = ("DJANGO_", "IMAGEEDIT_", "BEDROCK_", "AWS_ENDPOINT_URL")
    clean = {key: value for key, value in os.environ.items() if not key.startswith(prefixes)}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**clean, **environment},
        timeout=120,
    )

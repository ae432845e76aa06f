"""Shared fixtures: one local stack (moto + local Bedrock engine) per test session, and signed-in users."""

from __future__ import annotations

import uuid

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from devstack.stack import LocalStack

PASSWORD = "Test-password-1"


@pytest.fixture(scope="session")
def local_stack():
    """The real-protocol stand-ins, on free loopback ports, with the app's settings pointed at them."""
    stack = LocalStack().start()
    environment = stack.app_environment()
    overrides = {
        "AWS_REGION": environment["AWS_REGION"],
        "AWS_ENDPOINT_URL": environment["AWS_ENDPOINT_URL"],
        "BEDROCK_ENDPOINT_URL": environment["AWS_ENDPOINT_URL_BEDROCK_RUNTIME"],
        "DYNAMODB_TABLE": environment["DYNAMODB_TABLE"],
        "SESSION_TABLE": environment["SESSION_TABLE"],
        "S3_BUCKET": environment["S3_BUCKET"],
        "COGNITO_USER_POOL_ID": environment["COGNITO_USER_POOL_ID"],
        "COGNITO_APP_CLIENT_ID": environment["COGNITO_APP_CLIENT_ID"],
        "COGNITO_ISSUER": environment["COGNITO_ISSUER"],
        "COGNITO_JWKS_URL": environment["COGNITO_JWKS_URL"],
    }
    previous = {name: getattr(settings, name) for name in overrides}
    for name, value in overrides.items():
        setattr(settings, name, value)
    _rebind()
    from editor.models import tables_create

    tables_create()
    yield stack
    for name, value in previous.items():
        setattr(settings, name, value)
    _rebind()
    stack.stop()


def _rebind() -> None:
    from editor.models import bind_tables
    from editor.services.aws import aws_clients_reset
    from editor.services.tokens import jwks_cache

    aws_clients_reset()
    jwks_cache.clear()
    bind_tables()


@pytest.fixture(scope="session")
def make_user(local_stack):
    """Create a fresh Cognito user; returns (username, sub)."""
    from editor.services.cognito import cognito_user_create

    def make(prefix: str = "user") -> tuple[str, str]:
        username = f"{prefix}-{uuid.uuid4().hex[:8]}"
        return username, cognito_user_create(username=username, password=PASSWORD)

    return make


@pytest.fixture(scope="session")
def sign_in(local_stack):
    """Sign a user in through the real API and return the token response."""

    def sign_in(username: str, password: str = PASSWORD) -> dict:
        response = APIClient().post(
            "/api/v1/auth/token", {"username": username, "password": password}, format="json"
        )
        assert response.status_code == 200, response.content
        return response.json()

    return sign_in


@pytest.fixture
def user(make_user):
    username, sub = make_user()
    return {"username": username, "sub": sub}


@pytest.fixture
def api(user, sign_in):
    """An API client carrying a fresh user's access token."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {sign_in(user['username'])['access_token']}")
    client.user = user
    return client

"""Shared fixtures: one local stack (moto + local Bedrock engine) per test session, and signed-in users."""

from __future__ import annotations

import uuid

import pytest
from rest_framework.test import APIClient

from devstack.stack import LocalStack, django_settings_point_at, django_settings_restore

PASSWORD = "Test-password-1"


@pytest.fixture(scope="session")
def local_stack():
    """The real-protocol stand-ins, on free loopback ports, with the app's settings pointed at them."""
    from editor.models import tables_create

    stack = LocalStack().start()
    previous = django_settings_point_at(stack)
    tables_create()
    yield stack
    django_settings_restore(previous)
    stack.stop()


@pytest.fixture(scope="session")
def make_user(local_stack):
    """Create a fresh Cognito user; returns (username, sub)."""
    from editor.services.auth.cognito import cognito_user_create

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


@pytest.fixture(scope="session")
def gateway(local_stack):
    """The local API Gateway from infra/template.yaml in front of Zappa's handler (worker processes)."""
    from devstack.gateway_server import GatewayServer
    from devstack.run import gateway_environment

    server = GatewayServer(environment=gateway_environment(local_stack), workers=2).start()
    yield server
    server.stop()


@pytest.fixture
def edge_api(user, sign_in):
    """Like `api`, through the local API Gateway and Zappa's handler (tests/edge_client.py)."""
    from tests.edge_client import EdgeClient

    client = EdgeClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {sign_in(user['username'])['access_token']}")
    client.user = user
    return client


@pytest.fixture
def legacy_models_in_service(settings):
    """Nova Canvas and Titan as an account with access past their published end of life would see them
    (the local control plane's LEGACY, without a date): for tests of those families' adapters."""
    settings.BEDROCK_END_OF_LIFE = {}


@pytest.fixture
def outbox(local_stack):
    """The local mail outbox: the codes and invitations Cognito would have emailed."""
    return local_stack.outbox


@pytest.fixture
def check_every_request(settings):
    """Ask Cognito about each token on every request: the revocation bound at 0, so no test waits for it."""
    from editor.services.auth.revocation import token_states

    settings.TOKEN_STATE_CHECK_SECONDS = 0
    token_states.clear()
    yield
    token_states.clear()

"""Every signed-out account route answers a REST client with no token through the local API Gateway:
the app's answer, never the authorizer's `401 {"message": "Unauthorized"}` (issue 19)."""

from __future__ import annotations

import uuid

import pytest

from tests.edge_client import EdgeClient

NOBODY = {"username": "nobody-at-all", "password": "Wrong-password-1"}
SIGNED_OUT_CALLS = [
    ("post", "/api/v1/auth/token", NOBODY, 401),
    ("post", "/api/v1/auth/refresh", {"refresh_token": "not-a-token"}, 401),
    (
        "post",
        "/api/v1/auth/challenge",
        {"username": "nobody", "session": "s" * 40, "new_password": "Fresh-password-2"},
        401,
    ),
    ("get", "/api/v1/auth/password-policy", None, 200),
    ("post", "/api/v1/auth/signup", {"username": "", "password": ""}, None),
    ("post", "/api/v1/auth/confirm", {"username": "nobody-at-all", "code": "123456"}, None),
    ("post", "/api/v1/auth/resend", {"username": "nobody-at-all"}, None),
    ("post", "/api/v1/auth/forgot", {"username": "nobody-at-all"}, 202),
    ("post", "/api/v1/auth/reset", {"username": "nobody-at-all", "code": "12345", "new_password": "x"}, 400),
    ("post", "/api/v1/auth/signout", {"refresh_token": "not-a-token"}, None),
]


def signed_out() -> EdgeClient:
    return EdgeClient(REMOTE_ADDR=f"10.9.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}")


@pytest.mark.parametrize(("method", "path", "body", "status"), SIGNED_OUT_CALLS, ids=lambda v: str(v))
def test_the_app_answers_not_the_authorizer(local_stack, method, path, body, status):
    client = signed_out()
    response = getattr(client, method)(path, body, format="json") if body else getattr(client, method)(path)
    assert client.invocations == 1, response.content  # API Gateway passed it on
    assert "x-amzn-ErrorType" not in response
    assert "error" in response.json() or response.status_code < 300, response.content
    if status is not None:
        assert response.status_code == status, response.content
    assert response.status_code < 500


def test_sign_out_with_only_a_refresh_token(user, sign_in):
    tokens = sign_in(user["username"])
    client = signed_out()
    response = client.post("/api/v1/auth/signout", {"refresh_token": tokens["refresh_token"]}, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == {"signed_out": "this_sign_in"}
    refreshed = client.post("/api/v1/auth/refresh", {"refresh_token": tokens["refresh_token"]}, format="json")
    assert refreshed.status_code == 401


def test_signed_in_routes_stay_behind_the_authorizer(local_stack):
    guarded = [("get", "/api/v1/me"), ("post", "/api/v1/auth/password"), ("get", "/api/v1/auth/mfa")]
    for method, path in guarded:
        client = signed_out()
        response = getattr(client, method)(path)
        assert response.status_code == 401 and response.json() == {"message": "Unauthorized"}, path
        assert client.invocations == 0

"""Sign-in through the real Cognito flow on the local stack, and every way a token must be refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from jose import jwk
from rest_framework.test import APIClient

from devstack.stack import _client
from tests.conftest import PASSWORD
from tests.editor.auth_helpers import forge, moto_private_jwk


def valid_claims() -> dict:
    """Claims the pool would accept: what the hand-signed tokens below carry."""
    return {
        "sub": "x",
        "iss": settings.COGNITO_ISSUER,
        "token_use": "access",
        "client_id": settings.COGNITO_APP_CLIENT_ID,
        "exp": int(time.time()) + 600,
    }


def get_me(authorization: str | None):
    client = APIClient()
    if authorization is not None:
        client.credentials(HTTP_AUTHORIZATION=authorization)
    return client.get("/api/v1/me")


def assert_refused(response, fragment: str) -> None:
    assert response.status_code == 401, response.content
    message = response.json()["error"]["message"]
    assert fragment.lower() in message.lower(), message
    assert response["WWW-Authenticate"].startswith("Bearer")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.mark.usefixtures("local_stack")
class TestSignIn:
    def test_login_token_me_end_to_end(self, user, sign_in):
        tokens = sign_in(user["username"])
        assert set(tokens) >= {"access_token", "id_token", "refresh_token", "expires_in"}
        response = get_me(f"Bearer {tokens['access_token']}")
        assert response.status_code == 200
        assert response.json() == {"sub": user["sub"], "username": user["username"], "groups": []}

    def test_groups_come_from_the_token(self, user, sign_in):
        cognito = _client("cognito-idp", settings.AWS_ENDPOINT_URL)
        pool = settings.COGNITO_USER_POOL_ID
        cognito.create_group(GroupName=f"editors-{user['sub'][:6]}", UserPoolId=pool)
        cognito.admin_add_user_to_group(
            UserPoolId=pool, Username=user["username"], GroupName=f"editors-{user['sub'][:6]}"
        )
        response = get_me(f"Bearer {sign_in(user['username'])['access_token']}")
        assert response.json()["groups"] == [f"editors-{user['sub'][:6]}"]

    def test_refresh_gives_a_working_access_token(self, user, sign_in):
        tokens = sign_in(user["username"])
        response = APIClient().post(
            "/api/v1/auth/refresh", {"refresh_token": tokens["refresh_token"]}, format="json"
        )
        assert response.status_code == 200
        assert get_me(f"Bearer {response.json()['access_token']}").json()["sub"] == user["sub"]

    def test_wrong_password_is_401_with_a_message(self, user):
        response = APIClient().post(
            "/api/v1/auth/token", {"username": user["username"], "password": "Wrong-1234"}, format="json"
        )
        assert response.status_code == 401
        assert response.json()["error"] == {
            "code": "invalid_credentials",
            "message": "Incorrect username or password.",
        }

    def test_unknown_user_gets_the_same_answer_as_a_wrong_password(self):
        response = APIClient().post(
            "/api/v1/auth/token", {"username": "nobody-here", "password": PASSWORD}, format="json"
        )
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_credentials"

    def test_missing_fields_are_400(self):
        response = APIClient().post("/api/v1/auth/token", {"username": "x"}, format="json")
        assert response.status_code == 400
        assert "password" in response.json()["error"]["fields"]

    def test_bad_refresh_token_is_401(self):
        response = APIClient().post("/api/v1/auth/refresh", {"refresh_token": "not-a-token"}, format="json")
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_refresh_token"


@pytest.mark.usefixtures("local_stack")
class TestTokenRefusals:
    def test_forged_token_with_the_pool_key_passes_the_signature_checks(self):
        # The control case: proves the refusals below fail for the reason they name, not for the forging.
        from editor.services.auth.tokens import access_token_verify

        assert access_token_verify(forge())["sub"] == "forged-sub"

    def test_forged_token_that_cognito_never_issued_is_refused(self):
        # A validly signed token is not enough: Cognito must still know it (see services/revocation.py).
        assert_refused(get_me(f"Bearer {forge()}"), "sign-in has ended")

    def test_no_header(self):
        response = get_me(None)
        assert response.status_code == 401
        assert "credentials were not provided" in response.json()["error"]["message"]

    def test_wrong_scheme(self):
        assert_refused(get_me("Basic ZGVtbzpwYXNz"), "Bearer")

    def test_garbage(self):
        assert_refused(get_me("Bearer not.a.jwt"), "well-formed")

    def test_two_tokens(self):
        assert_refused(get_me(f"Bearer {forge()} extra"), "one token")

    def test_alg_none(self):
        header = b64url(json.dumps({"alg": "none", "kid": moto_private_jwk()["kid"]}).encode())
        payload = b64url(json.dumps(valid_claims()).encode())
        assert_refused(get_me(f"Bearer {header}.{payload}."), "algorithm")

    def test_hs256_signed_with_the_public_key(self):
        # The classic key-confusion attack; python-jose refuses to produce it, so sign by hand.
        public = jwk.construct(moto_private_jwk(), "RS256").public_key().to_pem()
        header = b64url(json.dumps({"alg": "HS256", "kid": moto_private_jwk()["kid"], "typ": "JWT"}).encode())
        payload = b64url(json.dumps(valid_claims()).encode())
        signature = b64url(hmac.new(public, f"{header}.{payload}".encode(), hashlib.sha256).digest())
        assert_refused(get_me(f"Bearer {header}.{payload}.{signature}"), "algorithm")

    def test_unknown_kid(self):
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        key = jwk.construct(pem, "RS256").to_dict() | {"kid": "not-in-the-pool"}
        assert_refused(get_me(f"Bearer {forge(key=key)}"), "does not publish")

    def test_tampered_payload(self, user, sign_in):
        header, payload, signature = sign_in(user["username"])["access_token"].split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        claims["sub"] = "someone-else"
        tampered = b64url(json.dumps(claims).encode())
        assert_refused(get_me(f"Bearer {header}.{tampered}.{signature}"), "signature")

    def test_expired(self):
        assert_refused(get_me(f"Bearer {forge({'exp': int(time.time()) - 5})}"), "expired")

    def test_missing_exp(self):
        assert_refused(get_me(f"Bearer {forge(drop=('exp',))}"), "exp")

    def test_wrong_issuer(self):
        other = settings.COGNITO_ISSUER.rsplit("/", 1)[0] + "/us-east-1_OTHERPOOL"
        assert_refused(get_me(f"Bearer {forge({'iss': other})}"), "issuer")

    def test_issuer_must_match_exactly(self):
        assert_refused(get_me(f"Bearer {forge({'iss': settings.COGNITO_ISSUER + '/'})}"), "issuer")

    def test_id_token_instead_of_access_token(self, user, sign_in):
        assert_refused(get_me(f"Bearer {sign_in(user['username'])['id_token']}"), "access token is required")

    def test_another_app_clients_token(self, user):
        cognito = _client("cognito-idp", settings.AWS_ENDPOINT_URL)
        other_client = cognito.create_user_pool_client(
            UserPoolId=settings.COGNITO_USER_POOL_ID,
            ClientName="another-app",
            ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        )["UserPoolClient"]["ClientId"]
        result = cognito.initiate_auth(
            AuthFlow="USER_PASSWORD_AUTH",
            ClientId=other_client,
            AuthParameters={"USERNAME": user["username"], "PASSWORD": PASSWORD},
        )
        assert_refused(
            get_me(f"Bearer {result['AuthenticationResult']['AccessToken']}"), "another app client"
        )

    def test_oversized_token(self):
        assert_refused(get_me(f"Bearer {forge({'pad': 'x' * 9000})}"), "too long")


class TestJwksCache:
    def test_unknown_kid_refetches_at_most_once_per_interval(self, local_stack, monkeypatch):
        from editor.services.auth import tokens

        fetches = []
        monkeypatch.setattr(
            tokens.JwksCache,
            "_refresh",
            lambda self, url: fetches.append(url) or setattr(self, "_fetched_at", time.monotonic()),
        )
        cache = tokens.JwksCache()
        for _ in range(5):
            assert cache.key("unknown") is None
        assert len(fetches) == 1

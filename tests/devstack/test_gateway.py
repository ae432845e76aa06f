"""The local API Gateway: the template's routes and authorizer, refusals that never reach the function,
REST proxy events for Zappa's real handler, binary bodies, request ids and API Gateway's limits."""

from __future__ import annotations

import hashlib
import io
import json
import time
import urllib.request

import numpy as np
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jose import jwk
from PIL import Image

from devstack.apigateway_routes import TEMPLATE, api_definition, api_routes
from devstack.authorizer import CognitoAuthorizer
from devstack.gateway import Gateway, IncomingRequest
from tests.editor.auth_helpers import forge, moto_private_jwk

pytestmark = pytest.mark.slow  # the local gateway with its Lambda worker processes

SCOPE = "aws.cognito.signin.user.admin"
STATIC_PNG = "editor/static/editor/touch-icon.png"


@pytest.fixture
def token(user, sign_in) -> dict:
    return sign_in(user["username"])


def call(gateway, method: str, path: str, **kwargs) -> tuple[requests.Response, int]:
    """The response, and how many invocations reached the function meanwhile."""
    before = gateway.workers.invocations
    response = requests.request(method, gateway.url + path, allow_redirects=False, timeout=60, **kwargs)
    return response, gateway.workers.invocations - before


def assert_gateway_refusal(response, status: int, message: str, error_type: str | None) -> None:
    assert response.status_code == status, response.text
    assert response.json() == {"message": message}
    assert response.headers.get("x-amzn-ErrorType") == error_type
    assert response.headers["x-amzn-RequestId"]
    assert response.headers["x-amz-apigw-id"]


def other_key_with_the_pools_kid() -> dict:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return jwk.construct(pem, "RS256").to_dict() | {"kid": moto_private_jwk()["kid"]}


# --- the authorizer: every refusal is API Gateway's, and the function never runs -------------------------


class TestRefusals:
    def test_no_header(self, gateway):
        response, invoked = call(gateway, "GET", "/api/v1/me")
        assert_gateway_refusal(response, 401, "Unauthorized", "UnauthorizedException")
        assert invoked == 0

    def test_an_id_token(self, gateway, token):
        response, invoked = call(gateway, "GET", "/api/v1/me", headers={"Authorization": token["id_token"]})
        assert_gateway_refusal(response, 401, "Unauthorized", "UnauthorizedException")
        assert invoked == 0

    def test_a_forged_token(self, gateway):
        forged = forge({"scope": SCOPE}, key=other_key_with_the_pools_kid())
        response, invoked = call(
            gateway, "GET", "/api/v1/edits", headers={"Authorization": f"Bearer {forged}"}
        )
        assert_gateway_refusal(response, 401, "Unauthorized", "UnauthorizedException")
        assert invoked == 0

    def test_an_expired_token(self, gateway):
        expired = forge({"scope": SCOPE, "exp": int(time.time()) - 5, "iat": int(time.time()) - 3600})
        response, invoked = call(
            gateway, "GET", "/api/v1/models", headers={"Authorization": f"Bearer {expired}"}
        )
        assert_gateway_refusal(response, 401, "The incoming token has expired", "UnauthorizedException")
        assert invoked == 0

    def test_the_wrong_scope(self, gateway):
        wrong = forge({"scope": "openid email"})
        response, invoked = call(
            gateway, "POST", "/api/v1/edits", headers={"Authorization": f"Bearer {wrong}"}
        )
        assert_gateway_refusal(response, 401, "Unauthorized", "UnauthorizedException")
        assert invoked == 0

    def test_another_issuer(self, gateway):
        other = forge({"scope": SCOPE, "iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_other"})
        response, invoked = call(gateway, "GET", "/api/v1/me", headers={"Authorization": f"Bearer {other}"})
        assert_gateway_refusal(response, 401, "Unauthorized", "UnauthorizedException")
        assert invoked == 0

    def test_garbage(self, gateway):
        response, invoked = call(gateway, "GET", "/api/v1/me", headers={"Authorization": "Bearer not.a.jwt"})
        assert_gateway_refusal(response, 401, "Unauthorized", "UnauthorizedException")
        assert invoked == 0

    def test_a_method_the_template_does_not_have(self, gateway, token):
        auth = {"Authorization": f"Bearer {token['access_token']}"}
        response, invoked = call(gateway, "PUT", "/api/v1/edits", headers=auth)
        assert_gateway_refusal(
            response, 403, "Missing Authentication Token", "MissingAuthenticationTokenException"
        )
        assert invoked == 0

    def test_a_sign_in_body_the_model_refuses(self, gateway):
        response, invoked = call(gateway, "POST", "/api/v1/auth/token", json={"username": "someone"})
        assert_gateway_refusal(response, 400, "Invalid request body", "BadRequestException")
        assert invoked == 0


def test_an_access_token_passes_with_its_claims_and_one_request_id(gateway, token, user):
    auth = {"Authorization": f"Bearer {token['access_token']}"}
    response, invoked = call(gateway, "GET", "/api/v1/me", headers=auth)
    assert response.status_code == 200, response.text
    assert response.json()["sub"] == user["sub"]
    assert invoked == 1
    # The app logs under the id its middleware answers in X-Request-Id: API Gateway's request id.
    assert response.headers["X-Request-Id"] == response.headers["x-amzn-RequestId"]


def test_the_pages_json_is_the_session_only_twin_of_the_api(gateway, token):
    """/web/v1 is outside the authorizer: the function answers, and a token does not sign anyone in there."""
    auth = {"Authorization": f"Bearer {token['access_token']}"}
    response, invoked = call(gateway, "GET", "/web/v1/models", headers=auth)
    assert invoked == 1
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert "x-amzn-ErrorType" not in response.headers


# --- the template and the local routes agree ---------------------------------------------------------------


def concrete(path: str) -> str:
    return (
        path.replace("/api/{proxy+}", "/api/v1/no-such-endpoint")
        .replace("{proxy+}", "no/such/page")
        .replace("{edit_id}", "00000000-0000-0000-0000-000000000000")
        .replace("{upload_id}", "00000000-0000-0000-0000-000000000000")
    )


def test_every_template_method_is_served_with_its_authorization(gateway):
    routes = api_routes(TEMPLATE)
    assert len(routes) > 5, routes
    for route in routes:
        method = "GET" if route.method == "ANY" else route.method
        response, invoked = call(gateway, method, concrete(route.path))
        if route.authorization == "COGNITO_USER_POOLS":
            assert_gateway_refusal(response, 401, "Unauthorized", "UnauthorizedException")
            assert invoked == 0, route
        else:
            assert route.authorization == "NONE"
            assert invoked == 1, route
            assert "x-amzn-ErrorType" not in response.headers, (route, response.text)


def test_no_other_route_is_served(gateway):
    routes = api_routes(TEMPLATE)
    declared: dict[str, set[str]] = {}
    for route in routes:
        declared.setdefault(route.path, set()).add(route.method)
    undeclared = [
        (path, method)
        for path, methods in declared.items()
        if "ANY" not in methods
        for method in {"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"} - methods
    ]
    assert undeclared, declared
    for path, method in undeclared:
        response, invoked = call(gateway, method, concrete(path))
        assert_gateway_refusal(
            response, 403, "Missing Authentication Token", "MissingAuthenticationTokenException"
        )
        assert invoked == 0, (method, path)


# --- bodies: binary both ways, and API Gateway's and Lambda's size limits ---------------------------------


def noise_png(min_bytes: int, max_bytes: int) -> bytes:
    """A photo-sized PNG that does not compress: random pixels."""
    side = int((min_bytes / 3) ** 0.5) + 8
    pixels = np.random.default_rng(7).integers(0, 256, (side, side, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="PNG")
    data = out.getvalue()
    assert min_bytes <= len(data) <= max_bytes, len(data)
    return data


def mask_for(png: bytes) -> bytes:
    with Image.open(io.BytesIO(png)) as image:
        size = image.size
    mask = Image.new("L", size, 0)
    mask.paste(255, (size[0] // 3, size[1] // 3, size[0] // 2, size[1] // 2))
    out = io.BytesIO()
    mask.save(out, format="PNG")
    return out.getvalue()


def test_a_4_mb_png_goes_up_and_a_png_comes_down(gateway, token):
    photo = noise_png(4_000_000, 4_194_304)
    auth = {"Authorization": f"Bearer {token['access_token']}"}
    files = {"image": ("photo.png", photo, "image/png"), "mask": ("mask.png", mask_for(photo), "image/png")}
    response, invoked = call(
        gateway, "POST", "/api/v1/edits", headers=auth, files=files, data={"task": "erase"}
    )
    assert invoked == 1
    assert response.status_code in (201, 202), response.text
    edit = response.json()
    assert (edit["input_width"], edit["input_height"]) == Image.open(io.BytesIO(photo)).size
    with urllib.request.urlopen(edit["input_url"], timeout=10) as stored:  # noqa: S310 (local stack)
        assert hashlib.sha256(stored.read()).digest() == hashlib.sha256(photo).digest()

    response, invoked = call(gateway, "GET", "/static/editor/touch-icon.png")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/png"
    with open(STATIC_PNG, "rb") as icon:
        assert response.content == icon.read()


def test_a_body_over_10_mb_is_refused_by_api_gateway(gateway, token):
    auth = {"Authorization": f"Bearer {token['access_token']}", "Content-Type": "application/octet-stream"}
    response, invoked = call(
        gateway, "POST", "/api/v1/edits", headers=auth, data=b"\0" * (10 * 1024 * 1024 + 1)
    )
    assert_gateway_refusal(response, 413, "Request Too Long", None)
    assert invoked == 0


def test_a_body_over_lambdas_6_mb_is_refused_before_the_function(gateway, token):
    # 4.8 MB becomes 6.4 MB of base64 in the event: above Lambda's 6,291,456 bytes, below API Gateway's 10 MB.
    auth = {"Authorization": f"Bearer {token['access_token']}", "Content-Type": "application/octet-stream"}
    response, invoked = call(gateway, "POST", "/api/v1/edits", headers=auth, data=b"\0" * 4_800_000)
    assert_gateway_refusal(response, 413, "Request Too Long", None)
    assert invoked == 0


def test_the_integration_timeout_gives_504_and_the_worker_comes_back(gateway, token, local_stack):
    """The 29 s limit, shortened: the engine is told to take 3 s, the gateway gives up after 1 s."""
    fault = json.dumps({"error": "delay", "delay_seconds": 3}).encode()
    urllib.request.urlopen(  # noqa: S310 (the local engine)
        urllib.request.Request(
            f"{local_stack.bedrock_url}/_engine/faults",
            data=fault,
            method="POST",
            headers={"Content-Type": "application/json"},
        ),
        timeout=5,
    ).close()
    auth = {"Authorization": f"Bearer {token['access_token']}"}
    photo = noise_png(30_000, 200_000)
    files = {"image": ("photo.png", photo, "image/png"), "mask": ("mask.png", mask_for(photo), "image/png")}
    gateway.gateway.integration_timeout_ms = 1000
    try:
        response, invoked = call(
            gateway, "POST", "/api/v1/edits", headers=auth, files=files, data={"task": "erase", "wait": "10"}
        )
    finally:
        gateway.gateway.integration_timeout_ms = None
    assert_gateway_refusal(response, 504, "Endpoint request timed out", None)
    assert invoked == 1
    # Both workers serve again (the late one once its invocation ends, as a Lambda runs on).
    for _ in range(3):
        response, _ = call(gateway, "GET", "/healthz")
        assert response.status_code == 200


def test_a_response_over_lambdas_6_mb_is_a_502():
    """Lambda fails an invocation whose answer is over 6,291,556 bytes; API Gateway answers 502."""
    answer = json.dumps({"statusCode": 200, "body": "x" * 6_300_000}).encode()
    gateway = Gateway(
        api=api_definition(TEMPLATE),
        authorizer=CognitoAuthorizer(issuer="unused", jwks_url="http://127.0.0.1:9/unused"),
        invoke=lambda event, timeout: answer,
    )
    request = IncomingRequest(
        "GET", "/healthz", "", [("Host", "127.0.0.1")], b"", "127.0.0.1", "127.0.0.1", 80
    )
    response = gateway.handle(request)
    assert response.status == 502
    assert json.loads(response.body) == {"message": "Internal server error"}
    assert ("x-amzn-ErrorType", "InternalServerErrorException") in response.headers


def test_sign_in_is_throttled_tighter_than_the_stage():
    calls = []
    api = api_definition(TEMPLATE, overrides=(("SignInRateLimit", "0.001"), ("SignInBurstLimit", "1")))
    gateway = Gateway(
        api=api,
        authorizer=CognitoAuthorizer(issuer="unused", jwks_url="http://127.0.0.1:9/unused"),
        invoke=lambda event, timeout: (
            calls.append(event) or json.dumps({"statusCode": 200, "body": "{}"}).encode()
        ),
    )

    def post(path):
        headers = [("Host", "127.0.0.1"), ("Content-Type", "application/json")]
        body = json.dumps({"username": "u", "password": "p"}).encode()
        return gateway.handle(IncomingRequest("POST", path, "", headers, body, "127.0.0.1", "127.0.0.1", 80))

    assert post("/api/v1/auth/token").status == 200
    refused = post("/api/v1/auth/token")
    assert refused.status == 429
    assert json.loads(refused.body) == {"message": "Too Many Requests"}
    assert len(calls) == 1
    assert post("/healthz").status == 200  # the stage-wide bucket is not empty


def test_the_event_is_a_rest_proxy_event_v1():
    events = []
    gateway = Gateway(
        api=api_definition(TEMPLATE),
        authorizer=CognitoAuthorizer(issuer="unused", jwks_url="http://127.0.0.1:9/unused"),
        invoke=lambda event, timeout: (
            events.append(json.loads(event))
            or json.dumps({"statusCode": 204, "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]}}).encode()
        ),
    )
    headers = [("Host", "127.0.0.1:1"), ("Content-Type", "image/png"), ("X-Many", "1"), ("X-Many", "2")]
    request = IncomingRequest(
        "POST", "/edits/abc", "a=1&a=2&b=", headers, b"\x89PNG", "10.0.0.1", "127.0.0.1:1", 1
    )
    response = gateway.handle(request)
    [event] = events
    assert event["resource"] == "/{proxy+}" and event["path"] == "/edits/abc"
    assert event["pathParameters"] == {"proxy": "edits/abc"}
    assert event["multiValueHeaders"]["X-Many"] == ["1", "2"] and event["headers"]["X-Many"] == "2"
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"], "b": [""]}
    assert event["queryStringParameters"] == {"a": "2", "b": ""}
    assert event["isBase64Encoded"] is True and event["body"] == "iVBORw=="
    context = event["requestContext"]
    assert context["requestId"] == request.request_id and context["stage"] == "production"
    assert context["identity"]["sourceIp"] == "10.0.0.1"
    assert "authorizer" not in context  # no authorizer on this route
    assert response.status == 204
    assert [value for name, value in response.headers if name == "Set-Cookie"] == ["a=1", "b=2"]

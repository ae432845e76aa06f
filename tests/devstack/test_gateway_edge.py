"""The local gateway at the edges of HTTP, through raw sockets: malformed framing, methods API Gateway
does not know, JSON nested past any parser, and percent-encoded paths (docs/edge.md)."""

from __future__ import annotations

import json
import socket
import time

import pytest

from devstack.apigateway_routes import TEMPLATE, api_definition
from devstack.authorizer import CognitoAuthorizer
from devstack.gateway import Gateway, IncomingRequest
from tests.conftest import PASSWORD

DEEP_JSON = b"[" * 50_000 + b"]" * 50_000


def exchange(gateway, head: str, body: bytes = b"", timeout: float = 10) -> tuple[int, dict, bytes, float]:
    """Send one raw request; (status, headers, body, seconds until the server closed the connection)."""
    host, port = gateway.url.removeprefix("http://").split(":")
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        data = b""
        while chunk := sock.recv(65536):  # socket.timeout here means the server never answered
            data += chunk
    elapsed = time.monotonic() - started
    header_block, _, content = data.partition(b"\r\n\r\n")
    status_line, *lines = header_block.decode().split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, content, elapsed


def request_head(method: str, path: str, *extra: str) -> str:
    return "\n".join([f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close", *extra, ""])


@pytest.fixture
def access_token(user, sign_in) -> str:
    return sign_in(user["username"])["access_token"]


class TestFraming:
    @pytest.mark.parametrize("value", ["-1", "abc", "5, 6", "1e3", ""])
    def test_a_content_length_that_is_not_a_count_is_a_clear_400(self, gateway, value):
        before = gateway.workers.invocations
        status, headers, body, elapsed = exchange(
            gateway, request_head("POST", "/api/v1/auth/token", f"Content-Length: {value}")
        )
        assert status == 400
        assert json.loads(body) == {
            "message": "Content-Length must be one non-negative integer (a count of bytes)"
        }
        assert headers["x-amzn-errortype"] == "BadRequestException"
        assert elapsed < 5  # answered at once, never a thread left waiting for a body
        assert gateway.workers.invocations == before

    def test_a_chunked_body_is_read_like_a_sized_one(self, gateway):
        before = gateway.workers.invocations
        status, _, body, _ = exchange(
            gateway,
            request_head(
                "POST", "/api/v1/auth/token", "Content-Type: application/json", "Transfer-Encoding: chunked"
            ),
            b'9\r\n{"usernam\r\n3\r\ne":\r\n0\r\n\r\n',  # {"username": with no password: the model refuses
        )
        assert (status, json.loads(body)) == (400, {"message": "Invalid request body"})
        assert gateway.workers.invocations == before

    def test_a_chunked_body_reaches_the_app_whole(self, gateway):
        body = b'{"username": "someone"}'
        chunks = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
        head = request_head(
            "POST", "/api/v1/auth/forgot", "Content-Type: application/json", "Transfer-Encoding: chunked"
        )
        status, _, answer, _ = exchange(gateway, head, chunks)
        assert (status, json.loads(answer)) == (202, {"status": "code_sent_if_account_exists"})

    @pytest.mark.parametrize(
        ("headers", "chunks"),
        [
            (("Transfer-Encoding: chunked", "Content-Length: 5"), b"0\r\n\r\n"),
            (("Transfer-Encoding: gzip",), b""),
            (("Transfer-Encoding: chunked",), b"zz\r\n\r\n"),
        ],
    )
    def test_ambiguous_or_broken_chunking_is_a_clear_400(self, gateway, headers, chunks):
        head = request_head("POST", "/api/v1/auth/token", *headers)
        status, _, body, elapsed = exchange(gateway, head, chunks)
        assert status == 400 and json.loads(body)["message"]
        assert elapsed < 5

    def test_the_server_still_serves_after_malformed_requests(self, gateway):
        exchange(gateway, request_head("POST", "/healthz", "Content-Length: abc"))
        status, _, body, _ = exchange(gateway, request_head("GET", "/healthz"))
        assert status == 200


class TestUnknownMethods:
    @pytest.mark.parametrize("method", ["TRACE", "CONNECT", "PROPFIND", "BREW"])
    @pytest.mark.parametrize("path", ["/", "/api/v1/me", "/signin"])
    def test_get_api_gateways_answer_not_an_html_501(self, gateway, method, path):
        before = gateway.workers.invocations
        status, headers, body, _ = exchange(gateway, request_head(method, path))
        assert status == 403
        assert json.loads(body) == {"message": "Missing Authentication Token"}
        assert headers["content-type"] == "application/json"
        assert headers["x-amzn-errortype"] == "MissingAuthenticationTokenException"
        assert gateway.workers.invocations == before


class TestDeepJson:
    def test_at_a_modelled_route_the_gateway_refuses_the_body(self, gateway):
        before = gateway.workers.invocations
        status, _, body, _ = exchange(
            gateway,
            request_head(
                "POST",
                "/api/v1/auth/token",
                "Content-Type: application/json",
                f"Content-Length: {len(DEEP_JSON)}",
            ),
            DEEP_JSON,
        )
        assert (status, json.loads(body)) == (400, {"message": "Invalid request body"})
        assert gateway.workers.invocations == before

    def test_at_the_edits_route_the_app_refuses_it_clearly(self, gateway, access_token):
        status, _, body, _ = exchange(
            gateway,
            request_head(
                "POST",
                "/api/v1/edits",
                f"Authorization: Bearer {access_token}",
                "Content-Type: application/json",
                f"Content-Length: {len(DEEP_JSON)}",
            ),
            DEEP_JSON,
        )
        assert status == 400
        error = json.loads(body)["error"]
        assert error["code"] == "parse_error" and "nested too deeply" in error["message"]


class TestEncodedPaths:
    """API Gateway routes on the path as sent (still encoded) and Zappa decodes it for Django: the app
    refuses any path whose decoded form differs, so no encoded path reaches a view past the edge's rules."""

    @pytest.mark.parametrize("path", ["/api%2Fv1%2Fme", "/%61pi/v1/me", "/api/v1/%6De", "/web%2Fv1%2Fme"])
    def test_an_encoded_path_is_refused_by_the_app(self, gateway, access_token, path):
        status, headers, body, _ = exchange(
            gateway, request_head("GET", path, f"Authorization: Bearer {access_token}")
        )
        assert status == 400, body
        error = json.loads(body)["error"]
        assert error["code"] == "encoded_path"
        assert "x-amzn-errortype" not in headers  # the function answered: API Gateway routed it

    def test_an_encoded_sign_in_signs_no_one_in(self, gateway, user):
        credentials = json.dumps({"username": user["username"], "password": PASSWORD}).encode()
        status, _, body, _ = exchange(
            gateway,
            request_head(
                "POST",
                "/api%2Fv1%2Fauth%2Ftoken",
                "Content-Type: application/json",
                f"Content-Length: {len(credentials)}",
            ),
            credentials,
        )
        assert status == 400
        assert "access_token" not in json.loads(body)

    def test_an_empty_segment_is_routed_like_the_plain_path(self, gateway):
        status, headers, body, _ = exchange(gateway, request_head("GET", "//api/v1/me"))
        assert (status, json.loads(body)) == (401, {"message": "Unauthorized"})
        assert headers["x-amzn-errortype"] == "UnauthorizedException"


def test_encoded_paths_are_throttled_by_the_stage():
    """An encoded path falls to /{proxy+}, under the stage-wide limit like every other request."""
    calls = []
    api = api_definition(
        TEMPLATE, overrides=(("ThrottlingRateLimit", "0.001"), ("ThrottlingBurstLimit", "2"))
    )
    gateway = Gateway(
        api=api,
        authorizer=CognitoAuthorizer(issuer="unused", jwks_url="http://127.0.0.1:9/unused"),
        invoke=lambda event, timeout: calls.append(json.loads(event)) or b'{"statusCode": 400, "body": ""}',
    )

    def get(path: str):
        return gateway.handle(IncomingRequest("GET", path, "", [("Host", "h")], b"", "10.0.0.1", "h", 80))

    assert get("/api%2Fv1%2Fme").status == 400
    assert get("/%61pi/v1/me").status == 400
    assert get("/api%2Fv1%2Fme").status == 429
    assert [call["resource"] for call in calls] == ["/{proxy+}", "/{proxy+}"]
    assert calls[0]["path"] == "/api%2Fv1%2Fme"  # the event keeps the path as sent, as API Gateway's does

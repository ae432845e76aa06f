"""The local API Gateway: infra/template.yaml's REST API in front of Zappa's handler, on 127.0.0.1.

For each request it does what API Gateway does, in API Gateway's order: the 10 MB payload limit, the
resource and method from the template (403 Missing Authentication Token otherwise), throttling, the
Cognito authorizer on guarded methods (refusals never reach the function), request validation, then a
REST proxy event (payload v1) for Zappa's Lambda handler, the Lambda 6 MB limits and the 29 s
integration timeout, and an access-log line in the stage's JSON format. Every answer carries
x-amzn-RequestId and x-amz-apigw-id; the function sees the same id as requestContext.requestId.
"""

from __future__ import annotations

import base64
import email.utils
import json
import logging
import os
import re
import secrets
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from devstack.apigateway_routes import TEMPLATE, ApiDefinition, Route, Throttle, api_definition, route_match
from devstack.authorizer import CognitoAuthorizer, Refused, claims_for_event
from devstack.lambda_workers import FunctionError, IntegrationTimeout, LambdaWorkers

access_log = logging.getLogger("apigateway.access")

# API Gateway quotas (REST API): "Payload size 10 MB" and "Integration timeout 50 milliseconds - 29
# seconds" (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-execution-service-limits-table.html).
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024
# Lambda quotas: "Invocation payload (request and response) 6 MB each for synchronous" invocations
# (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html). Measured: a request event
# above 6,291,456 bytes gets RequestEntityTooLargeException ("Request must be smaller than 6291456 bytes
# for the InvokeFunction operation"), a response above 6,291,556 bytes fails the invocation ("Exceeded
# maximum allowed payload size (6291556 bytes)", errorType RequestEntityTooLarge).
LAMBDA_MAX_REQUEST_BYTES = 6_291_456
LAMBDA_MAX_RESPONSE_BYTES = 6_291_556


@dataclass(frozen=True)
class GatewayAnswer:
    """One of API Gateway's own responses (gateway response types, default status and message)."""

    status: int
    message: str
    error_type: str | None
    response_type: str


# https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html
MISSING_AUTHENTICATION_TOKEN = GatewayAnswer(
    403, "Missing Authentication Token", "MissingAuthenticationTokenException", "MISSING_AUTHENTICATION_TOKEN"
)
# REQUEST_TOO_LARGE (413) for a body over 10 MB. When Lambda refuses a request event over 6 MB
# (RequestEntityTooLargeException, HTTP 413), the client also sees a 413 through API Gateway
# (jun711.github.io/aws/handling-aws-api-gateway-and-lambda-413-error shows it in the browser). The
# body's wording is API Gateway's message as reported by its users; AWS documents only the status.
REQUEST_TOO_LARGE = GatewayAnswer(413, "Request Too Long", None, "REQUEST_TOO_LARGE")
THROTTLED = GatewayAnswer(429, "Too Many Requests", "TooManyRequestsException", "THROTTLED")
BAD_REQUEST_PARAMETERS = GatewayAnswer(
    400, "Missing required request parameters: [{}]", "BadRequestException", "BAD_REQUEST_PARAMETERS"
)
BAD_REQUEST_BODY = GatewayAnswer(400, "Invalid request body", "BadRequestException", "BAD_REQUEST_BODY")
INTEGRATION_TIMEOUT = GatewayAnswer(504, "Endpoint request timed out", None, "INTEGRATION_TIMEOUT")
# A function error, a malformed proxy answer or a response over Lambda's 6 MB: API Gateway answers 502
# (the same jun711 page shows the 502 for an oversized Lambda response).
BAD_GATEWAY = GatewayAnswer(502, "Internal server error", "InternalServerErrorException", "DEFAULT_5XX")


class _TokenBucket:
    def __init__(self, throttle: Throttle) -> None:
        self.rate, self.capacity = throttle.rate, float(throttle.burst)
        self.tokens, self.updated = self.capacity, time.monotonic()
        self.lock = threading.Lock()

    def take(self) -> bool:
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
            self.updated = now
            if self.tokens < 1:
                return False
            self.tokens -= 1
            return True


@dataclass
class Gateway:
    """The API's rules plus its integration: `invoke(event bytes, timeout) -> answer bytes`."""

    api: ApiDefinition
    authorizer: CognitoAuthorizer
    invoke: callable
    stage: str = "production"
    allowed_origin: str = ""
    integration_timeout_ms: int | None = None  # None: each method's TimeoutInMillis (29 s)
    buckets: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.buckets["*"] = _TokenBucket(self.api.stage_throttle)
        for key, throttle in self.api.method_throttles.items():
            self.buckets[key] = _TokenBucket(throttle)

    # -- the pieces of one request -------------------------------------------------------------------
    def _is_binary(self, content_type: str) -> bool:
        content_type = content_type.split(";", 1)[0].strip().lower()
        for pattern in self.api.binary_media_types:
            if pattern == "*/*" or pattern.lower() == content_type:
                return True
            if pattern.endswith("/*") and content_type.startswith(pattern[:-1].lower()):
                return True
        return False

    def event_for(self, request: IncomingRequest, route: Route, params: dict, claims: dict | None) -> dict:
        headers: dict[str, list[str]] = {}
        for name, value in request.headers:
            headers.setdefault(name, []).append(value)
        headers.setdefault("X-Forwarded-For", [request.source_ip])
        # API Gateway terminates TLS and says so; this gateway serves plain http on loopback.
        headers["X-Forwarded-Proto"] = ["http"]
        headers.setdefault("X-Forwarded-Port", [str(request.port)])
        query: dict[str, list[str]] = {}
        for name, value in parse_qsl(request.query, keep_blank_values=True):
            query.setdefault(name, []).append(value)
        content_type = next((v for n, v in request.headers if n.lower() == "content-type"), "")
        body, is_base64 = None, False
        if request.body:
            if self._is_binary(content_type):
                body, is_base64 = base64.b64encode(request.body).decode(), True
            else:
                body = request.body.decode("utf-8", errors="replace")
        context = {
            "resourceId": route.path,
            "resourcePath": route.path,
            "httpMethod": request.method,
            "extendedRequestId": request.apigw_id,
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(request.started)),
            "requestTimeEpoch": int(request.started * 1000),
            "path": f"/{self.stage}{request.path}",
            "accountId": "123456789012",
            "protocol": "HTTP/1.1",
            "stage": self.stage,
            "domainName": request.host,
            "domainPrefix": request.host.split(".", 1)[0],
            "requestId": request.request_id,
            "apiId": "local",
            "identity": {"sourceIp": request.source_ip, "userAgent": request.header("user-agent")},
        }
        if claims is not None:
            context["authorizer"] = {"claims": claims_for_event(claims)}
        return {
            "resource": route.path,
            "path": request.path,
            "httpMethod": request.method,
            "headers": {name: values[-1] for name, values in headers.items()},
            "multiValueHeaders": headers,
            "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
            "multiValueQueryStringParameters": query or None,
            "pathParameters": params or None,
            "stageVariables": None,
            "requestContext": context,
            "body": body,
            "isBase64Encoded": is_base64,
        }

    def _refusal(self, answer: GatewayAnswer, *, message: str | None = None) -> Response:
        headers = [("Content-Type", "application/json")]
        if answer.error_type:
            headers.append(("x-amzn-ErrorType", answer.error_type))
        if self.allowed_origin:  # DEFAULT_4XX / DEFAULT_5XX gateway responses in the template
            headers += [("Access-Control-Allow-Origin", self.allowed_origin), ("Vary", "Origin")]
        body = json.dumps({"message": message or answer.message}).encode()
        return Response(answer.status, headers, body, error_type=answer.response_type)

    def handle(self, request: IncomingRequest) -> Response:
        """API Gateway's answer to one request (never raises)."""
        if request.too_large:
            return self._refusal(REQUEST_TOO_LARGE)
        route, _, params = route_match(self.api.routes, request.method, request.path)
        if route is None:
            return self._refusal(MISSING_AUTHENTICATION_TOKEN)
        request.resource_path = route.path
        bucket = self.buckets.get((route.path, request.method)) or self.buckets["*"]
        if not bucket.take() or (bucket is not self.buckets["*"] and not self.buckets["*"].take()):
            return self._refusal(THROTTLED)
        claims = None
        if route.authorization == "COGNITO_USER_POOLS":
            try:
                claims = self.authorizer.authorize(request.header("authorization"), route.scopes)
            except Refused as refused:
                return self._refusal(
                    GatewayAnswer(refused.status, refused.message, refused.error_type, "UNAUTHORIZED")
                )
            request.claims = claims
        missing = [name for name in route.required_headers if not request.header(name)]
        if missing:
            names = ", ".join(name.title() for name in missing)
            return self._refusal(BAD_REQUEST_PARAMETERS, message=BAD_REQUEST_PARAMETERS.message.format(names))
        is_json = request.header("content-type").split(";")[0].strip() == "application/json"
        if route.body_schema is not None and is_json and not _body_valid(request.body, route.body_schema):
            return self._refusal(BAD_REQUEST_BODY)
        event = json.dumps(self.event_for(request, route, params, claims)).encode()
        if len(event) > LAMBDA_MAX_REQUEST_BYTES:
            return self._refusal(REQUEST_TOO_LARGE)
        timeout_ms = self.integration_timeout_ms or route.timeout_ms
        started = time.monotonic()
        try:
            answer = self.invoke(event, timeout_ms / 1000)
        except IntegrationTimeout:
            return self._refusal(INTEGRATION_TIMEOUT)
        except FunctionError:
            return self._refusal(BAD_GATEWAY)
        finally:
            request.integration_ms = int((time.monotonic() - started) * 1000)
        if len(answer) > LAMBDA_MAX_RESPONSE_BYTES:
            return self._refusal(BAD_GATEWAY)
        return self._proxy_response(answer, request)

    def _proxy_response(self, answer: bytes, request: IncomingRequest) -> Response:
        try:
            result = json.loads(answer)
            if not isinstance(result, dict) or result.get("__error__"):
                raise ValueError("function error")
            status = int(result["statusCode"])
            headers: list[tuple[str, str]] = []
            multi = result.get("multiValueHeaders") or {}
            for name, value in (result.get("headers") or {}).items():
                if name not in multi:
                    headers.append((name, str(value)))
            for name, values in multi.items():
                headers += [(name, str(value)) for value in values]
            body = result.get("body") or ""
            if result.get("isBase64Encoded") and self._accepts_binary(request.header("accept")):
                data = base64.b64decode(body)
            else:
                data = body.encode()
        except (ValueError, KeyError, TypeError):
            return self._refusal(BAD_GATEWAY)  # "Malformed Lambda proxy response"
        return Response(status, headers, data)

    def _accepts_binary(self, accept: str) -> bool:
        # API Gateway decodes a base64 proxy answer when the first Accept type is a binary media type.
        first = (accept or "*/*").split(",")[0]
        return self._is_binary(first)


def _body_valid(body: bytes, schema: dict) -> bool:
    import jsonschema

    try:
        jsonschema.validate(json.loads(body or b"null"), {k: v for k, v in schema.items() if k != "$schema"})
    except (ValueError, jsonschema.ValidationError):
        return False
    return True


@dataclass
class IncomingRequest:
    method: str
    path: str
    query: str
    headers: list[tuple[str, str]]
    body: bytes
    source_ip: str
    host: str
    port: int
    too_large: bool = False
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    # extendedRequestId looks like "Ab1CdEfGhIjKlM=" in AWS
    apigw_id: str = field(
        default_factory=lambda: base64.b64encode(secrets.token_bytes(10)).decode()[:15] + "="
    )
    started: float = field(default_factory=time.time)
    resource_path: str = "-"
    claims: dict | None = None
    integration_ms: int | None = None

    def header(self, name: str) -> str:
        name = name.lower()
        return next((value for key, value in reversed(self.headers) if key.lower() == name), "")


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    error_type: str = ""


def access_log_line(fmt: str, request: IncomingRequest, response: Response, stage: str) -> str:
    """The stage's access log format with $context variables filled in, as API Gateway writes it."""
    latency = int((time.time() - request.started) * 1000)
    values = {
        "requestId": request.request_id,
        "extendedRequestId": request.apigw_id,
        "identity.sourceIp": request.source_ip,
        "authorizer.claims.sub": (request.claims or {}).get("sub", "-"),
        "httpMethod": request.method,
        "path": f"/{stage}{request.path}",
        "resourcePath": request.resource_path,
        "protocol": "HTTP/1.1",
        "status": str(response.status),
        "responseLength": str(len(response.body)),
        "responseLatency": str(latency),
        "integrationLatency": "-" if request.integration_ms is None else str(request.integration_ms),
        "error.responseType": response.error_type or "-",
        "requestTime": email.utils.formatdate(request.started, usegmt=True),
    }
    return re.sub(r"\$context\.([A-Za-z.]+)", lambda m: values.get(m.group(1), "-"), fmt)


class _Handler(BaseHTTPRequestHandler):
    server_version = "imageedit-local-apigateway"
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # the access log line says it, as JSON
        pass

    def _serve(self) -> None:
        gateway: Gateway = self.server.gateway
        length = int(self.headers.get("Content-Length") or 0)
        too_large = length > MAX_PAYLOAD_BYTES
        body = b""
        if too_large:  # read and drop, so the client can read the answer
            remaining = length
            while remaining > 0:
                remaining -= len(self.rfile.read(min(remaining, 1 << 20)) or b"x" * remaining)
        elif length:
            body = self.rfile.read(length)
        url = urlsplit(self.path)
        host = self.headers.get("Host") or f"127.0.0.1:{self.server.server_address[1]}"
        request = IncomingRequest(
            method=self.command,
            path=url.path or "/",
            query=url.query,
            headers=list(self.headers.items()),
            body=body,
            source_ip=self.client_address[0],
            host=host,
            port=self.server.server_address[1],
            too_large=too_large,
        )
        try:
            response = gateway.handle(request)
        except Exception:  # the gateway itself failed: still answer like API Gateway
            logging.getLogger(__name__).exception("local gateway error")
            response = gateway._refusal(BAD_GATEWAY)
        self.send_response_only(response.status)
        sent = set()
        for name, value in response.headers:
            if name.lower() in ("content-length", "connection", "transfer-encoding"):
                continue
            self.send_header(name, value)
            sent.add(name.lower())
        self.send_header("x-amzn-RequestId", request.request_id)
        self.send_header("x-amz-apigw-id", request.apigw_id)
        self.send_header("Date", email.utils.formatdate(usegmt=True))
        self.send_header("Content-Length", str(len(response.body)))
        try:
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up waiting (its own timeout); API Gateway drops the answer the same way.
            self.close_connection = True
        access_log.info(access_log_line(gateway.api.access_log_format, request, response, gateway.stage))

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve


class GatewayServer:
    """The HTTP server, its Gateway and its Lambda workers; start() then url, stop() at the end."""

    def __init__(
        self,
        *,
        environment: dict[str, str],
        port: int = 0,
        workers: int | None = None,
        stage: str = "production",
        template: Path = TEMPLATE,
        integration_timeout_ms: int | None = None,
        settings_dir: Path | None = None,
        allowed_origin: str = "",
    ) -> None:
        import tempfile

        from devstack.lambda_workers import zappa_settings_module

        self._tmp = tempfile.TemporaryDirectory(prefix="imageedit-gateway-")
        settings_dir = settings_dir or Path(self._tmp.name)
        zappa_settings_module(stage, environment, settings_dir)
        count = workers or int(os.environ.get("GATEWAY_WORKERS", "2"))
        self.workers = LambdaWorkers(settings_dir=settings_dir, environment=environment, count=count)
        self.gateway = Gateway(
            api=api_definition(template),
            authorizer=CognitoAuthorizer(
                issuer=environment["COGNITO_ISSUER"], jwks_url=environment["COGNITO_JWKS_URL"]
            ),
            invoke=self.workers.invoke,
            stage=stage,
            allowed_origin=allowed_origin,
            integration_timeout_ms=integration_timeout_ms,
        )
        if not access_log.handlers:  # the line is JSON already: print it as is, as CloudWatch stores it
            handler = logging.StreamHandler(sys.stdout)
            handler.setFormatter(logging.Formatter("%(message)s"))
            access_log.addHandler(handler)
            access_log.setLevel(logging.INFO)
            access_log.propagate = False
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.gateway = self.gateway
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def start(self) -> GatewayServer:
        self.workers.start()
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="local-apigateway", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.workers.stop()
        self._tmp.cleanup()

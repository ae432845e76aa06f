"""The local API Gateway: infra/template.yaml's REST API in front of Zappa's handler.

For each request it does what API Gateway does, in API Gateway's order: the 10 MB payload limit, the
resource and method from the template (403 Missing Authentication Token otherwise, also for a method
the API cannot declare, such as TRACE), throttling, the Cognito authorizer on guarded methods (refusals
never reach the function), request validation, then a REST proxy event (payload v1) for Zappa's Lambda
handler, the Lambda 6 MB limits and the 29 s integration timeout. Routing is on the path as sent, still
percent-encoded, as API Gateway routes (docs/edge.md). The HTTP server around it is gateway_server.py.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field

from devstack.apigateway_routes import ApiDefinition, Throttle, route_match
from devstack.authorizer import CognitoAuthorizer, Refused, claims_for_event
from devstack.gateway_answers import (
    BAD_GATEWAY,
    BAD_REQUEST_BODY,
    BAD_REQUEST_PARAMETERS,
    INTEGRATION_TIMEOUT,
    LAMBDA_MAX_REQUEST_BYTES,
    LAMBDA_MAX_RESPONSE_BYTES,
    MISSING_AUTHENTICATION_TOKEN,
    REQUEST_TOO_LARGE,
    THROTTLED,
    GatewayAnswer,
)
from devstack.lambda_workers import FunctionError, IntegrationTimeout
from devstack.proxy_event import (
    IncomingRequest,
    Response,
    media_type_is_binary,
    proxy_answer_read,
    proxy_event_build,
)

__all__ = ["Gateway", "IncomingRequest", "Response"]


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

    def refusal(self, answer: GatewayAnswer, *, message: str | None = None) -> Response:
        """One of API Gateway's own answers, with the gateway responses' CORS headers."""
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
            return self.refusal(REQUEST_TOO_LARGE)
        route, _, params = route_match(self.api.routes, request.method, request.path)
        if route is None:
            return self.refusal(MISSING_AUTHENTICATION_TOKEN)
        request.resource_path = route.path
        bucket = self.buckets.get((route.path, request.method)) or self.buckets["*"]
        if not bucket.take() or (bucket is not self.buckets["*"] and not self.buckets["*"].take()):
            return self.refusal(THROTTLED)
        claims = None
        if route.authorization == "COGNITO_USER_POOLS":
            try:
                claims = self.authorizer.authorize(request.header("authorization"), route.scopes)
            except Refused as refused:
                return self.refusal(
                    GatewayAnswer(refused.status, refused.message, refused.error_type, "UNAUTHORIZED")
                )
            request.claims = claims
        missing = [name for name in route.required_headers if not request.header(name)]
        if missing:
            names = ", ".join(name.title() for name in missing)
            return self.refusal(BAD_REQUEST_PARAMETERS, message=BAD_REQUEST_PARAMETERS.message.format(names))
        is_json = request.header("content-type").split(";")[0].strip() == "application/json"
        if route.body_schema is not None and is_json and not _body_valid(request.body, route.body_schema):
            return self.refusal(BAD_REQUEST_BODY)
        event = proxy_event_build(
            request=request,
            resource=route.path,
            params=params,
            claims=claims,
            stage=self.stage,
            binary_media_types=self.api.binary_media_types,
            authorizer_claims=claims_for_event,
        )
        payload = json.dumps(event).encode()
        if len(payload) > LAMBDA_MAX_REQUEST_BYTES:
            return self.refusal(REQUEST_TOO_LARGE)
        timeout_ms = self.integration_timeout_ms or route.timeout_ms
        started = time.monotonic()
        try:
            answer = self.invoke(payload, timeout_ms / 1000)
        except IntegrationTimeout:
            return self.refusal(INTEGRATION_TIMEOUT)
        except FunctionError:
            return self.refusal(BAD_GATEWAY)
        finally:
            request.integration_ms = int((time.monotonic() - started) * 1000)
        if len(answer) > LAMBDA_MAX_RESPONSE_BYTES:
            return self.refusal(BAD_GATEWAY)
        # API Gateway decodes a base64 proxy answer when the first Accept type is a binary media type.
        first_accept = (request.header("accept") or "*/*").split(",")[0]
        try:
            return proxy_answer_read(
                answer, binary=media_type_is_binary(first_accept, self.api.binary_media_types)
            )
        except ValueError:
            return self.refusal(BAD_GATEWAY)  # "Malformed Lambda proxy response"


def _body_valid(body: bytes, schema: dict) -> bool:
    import jsonschema

    try:
        document = json.loads(body or b"null")
        jsonschema.validate(document, {k: v for k, v in schema.items() if k != "$schema"})
    # RecursionError: JSON nested deeper than Python's parser goes is not a valid body either.
    except (ValueError, RecursionError, jsonschema.ValidationError):
        return False
    return True

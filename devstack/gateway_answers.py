"""API Gateway's own answers (gateway response types) and the size limits it and Lambda enforce."""

from __future__ import annotations

from dataclasses import dataclass

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
# The methods a REST API method may declare; ANY stands for exactly these
# (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions-any-method.html).
HTTP_METHODS = frozenset({"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"})


@dataclass(frozen=True)
class GatewayAnswer:
    """One of API Gateway's own responses (gateway response types, default status and message)."""

    status: int
    message: str
    error_type: str | None
    response_type: str


# https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html
# Also the answer to a method the API does not declare (TRACE, CONNECT, any other token): no method
# matches, which API Gateway reports like a missing resource.
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
# A request line or headers HTTP itself refuses (a Content-Length that is not a non-negative integer):
# the front end answers 400 before any route is chosen; the message says what was wrong.
MALFORMED_REQUEST = GatewayAnswer(400, "Bad Request", "BadRequestException", "DEFAULT_4XX")
INTEGRATION_TIMEOUT = GatewayAnswer(504, "Endpoint request timed out", None, "INTEGRATION_TIMEOUT")
# A function error, a malformed proxy answer or a response over Lambda's 6 MB: API Gateway answers 502
# (the same jun711 page shows the 502 for an oversized Lambda response).
BAD_GATEWAY = GatewayAnswer(502, "Internal server error", "InternalServerErrorException", "DEFAULT_5XX")

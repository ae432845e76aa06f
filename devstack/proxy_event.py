"""One request as the local gateway holds it, the REST proxy event (payload v1) built from it, the
function's proxy answer read back, and the stage's access-log line."""

from __future__ import annotations

import base64
import email.utils
import json
import re
import secrets
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import parse_qsl


@dataclass
class IncomingRequest:
    method: str
    path: str  # as the client sent it: still percent-encoded, as API Gateway keeps it
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


def media_type_is_binary(content_type: str, binary_media_types: tuple[str, ...]) -> bool:
    """Whether the API's BinaryMediaTypes cover a Content-Type (or an Accept entry)."""
    content_type = content_type.split(";", 1)[0].strip().lower()
    for pattern in binary_media_types:
        if pattern == "*/*" or pattern.lower() == content_type:
            return True
        if pattern.endswith("/*") and content_type.startswith(pattern[:-1].lower()):
            return True
    return False


def proxy_event_build(
    *,
    request: IncomingRequest,
    resource: str,
    params: dict,
    claims: dict | None,
    stage: str,
    binary_media_types: tuple[str, ...],
    authorizer_claims,
) -> dict:
    """The Lambda proxy integration's input (REST API, payload format 1.0)."""
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
    content_type = request.header("content-type")
    body, is_base64 = None, False
    if request.body:
        if media_type_is_binary(content_type, binary_media_types):
            body, is_base64 = base64.b64encode(request.body).decode(), True
        else:
            body = request.body.decode("utf-8", errors="replace")
    context = {
        "resourceId": resource,
        "resourcePath": resource,
        "httpMethod": request.method,
        "extendedRequestId": request.apigw_id,
        "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(request.started)),
        "requestTimeEpoch": int(request.started * 1000),
        "path": f"/{stage}{request.path}",
        "accountId": "123456789012",
        "protocol": "HTTP/1.1",
        "stage": stage,
        "domainName": request.host,
        "domainPrefix": request.host.split(".", 1)[0],
        "requestId": request.request_id,
        "apiId": "local",
        "identity": {"sourceIp": request.source_ip, "userAgent": request.header("user-agent")},
    }
    if claims is not None:
        context["authorizer"] = {"claims": authorizer_claims(claims)}
    return {
        "resource": resource,
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


def proxy_answer_read(answer: bytes, *, binary: bool) -> Response:
    """The function's proxy answer as an HTTP response; ValueError if it is not a valid one.

    `binary`: whether API Gateway decodes a base64 body (the first Accept type is a binary media type).
    """
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
        data = base64.b64decode(body) if result.get("isBase64Encoded") and binary else body.encode()
    except (KeyError, TypeError, RecursionError) as exc:
        raise ValueError("Malformed Lambda proxy response") from exc
    return Response(status, headers, data)


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

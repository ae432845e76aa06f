"""An APIClient whose requests take the way users' requests take: through the local API Gateway.

Each request goes through devstack's Gateway (infra/template.yaml's routes, the Cognito authorizer,
request validation, the REST proxy event) into Zappa's real Lambda handler, run in this process so that
pytest-django's `settings` overrides and the local stack's outbox apply as they do to Django's own test
client. A route the edge breaks (a public route behind the authorizer, a method it does not declare)
fails the test that uses it. The throttles are raised: they have tests of their own (test_gateway.py).
"""

from __future__ import annotations

import json
import sys
import tempfile
import threading
import types
import uuid
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.http import HttpResponse
from rest_framework.test import APIClient

from devstack.apigateway_routes import TEMPLATE, api_definition
from devstack.authorizer import CognitoAuthorizer
from devstack.gateway import Gateway, IncomingRequest
from devstack.lambda_workers import LambdaContext, zappa_settings_module

SETTINGS_MODULE = "zappa_settings_in_process"
NO_THROTTLE = (
    ("ThrottlingRateLimit", "100000"),
    ("ThrottlingBurstLimit", "100000"),
    ("SignInRateLimit", "100000"),
    ("SignInBurstLimit", "100000"),
)
_lock = threading.Lock()
_handler_class = None


def _zappa_handler():
    """Zappa's LambdaHandler class, its settings module written once for this process.

    The module is Zappa's rendering of zappa_settings.json, with no environment of its own (this
    process's settings already point at the local stack) and no log level (Zappa would set the root
    logger's level for the whole test run).
    """
    global _handler_class
    with _lock:
        if _handler_class is None:
            directory = Path(tempfile.mkdtemp(prefix="imageedit-zappa-in-process-"))
            written = zappa_settings_module("production", {}, directory)
            text = written.read_text().replace("LOG_LEVEL='WARNING'", "LOG_LEVEL=None")
            (directory / f"{SETTINGS_MODULE}.py").write_text(text)
            written.unlink()
            sys.path.insert(0, str(directory))
            from zappa import handler

            handler.LambdaHandler(SETTINGS_MODULE)
            _handler_class = handler.LambdaHandler
    return _handler_class


class InProcessFunction:
    """invoke(event bytes, timeout) -> answer bytes, as the Gateway expects of its Lambda integration."""

    def __init__(self) -> None:
        self.handler = _zappa_handler()
        self.invocations = 0

    def __call__(self, payload: bytes, timeout: float) -> bytes:
        import time

        self.invocations += 1
        context = LambdaContext(str(uuid.uuid4()), "imageedit-local", time.time() + timeout)
        return json.dumps(self.handler.lambda_handler(json.loads(payload), context)).encode()


def edge_gateway() -> Gateway:
    return Gateway(
        api=api_definition(TEMPLATE, overrides=NO_THROTTLE),
        authorizer=CognitoAuthorizer(issuer=settings.COGNITO_ISSUER, jwks_url=settings.COGNITO_JWKS_URL),
        invoke=InProcessFunction(),
    )


def _request_from(environ: dict) -> IncomingRequest:
    headers = []
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            headers.append((key[5:].replace("_", "-").title(), value))
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
            headers.append((key.replace("_", "-").title(), value))
    headers.append(("Host", environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "testserver")))
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    # Django's test client holds the path decoded; a client on the wire sends it encoded.
    path = quote(environ["PATH_INFO"].encode("iso-8859-1"), safe="/:@!$&'()*+,;=-._~")
    return IncomingRequest(
        method=environ["REQUEST_METHOD"],
        path=path,
        query=environ.get("QUERY_STRING", ""),
        headers=headers,
        body=body,
        source_ip=environ.get("REMOTE_ADDR", "127.0.0.1"),
        host=environ.get("SERVER_NAME", "testserver"),
        port=443,
    )


class EdgeClient(APIClient):
    """APIClient's interface (format="json", multipart, credentials(), cookies), answered through the
    local API Gateway and Zappa's handler instead of Django's test handler."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.gateway = edge_gateway()
        self.handler = self._through_the_gateway

    def _through_the_gateway(self, environ: dict) -> HttpResponse:
        answer = self.gateway.handle(_request_from(environ))
        response = HttpResponse(answer.body, status=answer.status)
        del response["Content-Type"]
        for name, value in answer.headers:
            if name.lower() == "set-cookie":
                response.cookies.load(value)
            else:
                response[name] = value
        response.wsgi_request = types.SimpleNamespace(urlconf=None)
        return response

    @property
    def invocations(self) -> int:
        return self.gateway.invoke.invocations

"""The local API Gateway's HTTP server: reads each request (refusing malformed framing with a clear 400),
hands it to the Gateway, writes the answer and the access-log line; GatewayServer runs it all."""

from __future__ import annotations

import email.utils
import logging
import os
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from devstack.apigateway_routes import TEMPLATE, api_definition
from devstack.authorizer import CognitoAuthorizer
from devstack.gateway import Gateway
from devstack.gateway_answers import BAD_GATEWAY, MALFORMED_REQUEST, MAX_PAYLOAD_BYTES
from devstack.lambda_workers import LambdaWorkers
from devstack.proxy_event import IncomingRequest, Response, access_log_line

access_log = logging.getLogger("apigateway.access")

_DIGITS = re.compile(r"[0-9]{1,20}")
_HEX = re.compile(rb"[0-9a-fA-F]{1,8}")
# A client that stops sending half-way through its body is dropped after this long, as a front end
# drops an idle connection; it never holds a thread for good.
READ_TIMEOUT_SECONDS = 60


class BadFraming(Exception):
    """The request's length cannot be known, so its body cannot be read."""


def content_length(values: list[str]) -> int:
    """The body's length from the Content-Length header(s): one non-negative integer (RFC 9110 8.6)."""
    if not values:
        return 0
    # "Content-Length: 5, 5" and repeated equal headers are the same length; anything else is not.
    parts = {part.strip() for value in values for part in value.split(",")}
    if len(parts) != 1 or not _DIGITS.fullmatch(next(iter(parts))):
        raise BadFraming("Content-Length must be one non-negative integer (a count of bytes)")
    return int(next(iter(parts)))


class _Handler(BaseHTTPRequestHandler):
    server_version = "imageedit-local-apigateway"
    protocol_version = "HTTP/1.1"
    timeout = READ_TIMEOUT_SECONDS

    def log_message(self, format, *args):  # the access log line says it, as JSON
        pass

    def __getattr__(self, name: str):
        # http.server answers its own 501 HTML page to a method without a do_<METHOD>; API Gateway
        # answers every method itself (403 for one the API does not declare), so every method is served.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def _read_body(self) -> tuple[bytes, bool]:
        """The body and whether it was over API Gateway's 10 MB (read and dropped, so the answer can
        be read); BadFraming if its length is malformed."""
        encodings = self.headers.get_all("Transfer-Encoding") or []
        if encodings:
            # Both headers, or another coding than chunked: where the body ends is ambiguous (RFC 9112
            # 6.1, the way requests are smuggled past a front end), so neither is guessed.
            codings = [coding.strip().lower() for coding in encodings]
            if self.headers.get_all("Content-Length") or codings != ["chunked"]:
                raise BadFraming("Send either Content-Length or Transfer-Encoding: chunked, not both")
            return self._read_chunked()
        length = content_length(self.headers.get_all("Content-Length") or [])
        if length > MAX_PAYLOAD_BYTES:
            remaining = length
            while remaining > 0:
                chunk = self.rfile.read(min(remaining, 1 << 20))
                if not chunk:
                    break
                remaining -= len(chunk)
            return b"", True
        return (self.rfile.read(length) if length else b""), False

    def _read_chunked(self) -> tuple[bytes, bool]:
        body, too_large = bytearray(), False
        while True:
            size_text = self.rfile.readline(1026).split(b";", 1)[0].strip()
            if not _HEX.fullmatch(size_text):
                raise BadFraming("A chunk size is not a hexadecimal number")
            size = int(size_text, 16)
            if size == 0:
                while self.rfile.readline(1026).strip():  # trailer fields, up to the blank line
                    pass
                return (b"" if too_large else bytes(body)), too_large
            chunk = self.rfile.read(size)
            if len(chunk) < size or self.rfile.readline(3).strip():
                raise BadFraming("The body ended inside a chunk")
            too_large = too_large or len(body) + size > MAX_PAYLOAD_BYTES
            if not too_large:  # past 10 MB: read on and drop, so the client can read the 413
                body += chunk

    def _serve(self) -> None:
        gateway: Gateway = self.server.gateway
        # The request target as sent: "//api/v1/me" is a path, not a host (urlsplit would read one).
        if self.path.startswith("/"):
            path, _, query = self.path.partition("?")
        else:  # absolute form, http://host/path?query
            url = urlsplit(self.path)
            path, query = url.path, url.query
        host = self.headers.get("Host") or f"127.0.0.1:{self.server.server_address[1]}"
        request = IncomingRequest(
            method=self.command,
            path=path or "/",
            query=query,
            headers=list(self.headers.items()),
            body=b"",
            source_ip=self.client_address[0],
            host=host,
            port=self.server.server_address[1],
        )
        try:
            request.body, request.too_large = self._read_body()
        except BadFraming as refused:
            self.close_connection = True  # where this body ends cannot be known: no next request
            response = gateway.refusal(MALFORMED_REQUEST, message=str(refused))
            return self._answer(gateway, request, response)
        except TimeoutError:
            self.close_connection = True
            return None
        try:
            response = gateway.handle(request)
        except Exception:  # the gateway itself failed: still answer like API Gateway
            logging.getLogger(__name__).exception("local gateway error")
            response = gateway.refusal(BAD_GATEWAY)
        return self._answer(gateway, request, response)

    def _answer(self, gateway: Gateway, request: IncomingRequest, response: Response) -> None:
        self.send_response_only(response.status)
        for name, value in response.headers:
            if name.lower() in ("content-length", "connection", "transfer-encoding"):
                continue
            self.send_header(name, value)
        self.send_header("x-amzn-RequestId", request.request_id)
        self.send_header("x-amz-apigw-id", request.apigw_id)
        self.send_header("Date", email.utils.formatdate(usegmt=True))
        self.send_header("Content-Length", str(len(response.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        try:
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up waiting (its own timeout); API Gateway drops the answer the same way.
            self.close_connection = True
        access_log.info(access_log_line(gateway.api.access_log_format, request, response, gateway.stage))


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

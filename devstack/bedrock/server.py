"""The local Bedrock endpoint over HTTP: InvokeModel, the control plane's lifecycle, /_engine/ controls."""

from __future__ import annotations

import argparse
import ipaddress
import json
import logging
import re
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from devstack.bedrock.control import LifecycleTable
from devstack.bedrock.faults import FaultQueue
from devstack.bedrock.models import MAX_BODY_BYTES, base_model_id, invoke
from devstack.bedrock.protocol import ERROR_TYPE_SUFFIX, BedrockError, invalid

logger = logging.getLogger(__name__)

DEFAULT_PORT = 5002
ENGINE_HEADER = "x-imageedit-engine"
ENGINE_NAME = "local-opencv"
NOTE_HEADER = "x-imageedit-engine-note"
_INVOKE_PATH = re.compile(r"/model/([^/]+)/invoke")
_FOUNDATION_MODEL_PATH = re.compile(r"/foundation-models/([^/]+)")


class InvocationCount:
    """How many InvokeModel calls reached the engine, per model id (tests assert a refusal sent none)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}

    def add(self, model_id: str) -> None:
        with self._lock:
            self._counts[model_id] = self._counts.get(model_id, 0) + 1

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    faults: FaultQueue
    invocations: InvocationCount
    lifecycle: LifecycleTable


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as botocore's connection pool expects
    server: _HTTPServer

    def do_GET(self) -> None:
        path = self._path()
        match = _FOUNDATION_MODEL_PATH.fullmatch(path)
        if path == "/_engine/health":
            self._send_json(200, {"status": "ok"})
        elif path == "/_engine/invocations":
            counts = self.server.invocations.snapshot()
            self._send_json(200, {"total": sum(counts.values()), "by_model": counts})
        elif path == "/foundation-models":  # the control plane's ListFoundationModels
            self._send_json(200, {"modelSummaries": self.server.lifecycle.all()})
        elif match:  # GetFoundationModel (by id or ARN)
            model_id = base_model_id(unquote(match.group(1)))
            details = self.server.lifecycle.get(model_id)
            if details is None:
                self._send_error(BedrockError("ResourceNotFoundException", f"Model {model_id} not found."))
            else:
                self._send_json(200, {"modelDetails": details})
        else:
            self._send_error(BedrockError("ResourceNotFoundException", f"No route for GET {self._path()}"))

    def do_DELETE(self) -> None:
        self._read_body()
        if self._path() == "/_engine/faults":
            self.server.faults.clear()
            self._send_json(200, {"faults": []})
        elif self._path() == "/_engine/lifecycle":
            self.server.lifecycle.reset()
            self._send_json(200, {"models": self.server.lifecycle.all()})
        else:
            self._send_error(BedrockError("ResourceNotFoundException", f"No route for DELETE {self._path()}"))

    def do_POST(self) -> None:
        raw = self._read_body()
        path = self._path()
        match = _INVOKE_PATH.fullmatch(path)
        if match:
            self._invoke(unquote(match.group(1)), raw)
        elif path == "/_engine/faults":
            self._add_faults(raw)
        elif path == "/_engine/lifecycle":
            try:
                self.server.lifecycle.set(json.loads(raw or b"null"))
            except ValueError as exc:
                self._send_error(invalid(f"The lifecycle body is not valid: {exc}"))
                return
            self._send_json(200, {"models": self.server.lifecycle.all()})
        else:
            self._send_error(BedrockError("ResourceNotFoundException", f"No route for POST {path}"))

    def _path(self) -> str:
        return urlsplit(self.path).path

    def _read_body(self) -> bytes | None:
        """The request body, or None when it is over the cap (drained, so keep-alive still works)."""
        length = int(self.headers.get("Content-Length") or 0)
        if length <= MAX_BODY_BYTES:
            return self.rfile.read(length)
        while length:
            length -= len(self.rfile.read(min(length, 1 << 20))) or length
        return None

    def _add_faults(self, raw: bytes | None) -> None:
        try:
            self.server.faults.add(json.loads(raw or b"null"))
        except ValueError as exc:
            self._send_error(invalid(f"The fault body is not JSON: {exc}"))
            return
        except BedrockError as exc:
            self._send_error(exc)
            return
        self._send_json(200, {"faults": self.server.faults.pending()})

    def _invoke(self, model_id: str, raw: bytes | None) -> None:
        started = time.perf_counter()
        self.server.invocations.add(model_id)
        try:
            fault = self.server.faults.take(model_id)
            if fault:
                time.sleep(fault.delay_seconds)
                if fault.error != "delay":
                    raise BedrockError(fault.error, f"{fault.error} injected by the local fault queue.")
            reply = invoke(model_id, raw)
        except BedrockError as exc:
            self._send_error(exc)
            return
        except Exception:  # the server must answer in Bedrock's shape even when the engine itself breaks
            logger.exception("local engine failed", extra={"model_id": model_id})
            self._send_error(BedrockError("InternalServerException", "The local engine failed; see its log."))
            return
        headers = {
            ENGINE_HEADER: ENGINE_NAME,
            "X-Amzn-Bedrock-Invocation-Latency": str(round((time.perf_counter() - started) * 1000)),
        }
        if reply.note:
            headers[NOTE_HEADER] = reply.note
        self._send_json(200, reply.payload, headers)

    def _send_error(self, error: BedrockError) -> None:
        self._send_json(
            error.status, {"message": error.message}, {"x-amzn-ErrorType": error.code + ERROR_TYPE_SUFFIX}
        )

    def _send_json(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        body = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (e.g. its read timeout fired during a delay fault); nothing to answer.
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
        logger.info("%s %s", self.address_string(), format % args)


class BedrockServer:
    """The local Bedrock Runtime endpoint on a daemon thread, on a loopback address only."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        if not ipaddress.IPv4Address(host).is_loopback:
            raise ValueError(f"the local Bedrock engine listens on loopback only, not {host}")
        self.host = host
        self.port = port
        self.faults = FaultQueue()
        self.invocations = InvocationCount()
        self.lifecycle = LifecycleTable()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("start() the server first")
        return f"http://{self.host}:{self._httpd.server_address[1]}"

    def start(self) -> BedrockServer:
        self._httpd = _HTTPServer((self.host, self.port), _Handler)
        self._httpd.faults = self.faults
        self._httpd.invocations = self.invocations
        self._httpd.lifecycle = self.lifecycle
        # A short poll interval keeps stop() quick; shutdown() waits for the loop's next poll.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="bedrock-local",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()
        self._httpd = self._thread = None

    def __enter__(self) -> BedrockServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    """Serve until Ctrl-C: python -m devstack.bedrock --port 5002."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    server = BedrockServer(args.host, args.port).start()
    print(f"local Bedrock engine on {server.url}; AWS_ENDPOINT_URL_BEDROCK_RUNTIME={server.url}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()

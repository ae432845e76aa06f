"""The throughput baseline: the minimal edit handler (see edit_overhead) behind a threaded HTTP server."""

from __future__ import annotations

import argparse
import threading

import boto3
from botocore.config import Config

from bench.edit_overhead import minimal_handler


def serve(port: int, engine_url: str) -> None:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    # The app's Bedrock client settings (imageedit/settings.py defaults), without Django.
    bedrock = boto3.client(
        "bedrock-runtime",
        endpoint_url=engine_url,
        region_name="us-east-1",
        config=Config(
            connect_timeout=5,
            read_timeout=120,
            retries={"mode": "standard", "total_max_attempts": 2},
            max_pool_connections=32,
        ),
    )

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):  # noqa: N802 (http.server's naming)
            self._answer(200, b"ok", "text/plain")

        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            try:
                image = minimal_handler(body, bedrock)
            except Exception as exc:  # a baseline: any failure is an error in the figures
                self._answer(500, str(exc).encode(), "text/plain")
                return
            self._answer(200, image, "image/png")

        def _answer(self, status: int, data: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever).start()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--engine", required=True)
    args = parser.parse_args()
    serve(args.port, args.engine)

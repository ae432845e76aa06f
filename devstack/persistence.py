"""The local stack's state on disk: moto's writes serialised, their results journalled, S3 bytes as files.

Every mutating request to moto runs under one lock (moto's backends are not thread-safe: a conditional
update could otherwise pass its check twice). After a write to DynamoDB, S3 or Cognito succeeds, and
before the client gets its 2xx, the result is appended to the journal and fsynced: the item's new image,
the object's metadata (its bytes in a file of their own), or Cognito's pools with salted password hashes
and without tokens. On start the journal's latest records are loaded straight into moto's backends.
"""

from __future__ import annotations

import base64
import fcntl
import io
import json
import logging
import os
import shutil
import threading
from pathlib import Path

from devstack.journal import FILE_MODE, Journal, journal_read, moved_aside
from devstack.moto_backends import (
    REGION,
    BlobFile,
    CognitoUnpickler,
    cognito_backend,
    dynamodb_backend,
    s3_backend,
    unpickled,
)
from devstack.state_writes import StateRecorder, record_identity, record_order

logger = logging.getLogger(__name__)

DIRECTORY_MODE = 0o700
OLD_RECORDING = "moto-recording.jsonl"


class StateStore:
    """One state directory: a journal of moto's writes and a folder of S3 objects' bytes."""

    def __init__(self, state_dir: Path, *, skip_tables: frozenset[str] = frozenset()) -> None:
        self.state_dir = state_dir
        self.objects_dir = state_dir / "objects"
        self.journal = Journal(state_dir / "journal", record_identity)
        self.skip_tables = skip_tables
        self.recorder = StateRecorder(
            journal=self.journal, objects_dir=self.objects_dir, skip_tables=skip_tables
        )
        self._lock_file = None

    def open(self, app) -> list[str]:
        """Take the directory, load its state into moto through `app`; return warnings for a person."""
        warnings: list[str] = []
        self.state_dir.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
        self.objects_dir.mkdir(mode=DIRECTORY_MODE, exist_ok=True)
        for directory in (self.state_dir, self.objects_dir):
            os.chmod(directory, DIRECTORY_MODE)
        self._lock()
        for path in self.state_dir.iterdir():
            if path.is_file():
                os.chmod(path, FILE_MODE)
        old = self.state_dir / OLD_RECORDING
        if old.exists():
            target = moved_aside(old, "old-format")
            warnings.append(
                f"Local state from an older version of imageedit cannot be loaded; it was kept as {target}."
            )

        loaded = journal_read(self.journal.path)
        if loaded.unreadable:
            target = moved_aside(self.journal.path, "unreadable")
            warnings.append(
                f"The local state in {self.journal.path} could not be read at all, "
                f"so it was moved to {target} and the stack starts empty."
            )
            loaded.records = []
        elif loaded.damaged:
            copy = moved_aside(self.journal.path, "damaged")
            shutil.copy2(copy, self.journal.path)
            warnings.extend(
                f"Local state was damaged at {where}; skipped (the damaged file is kept as {copy})."
                for where in loaded.damaged
            )
        warnings.extend(self._restore(loaded.records, app))
        self.journal.compact(record_order)
        return warnings

    def _lock(self) -> None:
        path = self.state_dir / "lock"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise SystemExit(f"Another local stack is using {self.state_dir}; stop it first.") from None
        self._lock_file = fd

    def _restore(self, records: list[dict], app) -> list[str]:
        """Keep the latest record of each identity, then load them into moto, kind by kind."""
        latest: dict[tuple, dict] = {}
        for record in records:
            if record.get("t") in ("ddb", "s3bucket"):
                record["seq"] = self.recorder.seq
                self.recorder.seq += 1
            identity = record_identity(record)
            if identity is None:
                continue
            if record.get("t") == "ddb" and record["op"] == "DeleteTable":
                table = record["body"].get("TableName")
                for key in [key for key in latest if key[0] == "item" and key[1] == table]:
                    del latest[key]
            latest[identity] = record
        warnings = []
        for identity in sorted(latest, key=record_order):
            record = latest[identity]
            try:
                alive = self._apply(record, app)
            except Exception as exc:  # a record moto refuses is lost, never a crash
                warnings.append(f"Could not restore {self._name(record)}: {exc}; it was left out.")
                continue
            if alive:
                self.journal.remember(record)
        return warnings

    @staticmethod
    def _name(record: dict) -> str:
        kind = record.get("t")
        if kind == "item":
            return f"item {json.dumps(record['key'])} of table {record['table']}"
        if kind == "object":
            return f"object {record['key']} of bucket {record['bucket']}"
        return f"a {kind} record"

    def _apply(self, record: dict, app) -> bool:
        kind = record["t"]
        if kind == "ddb":
            self._replay(app, "dynamodb", record)
        elif kind == "s3bucket":
            self._replay(app, "s3", record)
        elif kind == "cognito":
            state = CognitoUnpickler(io.BytesIO(base64.b64decode(record["state"]))).load()
            backend = cognito_backend()
            backend.user_pools = state["user_pools"]
            backend.user_pool_domains = state["user_pool_domains"]
        elif kind == "item":
            if record["item"] is None:
                return False
            dynamodb_backend().put_item(record["table"], record["item"])
        elif kind == "object":
            return self._object_restore(record)
        return True

    @staticmethod
    def _replay(app, service: str, record: dict) -> None:
        from werkzeug.test import Client

        authorization = f"AWS4-HMAC-SHA256 Credential=testing/20260101/{REGION}/{service}/aws4_request"
        if service == "dynamodb":
            response = Client(app).post(
                "/",
                data=json.dumps(record["body"]),
                headers={
                    "X-Amz-Target": f"DynamoDB_20120810.{record['op']}",
                    "Content-Type": "application/x-amz-json-1.0",
                    "Authorization": authorization,
                },
            )
        else:
            response = Client(app).open(
                record["path"],
                method=record["method"],
                query_string=record["query"],
                data=base64.b64decode(record["body"]),
                headers={"Authorization": authorization, "Content-Type": record.get("content_type", "")},
            )
        if response.status_code >= 300 and not (service == "s3" and response.status_code == 409):
            raise RuntimeError(f"moto answered {response.status_code}")

    def _object_restore(self, record: dict) -> bool:
        from moto.s3.models import FakeKey

        if record["blob"] is None:
            return False
        path = self.objects_dir / record["blob"]
        if not path.exists():
            raise RuntimeError("its bytes are missing from " + str(self.objects_dir))
        key = FakeKey.__new__(FakeKey)
        key.__dict__.update(unpickled(record["state"]))
        key._value_buffer = BlobFile(path)
        key.lock = threading.Lock()
        s3_backend().get_bucket(record["bucket"]).keys[record["key"]] = key
        self.recorder.blobs[(record["bucket"], record["key"])] = record["blob"]
        return True

    def record(self, environ: dict, body: bytes) -> None:
        """Journal the result of a write that moto just answered with a 2xx (the caller holds the lock)."""
        self.recorder.record(environ, body)

    def close(self) -> None:
        self.journal.close()
        if self._lock_file is not None:
            os.close(self._lock_file)
            self._lock_file = None


def state_reset(state_dir: Path) -> Path | None:
    """Set the state aside (renamed beside itself, never deleted) so the next start begins empty."""
    if not state_dir.exists():
        return None
    lock = state_dir / "lock"
    if lock.exists():
        fd = os.open(lock, os.O_WRONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SystemExit(f"Another local stack is using {state_dir}; stop it first.") from None
        finally:
            os.close(fd)
    return moved_aside(state_dir, "reset")


def _request_body(environ: dict) -> bytes:
    stream = environ["wsgi.input"]
    if environ.get("wsgi.input_terminated"):
        return stream.read()
    remaining = int(environ.get("CONTENT_LENGTH") or 0)
    chunks = []
    while remaining > 0:
        chunk = stream.read(min(remaining, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


class SerialisedMoto:
    """WSGI middleware: one write at a time through moto, each journalled before its answer leaves."""

    def __init__(self, app, store: StateStore | None = None) -> None:
        self.app = app
        self.store = store
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        if environ["REQUEST_METHOD"] in ("GET", "HEAD", "OPTIONS"):
            return self.app(environ, start_response)
        body = _request_body(environ)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        captured: list = []
        chunks: list[bytes] = []

        def capture(status, headers, exc_info=None):
            captured[:] = [status, headers]
            return chunks.append

        with self.lock:
            result = self.app(environ, capture)
            try:
                chunks.extend(result)
            finally:
                if hasattr(result, "close"):
                    result.close()
            status, headers = captured
            if self.store is not None and status[:1] == "2":
                try:
                    self.store.record(environ, body)
                except Exception:
                    logger.exception("local state could not be written; the request is refused")
                    status, headers = "500 INTERNAL SERVER ERROR", [("Content-Type", "application/json")]
                    chunks = [b'{"__type": "InternalFailure", "message": "local state could not be written"}']
        start_response(status, headers)
        return [b"".join(chunks)]

    def close(self) -> None:
        with self.lock:
            if self.store is not None:
                self.store.close()

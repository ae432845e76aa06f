"""The local stack's state on disk: moto's writes serialised, their results journalled, S3 bytes as files.

Every mutating request to moto runs under one lock (moto's backends are not thread-safe: a conditional
update could otherwise pass its check twice). After a write to DynamoDB, S3 or Cognito succeeds, and
before the client gets its 2xx, the result is appended to the journal and fsynced: the item's new image,
the object's metadata (its bytes in a file of their own), or Cognito's pools with salted password hashes
and without tokens. On start the journal's latest records are loaded straight into moto's backends.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import html
import io
import json
import logging
import os
import pickle
import re
import shutil
import threading
import uuid
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from devstack.journal import FILE_MODE, Journal, fsync_directory, journal_read, moved_aside
from devstack.passwords import PasswordHash

logger = logging.getLogger(__name__)

ACCOUNT = "123456789012"  # moto's default account, which the keys testing/testing map to
REGION = "us-east-1"
DIRECTORY_MODE = 0o700
OLD_RECORDING = "moto-recording.jsonl"

DYNAMODB_ITEM_WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
DYNAMODB_READS = ("Get", "Query", "Scan", "Describe", "List", "BatchGet", "TransactGet", "ExecuteStatement")
# Cognito calls that only issue or revoke tokens, which are never stored: a restart signs people out.
COGNITO_TOKEN_ONLY = {
    "InitiateAuth",
    "AdminInitiateAuth",
    "GlobalSignOut",
    "AdminUserGlobalSignOut",
    "RevokeToken",
    "GetTokensFromRefreshToken",
}
COGNITO_READS = ("Get", "List", "Describe", "AdminGet", "AdminList")
# Compaction order: tables and buckets before what lives in them.
KIND_ORDER = {"ddb": 0, "s3bucket": 1, "cognito": 2, "item": 3, "object": 4}


def _service(environ: dict) -> str | None:
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target.startswith("DynamoDB_"):
        return "dynamodb"
    if target.startswith("AWSCognitoIdentityProviderService."):
        return "cognito-idp"
    if target:
        return None
    signed = unquote(environ.get("HTTP_AUTHORIZATION", "") + " " + environ.get("QUERY_STRING", ""))
    if "/s3/aws4_request" in signed:
        return "s3"
    if environ["REQUEST_METHOD"] == "POST" and environ.get("CONTENT_TYPE", "").startswith(
        "multipart/form-data"
    ):
        return "s3"  # a browser's presigned POST upload carries its signature in the form
    return None


def _read_body(environ: dict) -> bytes:
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


class BlobFile:
    """A read-only stand-in for moto's in-memory value buffer: the bytes stay in their file until read."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.position = 0
        self.closed = False

    def seek(self, position: int, whence: int = 0) -> int:
        if whence == 2:
            position += self.path.stat().st_size
        elif whence == 1:
            position += self.position
        self.position = position
        return position

    def tell(self) -> int:
        return self.position

    def read(self, size: int = -1) -> bytes:
        with open(self.path, "rb") as file:
            file.seek(self.position)
            data = file.read(size)
        self.position += len(data)
        return data

    def close(self) -> None:
        self.closed = True


def _moto_jwk_type():
    from joserfc import jwk

    return jwk.RSAKey


class _CognitoPickler(pickle.Pickler):
    """Leaves out moto's fixed signing key (reloaded from moto) and every token map (not kept)."""

    def __init__(self, file, volatile: set[int]) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.volatile = volatile
        self.key_type = _moto_jwk_type()

    def persistent_id(self, obj):
        if isinstance(obj, self.key_type):
            return "moto-jwk"
        if id(obj) in self.volatile:
            return "empty"
        return None


class _CognitoUnpickler(pickle.Unpickler):
    def persistent_load(self, pid):
        if pid == "moto-jwk":
            from moto.utilities.utils import load_resource

            return _moto_jwk_type().import_key(load_resource("cognitoidp/resources/jwks-private.json"))
        if pid == "empty":
            return {}
        raise pickle.UnpicklingError(f"unknown reference {pid!r}")


def _pickled(value) -> str:
    return base64.b64encode(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)).decode()


def _unpickled(text: str):
    # Our own state file, 0600 in a 0700 directory: nobody else can have written it.
    return pickle.loads(base64.b64decode(text))  # noqa: S301


def _identity(record: dict) -> tuple | None:
    kind = record.get("t")
    if kind == "item":
        return ("item", record["table"], json.dumps(record["key"], sort_keys=True))
    if kind == "object":
        return ("object", record["bucket"], record["key"])
    if kind == "cognito":
        return ("cognito",)
    if kind in ("ddb", "s3bucket"):
        return (kind, record["seq"])
    return None


def _order(identity: tuple) -> int:
    return KIND_ORDER.get(identity[0], 9)


class StateStore:
    """One state directory: a journal of moto's writes and a folder of S3 objects' bytes."""

    def __init__(self, state_dir: Path, *, skip_tables: frozenset[str] = frozenset()) -> None:
        self.state_dir = state_dir
        self.objects_dir = state_dir / "objects"
        self.journal = Journal(state_dir / "journal", _identity)
        self.skip_tables = skip_tables
        self.blobs: dict[tuple[str, str], str] = {}
        self.seq = 0
        self._lock_file = None

    # --- backends -------------------------------------------------------------------------------

    @staticmethod
    def _dynamodb():
        from moto.dynamodb.models import dynamodb_backends

        return dynamodb_backends[ACCOUNT][REGION]

    @staticmethod
    def _cognito():
        from moto.cognitoidp.models import cognitoidp_backends

        return cognitoidp_backends[ACCOUNT][REGION]

    @staticmethod
    def _s3():
        from moto.s3.models import s3_backends

        return s3_backends[ACCOUNT]["aws"]

    # --- start ----------------------------------------------------------------------------------

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
        self.journal.compact(_order)
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
                record["seq"] = self.seq
                self.seq += 1
            identity = _identity(record)
            if identity is None:
                continue
            if record.get("t") == "ddb" and record["op"] == "DeleteTable":
                table = record["body"].get("TableName")
                for key in [key for key in latest if key[0] == "item" and key[1] == table]:
                    del latest[key]
            latest[identity] = record
        warnings = []
        for identity in sorted(latest, key=_order):
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
            state = _CognitoUnpickler(io.BytesIO(base64.b64decode(record["state"]))).load()
            backend = self._cognito()
            backend.user_pools = state["user_pools"]
            backend.user_pool_domains = state["user_pool_domains"]
        elif kind == "item":
            if record["item"] is None:
                return False
            self._dynamodb().put_item(record["table"], record["item"])
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
        key.__dict__.update(_unpickled(record["state"]))
        key._value_buffer = BlobFile(path)
        key.lock = threading.Lock()
        self._s3().get_bucket(record["bucket"]).keys[record["key"]] = key
        self.blobs[(record["bucket"], record["key"])] = record["blob"]
        return True

    # --- writes while running (the caller holds the lock) -----------------------------------------

    def record(self, environ: dict, body: bytes) -> None:
        """Journal the result of a write that moto just answered with a 2xx."""
        service = _service(environ)
        if service == "dynamodb":
            self._record_dynamodb(environ["HTTP_X_AMZ_TARGET"].partition(".")[2], body)
        elif service == "cognito-idp":
            operation = environ["HTTP_X_AMZ_TARGET"].partition(".")[2]
            if operation not in COGNITO_TOKEN_ONLY and not operation.startswith(COGNITO_READS):
                self._record_cognito()
        elif service == "s3":
            self._record_s3(environ, body)
        if self.journal.needs_compaction():
            self.journal.compact(_order)

    def _record_dynamodb(self, operation: str, body: bytes) -> None:
        if operation.startswith(DYNAMODB_READS):
            return
        request = json.loads(body or b"{}")
        if operation not in DYNAMODB_ITEM_WRITES:
            if request.get("TableName") in self.skip_tables:
                return
            if operation == "DeleteTable":
                table = request.get("TableName")
                self.journal.forget(lambda key: key[0] == "item" and key[1] == table)
            self.journal.append({"t": "ddb", "op": operation, "body": request, "seq": self._next_seq()})
            return
        backend = self._dynamodb()
        for table, key in self._touched_items(operation, request):
            if table in self.skip_tables:
                continue
            item = backend.get_item(table, key)
            image = item.to_json()["Attributes"] if item else None
            record = {"t": "item", "table": table, "key": key, "item": image}
            self.journal.append(record)
            if image is None:
                self.journal.forget(lambda identity, record=record: identity == _identity(record))

    def _touched_items(self, operation: str, request: dict) -> list[tuple[str, dict]]:
        def key_of(table: str, item: dict) -> dict:
            definition = self._dynamodb().get_table(table)
            names = [definition.hash_key_attr, definition.range_key_attr]
            return {name: item[name] for name in names if name}

        if operation == "PutItem":
            return [(request["TableName"], key_of(request["TableName"], request["Item"]))]
        if operation in ("UpdateItem", "DeleteItem"):
            return [(request["TableName"], request["Key"])]
        touched = []
        if operation == "BatchWriteItem":
            for table, writes in request.get("RequestItems", {}).items():
                for write in writes:
                    if "PutRequest" in write:
                        touched.append((table, key_of(table, write["PutRequest"]["Item"])))
                    elif "DeleteRequest" in write:
                        touched.append((table, write["DeleteRequest"]["Key"]))
        if operation == "TransactWriteItems":
            for action in request.get("TransactItems", []):
                for name, detail in action.items():
                    if name == "Put":
                        touched.append((detail["TableName"], key_of(detail["TableName"], detail["Item"])))
                    elif name in ("Update", "Delete"):
                        touched.append((detail["TableName"], detail["Key"]))
        return touched

    def _record_cognito(self) -> None:
        backend = self._cognito()
        volatile = {id(backend.sessions)}
        for pool in backend.user_pools.values():
            volatile.update({id(pool.refresh_tokens), id(pool.access_tokens), id(pool.id_tokens)})
            for user in pool.users.values():
                if isinstance(user.password, str):
                    # From now on moto compares against the hash; the clear text is gone from memory too.
                    user.password = PasswordHash(user.password)
        buffer = io.BytesIO()
        _CognitoPickler(buffer, volatile).dump(
            {"user_pools": backend.user_pools, "user_pool_domains": backend.user_pool_domains}
        )
        self.journal.append({"t": "cognito", "state": base64.b64encode(buffer.getvalue()).decode()})

    def _record_s3(self, environ: dict, body: bytes) -> None:
        raw_path = urlsplit(environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ["PATH_INFO"]).path
        bucket, _, key = unquote(raw_path).lstrip("/").partition("/")
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        method = environ["REQUEST_METHOD"]
        if not bucket:
            return
        if key:
            if "uploads" in query or ("uploadId" in query and method != "POST"):
                return  # parts of a multipart upload count once it is completed
            self._record_object(bucket, key)
        elif method == "POST" and "delete" in query:
            for name in re.findall(rb"<Key>(.*?)</Key>", body, re.DOTALL):
                self._record_object(bucket, html.unescape(name.decode()))
        elif method == "POST" and environ.get("CONTENT_TYPE", "").startswith("multipart/form-data"):
            self._record_object(bucket, self._form_key(environ, body))
        else:
            if method == "DELETE" and not query:
                self.journal.forget(lambda identity: identity[0] == "object" and identity[1] == bucket)
            self.journal.append(
                {
                    "t": "s3bucket",
                    "method": method,
                    "path": "/" + bucket,
                    "query": environ.get("QUERY_STRING", ""),
                    "content_type": environ.get("CONTENT_TYPE", ""),
                    "body": base64.b64encode(body).decode(),
                    "seq": self._next_seq(),
                }
            )

    @staticmethod
    def _form_key(environ: dict, body: bytes) -> str:
        from werkzeug.formparser import parse_form_data

        copy = dict(environ, **{"wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))})
        _, form, files = parse_form_data(copy)
        key = form.get("key", "")
        upload = files.get("file")
        return key.replace("${filename}", upload.filename or "") if upload else key

    def _record_object(self, bucket_name: str, key_name: str) -> None:
        from moto.s3.models import FakeKey

        bucket = self._s3().buckets.get(bucket_name)
        key = bucket.keys.get(key_name) if bucket else None
        previous = self.blobs.get((bucket_name, key_name))
        if isinstance(key, FakeKey):
            blob = uuid.uuid4().hex
            self._blob_write(self.objects_dir / blob, key.value)
            state = {
                name: value for name, value in key.__dict__.items() if name not in ("_value_buffer", "lock")
            }
            record = {
                "t": "object",
                "bucket": bucket_name,
                "key": key_name,
                "blob": blob,
                "state": _pickled(state),
            }
            self.journal.append(record)
            self.blobs[(bucket_name, key_name)] = blob
        else:
            record = {"t": "object", "bucket": bucket_name, "key": key_name, "blob": None}
            self.journal.append(record)
            self.journal.forget(lambda identity: identity == ("object", bucket_name, key_name))
            self.blobs.pop((bucket_name, key_name), None)
        if previous and previous != record["blob"]:
            # The journal no longer points at the old bytes: they belonged to a replaced or deleted object.
            with contextlib.suppress(FileNotFoundError):
                (self.objects_dir / previous).unlink()

    @staticmethod
    def _blob_write(path: Path, data: bytes) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        fsync_directory(path.parent)

    def _next_seq(self) -> int:
        self.seq += 1
        return self.seq

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


class SerialisedMoto:
    """WSGI middleware: one write at a time through moto, each journalled before its answer leaves."""

    def __init__(self, app, store: StateStore | None = None) -> None:
        self.app = app
        self.store = store
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        if environ["REQUEST_METHOD"] in ("GET", "HEAD", "OPTIONS"):
            return self.app(environ, start_response)
        body = _read_body(environ)
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

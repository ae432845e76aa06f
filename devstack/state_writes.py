"""Journalling a write that moto just answered with a 2xx: DynamoDB items, S3 objects, Cognito's pools."""

from __future__ import annotations

import base64
import contextlib
import html
import io
import json
import os
import re
import uuid
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from devstack.journal import FILE_MODE, Journal, fsync_directory
from devstack.moto_backends import CognitoPickler, cognito_backend, dynamodb_backend, pickled, s3_backend
from devstack.passwords import PasswordHash

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


def request_service(environ: dict) -> str | None:
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


def record_identity(record: dict) -> tuple | None:
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


def record_order(identity: tuple) -> int:
    return KIND_ORDER.get(identity[0], 9)


class StateRecorder:
    """Write a state directory's journal and object files while the stack runs (the caller holds the lock)."""

    def __init__(self, *, journal: Journal, objects_dir: Path, skip_tables: frozenset[str]) -> None:
        self.journal = journal
        self.objects_dir = objects_dir
        self.skip_tables = skip_tables
        self.blobs: dict[tuple[str, str], str] = {}
        self.seq = 0

    def record(self, environ: dict, body: bytes) -> None:
        """Journal the result of a write that moto just answered with a 2xx."""
        service = request_service(environ)
        if service == "dynamodb":
            self._record_dynamodb(environ["HTTP_X_AMZ_TARGET"].partition(".")[2], body)
        elif service == "cognito-idp":
            operation = environ["HTTP_X_AMZ_TARGET"].partition(".")[2]
            if operation not in COGNITO_TOKEN_ONLY and not operation.startswith(COGNITO_READS):
                self._record_cognito()
        elif service == "s3":
            self._record_s3(environ, body)
        if self.journal.needs_compaction():
            self.journal.compact(record_order)

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
        backend = dynamodb_backend()
        for table, key in self._touched_items(operation, request):
            if table in self.skip_tables:
                continue
            item = backend.get_item(table, key)
            image = item.to_json()["Attributes"] if item else None
            record = {"t": "item", "table": table, "key": key, "item": image}
            self.journal.append(record)
            if image is None:
                self.journal.forget(lambda identity, record=record: identity == record_identity(record))

    def _touched_items(self, operation: str, request: dict) -> list[tuple[str, dict]]:
        def key_of(table: str, item: dict) -> dict:
            definition = dynamodb_backend().get_table(table)
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
        backend = cognito_backend()
        volatile = {id(backend.sessions)}
        for pool in backend.user_pools.values():
            volatile.update({id(pool.refresh_tokens), id(pool.access_tokens), id(pool.id_tokens)})
            for user in pool.users.values():
                if isinstance(user.password, str):
                    # From now on moto compares against the hash; the clear text is gone from memory too.
                    user.password = PasswordHash(user.password)
        buffer = io.BytesIO()
        CognitoPickler(buffer, volatile).dump(
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

        bucket = s3_backend().buckets.get(bucket_name)
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
                "state": pickled(state),
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

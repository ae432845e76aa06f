"""Reaching into moto's in-process backends: where they live, S3 bytes left on disk, Cognito pickled."""

from __future__ import annotations

import base64
import pickle
from pathlib import Path

ACCOUNT = "123456789012"  # moto's default account, which the keys testing/testing map to
REGION = "us-east-1"


def dynamodb_backend():
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[ACCOUNT][REGION]


def cognito_backend():
    from moto.cognitoidp.models import cognitoidp_backends

    return cognitoidp_backends[ACCOUNT][REGION]


def s3_backend():
    from moto.s3.models import s3_backends

    return s3_backends[ACCOUNT]["aws"]


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


class CognitoPickler(pickle.Pickler):
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


class CognitoUnpickler(pickle.Unpickler):
    def persistent_load(self, pid):
        if pid == "moto-jwk":
            from moto.utilities.utils import load_resource

            return _moto_jwk_type().import_key(load_resource("cognitoidp/resources/jwks-private.json"))
        if pid == "empty":
            return {}
        raise pickle.UnpicklingError(f"unknown reference {pid!r}")


def pickled(value) -> str:
    return base64.b64encode(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)).decode()


def unpickled(text: str):
    # Our own state file, 0600 in a 0700 directory: nobody else can have written it.
    return pickle.loads(base64.b64decode(text))  # noqa: S301

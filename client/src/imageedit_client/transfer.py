"""Bytes in and out: a photo straight to S3 with the presigned POST the API offers, results downloaded
from their presigned URLs; both in chunks, reporting progress, and never leaving a half-written file."""

from __future__ import annotations

import os
import re
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import requests

from imageedit_client import exits
from imageedit_client.api import Api
from imageedit_client.exits import CliError

Progress = Callable[[int], None]  # called with the number of bytes just moved
CHUNK = 256 * 1024

_EXTENSION_TYPES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
    ".heic": "image/heic",
    ".heif": "image/heif",
}
IMAGE_EXTENSIONS = frozenset(_EXTENSION_TYPES)
CONTENT_TYPE_EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}


def content_type_guess(path: Path) -> str:
    """The type by the file's first bytes (the server checks content, not names), else by its name."""
    with path.open("rb") as handle:
        head = handle.read(32)
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"):
        return "image/heic"
    if head[4:8] == b"ftyp" and head[8:12] in (b"mif1", b"msf1", b"heif"):
        return "image/heif"
    # Not recognisable: send it under its name's type and let the server say what is wrong with it.
    return _EXTENSION_TYPES.get(path.suffix.lower(), "application/octet-stream")


class _MultipartStream:
    """multipart/form-data of the POST's fields then the file, read in chunks (a 50 MB photo is never
    held in memory), with a Content-Length S3 needs."""

    def __init__(self, fields: dict, path: Path, content_type: str, progress: Progress | None) -> None:
        self.boundary = uuid.uuid4().hex
        head = b"".join(
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
            for name, value in fields.items()
        )
        # S3 takes the file from the last part, named "file"; the name itself is not used.
        head += (
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="file"; filename="upload"\r\n'
            f"Content-Type: {content_type}\r\n\r\n"
        ).encode()
        self._parts = [head, path, f"\r\n--{self.boundary}--\r\n".encode()]
        self.len = len(head) + path.stat().st_size + len(self._parts[2])
        self._progress = progress
        self._buffer = b""
        self._file = None

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def __len__(self) -> int:
        return self.len

    def read(self, size: int = -1) -> bytes:
        size = CHUNK if size is None or size < 0 else size
        while not self._buffer and self._parts:
            part = self._parts[0]
            if isinstance(part, bytes):
                self._buffer = self._parts.pop(0)
                break
            if self._file is None:
                self._file = part.open("rb")
            data = self._file.read(size)
            if data:
                if self._progress:
                    self._progress(len(data))
                return data
            self._file.close()
            self._parts.pop(0)
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data


def _s3_message(response: requests.Response) -> str:
    found = re.search(r"<Message>(.*?)</Message>", response.text or "", re.S)
    return found.group(1).strip() if found else f"HTTP {response.status_code}"


def upload_send(
    *, api: Api, path: Path, progress: Progress | None = None, restart: Callable[[], None] | None = None
) -> str:
    """Ask the API for a presigned POST, send the file straight to S3; the upload_id an edit names."""
    content_type = content_type_guess(path)
    size = path.stat().st_size
    offer = api.post(
        "/api/v1/uploads", json={"content_type": content_type, "size": size, "filename": path.name[:255]}
    )
    for attempt in range(1, 5):
        stream = _MultipartStream(offer["fields"], path, content_type, progress)
        try:
            response = api.http.post(
                offer["url"], data=stream, headers={"Content-Type": stream.content_type}, timeout=(10, 300)
            )
        except requests.RequestException as exc:
            response, failure = None, f"{type(exc).__name__}: {exc}"
        else:
            failure = None if response.status_code < 300 else _s3_message(response)
        if failure is None:
            return offer["upload_id"]
        if response is not None and response.status_code < 500:
            # A policy refusal (size, type, expired): repeating it would fail the same way.
            raise CliError(f"{path.name}: the upload was refused: {failure}", exit_code=exits.REFUSED)
        if attempt == 4:
            break
        api.notify(f"{path.name}: upload failed ({failure}); trying again")
        if restart:
            restart()  # the progress bar starts over with the bytes
        time.sleep(attempt)
    raise CliError(f"{path.name}: the upload failed: {failure}", exit_code=exits.UNAVAILABLE)


def download_to(*, api: Api, url: str, destination: Path, progress: Progress | None = None) -> int:
    """Download a result to `destination` through a temporary file beside it; the bytes written."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    temporary = destination.with_name(f".{destination.name}.{os.getpid()}.part")
    for attempt in range(1, 5):
        written = 0
        try:
            with api.http.get(url, stream=True, timeout=(10, 120)) as response:
                if response.status_code >= 400:
                    raise CliError(
                        f"The result could not be downloaded: {_s3_message(response)}",
                        exit_code=exits.UNAVAILABLE if response.status_code >= 500 else exits.REFUSED,
                    )
                with temporary.open("wb") as handle:
                    for chunk in response.iter_content(CHUNK):
                        handle.write(chunk)
                        written += len(chunk)
                        if progress:
                            progress(len(chunk))
                    handle.flush()
                    os.fsync(handle.fileno())
            os.replace(temporary, destination)
            return written
        except requests.RequestException as exc:
            temporary.unlink(missing_ok=True)
            if attempt == 4:
                raise CliError(
                    f"The result could not be downloaded: {exc}", exit_code=exits.UNAVAILABLE
                ) from exc
            time.sleep(attempt)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
    raise AssertionError("unreachable")

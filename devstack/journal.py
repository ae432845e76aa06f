"""An append-only journal of checksummed JSON lines, fsynced per record and compacted by atomic rename."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

HEADER = {"format": "imageedit-devstack-journal", "version": 1}
FILE_MODE = 0o600


def encode(record: dict) -> bytes:
    """One line: the CRC-32 of the JSON in hex, a space, the JSON (which never holds a raw newline)."""
    payload = json.dumps(record, separators=(",", ":"), sort_keys=True).encode()
    return b"%08x %s\n" % (zlib.crc32(payload), payload)


def decode(line: bytes) -> dict | None:
    """The record of one line, or None if the line is damaged (bad checksum, cut short, not JSON)."""
    if len(line) < 10 or line[8:9] != b" ":
        return None
    payload = line[9:]
    try:
        if int(line[:8], 16) != zlib.crc32(payload):
            return None
        record = json.loads(payload)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def describe_damage(raw: bytes) -> str:
    """Name what a damaged line held, as far as its text still shows it."""
    text = raw.decode("utf-8", "replace")
    kind = re.search(r'"t":"(\w+)"', text)
    table = re.search(r'"table":"([^"]+)"', text)
    bucket = re.search(r'"bucket":"([^"]+)"', text)
    key = re.search(r'"key":("[^"]*"|\{[^{}]*(?:\{[^{}]*\}[^{}]*)*\})', text)
    if kind and kind.group(1) == "item" and key:
        return f"the latest write of item {key.group(1)}" + (f" in table {table.group(1)}" if table else "")
    if kind and kind.group(1) == "object" and key:
        return f"the latest write of object {key.group(1)}" + (
            f" in bucket {bucket.group(1)}" if bucket else ""
        )
    if kind and kind.group(1) == "cognito":
        return "one copy of the Cognito users and pools (an earlier or later copy is used)"
    if kind:
        return f"a {kind.group(1)} record"
    return "an unrecognisable record"


def fsync_directory(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(path: Path, lines: Iterable[bytes]) -> None:
    """Write to a temporary file, fsync it, rename it over `path`, fsync the directory."""
    temporary = path.with_name(path.name + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as file:
            for line in lines:
                file.write(line)
            file.flush()
            os.fsync(file.fileno())
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    os.replace(temporary, path)
    fsync_directory(path.parent)


def moved_aside(path: Path, why: str) -> Path:
    """Rename `path` beside itself with a timestamp; never delete what a person may want back."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.{why}-{stamp}")
    os.replace(path, target)
    return target


@dataclass
class Loaded:
    records: list[dict] = field(default_factory=list)
    damaged: list[str] = field(default_factory=list)  # one sentence per skipped record
    unreadable: bool = False


def journal_read(path: Path) -> Loaded:
    """Every intact record in order; damaged lines are skipped and described, never fatal."""
    loaded = Loaded()
    if not path.exists():
        return loaded
    data = path.read_bytes()
    offset = 0
    header_seen = False
    for raw in data.split(b"\n"):
        start, offset = offset, offset + len(raw) + 1
        if not raw:
            continue
        record = decode(raw)
        if record is None:
            loaded.damaged.append(f"byte {start}: {describe_damage(raw)}")
        elif record.get("format") == HEADER["format"]:
            header_seen = True
        else:
            loaded.records.append(record)
    loaded.unreadable = bool(data.strip()) and not header_seen and not loaded.records
    return loaded


class Journal:
    """Appends records durably; keeps the latest line per identity so compaction is a rewrite of those."""

    def __init__(self, path: Path, identity: Callable[[dict], tuple | None]) -> None:
        self.path = path
        self.identity = identity
        self.live: dict[tuple, bytes] = {}
        self.appended = 0
        self._fd: int | None = None

    def remember(self, record: dict) -> None:
        """Track a record as the latest for its identity (None: it ends the identity, see `forget`)."""
        key = self.identity(record)
        if key is not None:
            self.live[key] = encode(record)

    def forget(self, predicate: Callable[[tuple], bool]) -> None:
        for key in [key for key in self.live if predicate(key)]:
            del self.live[key]

    def append(self, record: dict) -> None:
        """Write one record and fsync it: once this returns, the record survives a crash."""
        line = encode(record)
        if self._fd is None:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
        os.write(self._fd, line)
        os.fsync(self._fd)
        self.appended += 1
        key = self.identity(record)
        if key is not None:
            self.live[key] = line

    def compact(self, order: Callable[[tuple], int]) -> None:
        """Rewrite the journal as the latest record of each identity, atomically."""
        self.close()
        keys = sorted(self.live, key=order)
        write_atomically(self.path, [encode(HEADER), *(self.live[key] for key in keys)])
        self.appended = 0

    def needs_compaction(self) -> bool:
        return self.appended > 1000 + 2 * len(self.live)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

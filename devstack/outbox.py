"""The local outbox: what Cognito would email, as a terminal line and one private file per message."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path


class Outbox:
    """Deliver mail locally: `local mail to <email> (user <username>): code <code>`, and a 0600 file."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._lock = threading.Lock()

    def deliver(self, *, email: str, username: str, kind: str, code: str, label: str = "code") -> Path:
        """Print the line and write the message as JSON (crash-safe: written whole, then renamed)."""
        to = email or "(no email address)"
        print(f"local mail to {to} (user {username}): {label} {code}", file=sys.stdout, flush=True)
        message = {
            "to": email,
            "username": username,
            "kind": kind,
            "code": code,
            "sent_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        with self._lock:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.chmod(self.directory, 0o700)
            name = f"{time.time_ns()}-{kind}-{uuid.uuid4().hex[:8]}.json"
            fd, temporary = tempfile.mkstemp(dir=self.directory, prefix=".sending-")  # created 0600
            with os.fdopen(fd, "w") as file:
                json.dump(message, file)
                file.flush()
                os.fsync(file.fileno())
            path = self.directory / name
            os.replace(temporary, path)
        return path

    def messages(self, *, username: str | None = None, kind: str | None = None) -> list[dict]:
        """The delivered messages, oldest first, optionally only one user's or one kind's."""
        if not self.directory.exists():
            return []
        found = []
        for path in sorted(self.directory.glob("*.json"), key=lambda p: int(p.name.split("-", 1)[0])):
            message = json.loads(path.read_text())
            if username is not None and message["username"].lower() != username.lower():
                continue
            if kind is not None and message["kind"] != kind:
                continue
            found.append(message)
        return found

    def last_code(self, *, username: str, kind: str) -> str:
        """The newest code of this kind sent to this user (a test's or a person's way to read the mail)."""
        messages = self.messages(username=username, kind=kind)
        if not messages:
            raise LookupError(f"no {kind} mail for {username} in {self.directory}")
        return messages[-1]["code"]

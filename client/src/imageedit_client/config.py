"""Where the client keeps its settings and which server it talks to."""

from __future__ import annotations

import json
import os
from pathlib import Path

DEFAULT_ENDPOINT = "http://127.0.0.1:8000"


def config_dir() -> Path:
    """$XDG_CONFIG_HOME/imageedit (~/.config/imageedit when unset), as the XDG base directory spec says."""
    base = os.environ.get("XDG_CONFIG_HOME") or ""
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".config"
    return root / "imageedit"


def config_dir_ensure() -> Path:
    path = config_dir()
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.chmod(0o700)
    return path


def private_write(path: Path, text: str) -> None:
    """Write a file only its owner can read (0600 from creation, never briefly wider), atomically."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def settings_read() -> dict:
    try:
        return json.loads((config_dir() / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def settings_write(values: dict) -> None:
    private_write(config_dir_ensure() / "config.json", json.dumps(values, indent=2) + "\n")


def endpoint_resolve(given: str | None) -> str:
    """--endpoint, else $IMAGEEDIT_ENDPOINT, else the one the last login used, else the local stack."""
    endpoint = given or os.environ.get("IMAGEEDIT_ENDPOINT") or settings_read().get("endpoint")
    return (endpoint or DEFAULT_ENDPOINT).rstrip("/")

"""One JSON object per log line, carrying the request context (request id, user, edit) of the moment."""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging

# Set by the request middleware and the edit job runner; read by every log line.
log_context: contextvars.ContextVar[dict | None] = contextvars.ContextVar("log_context", default=None)

# Attributes every LogRecord has; anything else was passed with extra= and belongs in the line.
_RECORD_FIELDS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
# Never written, whoever passes them: the security rules forbid secrets and image bytes in logs.
_REDACTED_KEYS = {
    "password",
    "access_token",
    "id_token",
    "refresh_token",
    "token",
    "authorization",
    "image",
    "mask",
}


def log_context_bind(**fields) -> None:
    """Add fields to the context of the current request or job."""
    log_context.set({**(log_context.get() or {}), **{k: v for k, v in fields.items() if v is not None}})


def log_context_clear() -> None:
    log_context.set(None)


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON line: time, level, logger, message, context, extras, exception."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "timestamp": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(log_context.get() or {})
        for key, value in vars(record).items():
            if key not in _RECORD_FIELDS and not key.startswith("_"):
                line[key] = value
        for key in _REDACTED_KEYS & line.keys():
            line[key] = "[redacted]"
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)

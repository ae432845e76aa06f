"""The one exception type that services raise and the API turns into a 4xx/5xx response."""

from __future__ import annotations


class ServiceError(Exception):
    """A failure a person can understand: a stable code, a sentence, and the HTTP status that fits."""

    def __init__(self, code: str, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message}

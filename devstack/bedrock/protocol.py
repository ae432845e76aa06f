"""Bedrock's wire shapes: errors with their HTTP statuses, a successful reply, the engine's notes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PROMPT_IGNORED = "prompt ignored by the local engine (classical fill)"
UPSCALE_PROMPT_IGNORED = "prompt ignored by the local engine (Lanczos upscale)"
OUTPAINT_NOTE = "new area drawn by the local engine (blurred extension of the edges)"
STYLE_TRANSFER_NOTE = (
    "colour statistics transfer (Reinhard) by the local engine: the style image's colours, not its brushwork"
)
RECOLOR_NOTE = "hue shift inside the transparent area by the local engine; select_prompt not used"
ERROR_TYPE_SUFFIX = ":http://internal.amazon.com/coral/com.amazon.bedrock/"
ERROR_STATUS = {
    "ValidationException": 400,
    "AccessDeniedException": 403,
    "ResourceNotFoundException": 404,
    "ModelTimeoutException": 408,
    "ModelErrorException": 424,
    "ThrottlingException": 429,
    "ModelNotReadyException": 429,
    "ServiceQuotaExceededException": 400,
    "InternalServerException": 500,
    "ServiceUnavailableException": 503,
}


class BedrockError(Exception):
    """An error answered in Bedrock's REST-JSON shape, so botocore raises ClientError with this code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def status(self) -> int:
        return ERROR_STATUS[self.code]


def invalid(message: str) -> BedrockError:
    return BedrockError("ValidationException", message)


def cannot(what: str, task: str) -> BedrockError:
    return invalid(f"The local engine cannot do {what} ({task}); run against Amazon Bedrock for this task.")


@dataclass(frozen=True)
class Reply:
    """A successful InvokeModel answer and what the engine wants the caller to know about it."""

    payload: dict[str, Any]
    note: str | None = None

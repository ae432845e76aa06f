"""The InvokeModel call: the request body's encoding, the call itself, and Bedrock's errors in our words."""

from __future__ import annotations

import base64
import json
import uuid

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from editor.errors import ServiceError
from editor.services.aws import aws_client

# Bedrock refuses larger request bodies.
MAX_BODY_BYTES = 25_000_000


def invalid_for_model(message: str) -> ServiceError:
    return ServiceError("invalid_for_model", message, status=400)


def content_filtered(detail: str = "") -> ServiceError:
    suffix = f" ({detail})" if detail else ""
    return ServiceError(
        "content_filtered",
        f"The model's content filter blocked this request{suffix}. Change the prompt or the image and retry.",
        status=422,
    )


def model_error(message: str) -> ServiceError:
    return ServiceError("model_error", message, status=502)


class Base64Text(str):
    """Base64 of image bytes: its alphabet never needs JSON escaping (see json_body)."""


def b64(data: bytes) -> Base64Text:
    return Base64Text(base64.b64encode(data).decode("ascii"))


def json_body(body: dict) -> bytes:
    """json.dumps(body), without making the encoder scan megabytes of base64 for characters to escape.

    Images are spliced in after encoding the rest (~10 ms saved per MB-sized image); the placeholders
    carry a random nonce, so no prompt can collide with them. tests check the bytes equal json.dumps.
    """
    nonce, blobs = uuid.uuid4().hex, []

    def hold(value):
        if isinstance(value, Base64Text):
            blobs.append(value)
            return f"{nonce}:{len(blobs) - 1}"
        if isinstance(value, dict):
            return {key: hold(item) for key, item in value.items()}
        return value

    text = json.dumps(hold(body))
    for index, blob in enumerate(blobs):
        text = text.replace(f'"{nonce}:{index}"', f'"{blob}"', 1)
    return text.encode()


# Bedrock's error codes -> (our code, HTTP status, sentence for a person).
BEDROCK_ERRORS = {
    "ValidationException": ("invalid_for_model", 400, "The model refused the request: {detail}"),
    "ServiceQuotaExceededException": (
        "quota_exceeded",
        429,
        "The AWS account's Bedrock quota is used up; try again later.",
    ),
    "AccessDeniedException": (
        "model_access_denied",
        403,
        "This deployment has no access to the model; enable it in the Bedrock console.",
    ),
    "ResourceNotFoundException": (
        "model_not_found",
        502,
        "The model is not available in this region or account.",
    ),
    "ThrottlingException": ("throttled", 429, "The model is busy (throttled); try again in a minute."),
    "ModelNotReadyException": ("model_not_ready", 503, "The model is warming up; try again in a minute."),
    "ModelTimeoutException": ("model_timeout", 504, "The model took too long; try a smaller image."),
    "ModelErrorException": ("model_error", 502, "The model failed to process the request; try again."),
    "InternalServerException": ("bedrock_error", 502, "Amazon Bedrock had an internal error; try again."),
    "ServiceUnavailableException": (
        "bedrock_unavailable",
        503,
        "Amazon Bedrock is unavailable right now; try again later.",
    ),
}


def bedrock_error(exc: Exception) -> ServiceError:
    """Map a boto3 failure of InvokeModel to the one error type the API knows."""
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        detail = exc.response.get("Error", {}).get("Message", "") or code
        if code == "ValidationException" and "content filter" in detail.lower():
            return content_filtered()
        our_code, status, message = BEDROCK_ERRORS.get(
            code, ("bedrock_error", 502, "Amazon Bedrock returned an unexpected error; try again.")
        )
        return ServiceError(our_code, message.format(detail=detail), status=status)
    if isinstance(exc, ReadTimeoutError):
        return ServiceError("model_timeout", "The model took too long to answer; try again.", status=504)
    if isinstance(exc, EndpointConnectionError | ConnectTimeoutError):
        return ServiceError(
            "bedrock_unavailable", "Amazon Bedrock could not be reached; try again later.", status=503
        )
    return ServiceError("bedrock_error", "Calling Amazon Bedrock failed; try again.", status=502)


def bedrock_invoke(*, model_id: str, body: dict) -> tuple[dict, dict]:
    """Call InvokeModel; return the JSON payload and the response headers."""
    encoded = json_body(body)
    if len(encoded) > MAX_BODY_BYTES:
        raise invalid_for_model("The request is larger than Bedrock's 25 MB limit; use a smaller image.")
    try:
        response = aws_client("bedrock-runtime").invoke_model(
            modelId=model_id, body=encoded, contentType="application/json", accept="application/json"
        )
        payload = json.loads(response["body"].read())
    except (ClientError, BotoCoreError) as exc:
        raise bedrock_error(exc) from exc
    except ValueError as exc:
        raise model_error("The model's answer could not be read; try again.") from exc
    return payload, response["ResponseMetadata"].get("HTTPHeaders", {})

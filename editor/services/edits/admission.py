"""Whether to take an edit on: the daily quota, and the Idempotency-Key that makes a retried POST safe."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging

from pynamodb.exceptions import DoesNotExist, PutError

from editor.errors import ServiceError
from editor.models import IdempotencyRecord, condition_failed
from editor.services.bedrock.tasks import EditSpec
from editor.services.spend import spend_take
from editor.users import CognitoUser

logger = logging.getLogger(__name__)


def request_fingerprint(
    spec: EditSpec,
    image: bytes | None,
    mask: bytes | None,
    parent_id: str | None,
    style_image: bytes | None = None,
) -> str:
    """What the request asked, as a digest: a reused key with a different request is refused."""
    options = {
        "model": spec.model,
        "prompt": spec.prompt,
        "negative_prompt": spec.negative_prompt,
        **spec.parameters(),
    }
    digest = hashlib.sha256(
        json.dumps(
            {"task": spec.task, "options": options, "parent_id": parent_id}, sort_keys=True, default=str
        ).encode()
    )
    for blob in (image, mask, *((style_image,) if style_image is not None else ())):
        digest.update(hashlib.sha256(blob or b"").digest())
    return digest.hexdigest()


def quota_take(user: CognitoUser, *, images: int = 1, cost_usd: float = 0.0) -> None:
    """Count one edit against the person's daily quota and budget (and the monthly budget), atomically;
    refuse past a limit (editor/services/spend.py)."""
    spend_take(user, images=images, cost_usd=cost_usd)


def _idempotency_record_id(user: CognitoUser, key: str) -> str:
    return "idem#" + hashlib.sha256(f"{user.sub}\n{key}".encode()).hexdigest()


def idempotency_claim(user: CognitoUser, key: str, fingerprint: str, edit_id: str) -> str | None:
    """Claim the key for edit_id; return the id of the edit that already holds it, if any."""
    record_id = _idempotency_record_id(user, key)
    record = IdempotencyRecord(
        id=record_id, edit_id=edit_id, request_fingerprint=fingerprint, expires_at=dt.timedelta(days=1)
    )
    try:
        record.save(condition=IdempotencyRecord.id.does_not_exist())
        return None
    except PutError as exc:
        if not condition_failed(exc):
            raise
    try:
        existing = IdempotencyRecord.get(record_id, consistent_read=True)
    except DoesNotExist:
        # Freed between our put and our read by a request that was refused: claim it again.
        return idempotency_claim(user, key, fingerprint, edit_id)
    if existing.request_fingerprint != fingerprint:
        raise ServiceError(
            "idempotency_key_reused",
            "This Idempotency-Key was already used for a different request.",
            status=422,
        )
    return existing.edit_id


def idempotency_release(user: CognitoUser, key: str, edit_id: str) -> None:
    record_id = _idempotency_record_id(user, key)
    try:
        IdempotencyRecord(id=record_id).delete(condition=IdempotencyRecord.edit_id == edit_id)
    except Exception:  # best effort: the record expires in a day anyway
        logger.warning("idempotency key could not be released")

"""Whether to take an edit on: the daily quota, and the Idempotency-Key that makes a retried POST safe."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging

from django.conf import settings
from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from editor.errors import ServiceError
from editor.metrics import metrics_quota_refused
from editor.models import IdempotencyRecord, QuotaCounter, condition_failed
from editor.services.bedrock.tasks import EditSpec
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


def quota_take(user: CognitoUser) -> None:
    """Count one edit against the person's daily quota, atomically; refuse past the limit."""
    if settings.DAILY_EDIT_QUOTA <= 0:
        metrics_quota_refused()
        raise ServiceError("edits_disabled", "Editing is switched off for now (daily quota 0).", status=429)
    today = dt.datetime.now(dt.UTC).date().isoformat()
    counter = QuotaCounter(id=f"quota#{user.sub}#{today}")
    try:
        counter.update(
            actions=[
                QuotaCounter.used.add(1),
                QuotaCounter.expires_at.set(dt.datetime.now(dt.UTC) + dt.timedelta(days=2)),
            ],
            condition=QuotaCounter.used.does_not_exist() | (QuotaCounter.used < settings.DAILY_EDIT_QUOTA),
        )
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        metrics_quota_refused()
        raise ServiceError(
            "daily_quota_exceeded",
            f"You have used today's {settings.DAILY_EDIT_QUOTA} edits; the quota resets at midnight UTC.",
            status=429,
        ) from exc


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

"""Whether to take an edit on, in one transaction: the Idempotency-Key that makes a retried POST safe, the
daily quota and the budgets, the PENDING item, and the count of versions on the tree's root."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import random
import time
import uuid
from dataclasses import dataclass

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from editor.errors import ServiceError
from editor.models import IdempotencyRecord, ImageEdit
from editor.services.bedrock.tasks import EditSpec
from editor.services.spend import spend_admitted, spend_refusal, spend_writes
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


def idempotency_record_id(user: CognitoUser, key: str) -> str:
    """The record that holds a person's Idempotency-Key (edits and batches share the key space)."""
    return "idem#" + hashlib.sha256(f"{user.sub}\n{key}".encode()).hexdigest()


@dataclass(frozen=True)
class IdempotencyClaim:
    """The Idempotency-Key a request came with, and what it asked (a reused key must ask the same)."""

    key: str
    fingerprint: str


def _connection():
    return ImageEdit._get_connection().connection


def reason_code(exc: TransactWriteError, index: int) -> str | None:
    """Why DynamoDB cancelled the transaction's item at `index` (e.g. ConditionalCheckFailed), if it says."""
    reasons = exc.cancellation_reasons or []
    reason = reasons[index] if index < len(reasons) else None
    return reason.code if reason is not None else None


def edit_admit(
    *,
    user: CognitoUser,
    edit: ImageEdit,
    images: int,
    cost_usd: float,
    claim: IdempotencyClaim | None = None,
    root_id: str | None = None,
) -> str | None:
    """Admit an edit in one DynamoDB transaction: claim its Idempotency-Key, count it against the day's
    quota and budget and the month's budget, write its PENDING item, and count it on its tree's root.

    All or nothing: a refused or repeated request is charged nothing, and an admitted one is charged once.
    A transaction whose outcome is unknown (a timeout, a 5xx) is sent again with the same
    ClientRequestToken, which DynamoDB applies at most once; a new token is used only after a cancellation,
    when nothing was applied. Returns None when admitted, or the id of the edit that already holds the key.
    """
    now = dt.datetime.now(dt.UTC)
    writes = spend_writes(user, images=images, cost_usd=cost_usd, now=now)
    count_on_root = root_id is not None and root_id != edit.id
    generation = 0  # of the token: moves on only after a cancellation
    for attempt in range(_ATTEMPTS):
        # TransactWriteItems orders puts before updates: the claim, the edit, the counters, the root.
        puts = ["claim"] if claim else []
        puts.append("edit")
        updates = [write.scope for write in writes] + (["root"] if count_on_root else [])
        order = puts + updates
        try:
            with TransactWrite(
                connection=_connection(), client_request_token=_token(edit.id, generation)
            ) as tx:
                if claim:
                    tx.save(
                        IdempotencyRecord(
                            id=idempotency_record_id(user, claim.key),
                            edit_id=edit.id,
                            request_fingerprint=claim.fingerprint,
                            expires_at=dt.timedelta(days=1),
                        ),
                        condition=IdempotencyRecord.id.does_not_exist(),
                    )
                tx.save(edit, condition=ImageEdit.id.does_not_exist())
                for write in writes:
                    tx.update(write.counter, actions=write.actions, condition=write.condition)
                if count_on_root:
                    tx.update(
                        ImageEdit(id=root_id),
                        actions=[ImageEdit.version_count.add(1)],
                        condition=ImageEdit.id.exists() & (ImageEdit.user_id == user.sub),
                    )
            spend_admitted(images=images, cost_usd=cost_usd)
            return None
        except TransactWriteError as exc:
            if _error_code(exc) != "TransactionCanceledException":
                # Unknown outcome, or a refusal to start (throttled, a transaction with this token still
                # in progress): the same token again is safe either way.
                logger.warning("edit admission not confirmed, retrying", extra={"error": _error_code(exc)})
                time.sleep(random.uniform(0.05, 0.2) * (attempt + 1))
                continue
            generation += 1  # cancelled: nothing was written, and the next request may differ
            codes = {name: reason_code(exc, index) for index, name in enumerate(order)}
            failed = {name for name, code in codes.items() if code == "ConditionalCheckFailed"}
            if "claim" in failed:
                existing = claimed_edit(user, claim)
                if existing is not None:
                    return existing
                continue  # freed meanwhile by a request that was refused: claim it again
            if "day" in failed or "month" in failed:
                scope = "day" if "day" in failed else "month"
                raise spend_refusal(user, scope=scope, cost_usd=cost_usd, now=now) from exc
            if "root" in failed:
                count_on_root = False  # the tree's first edit was deleted: nothing to count on
                continue
            if "TransactionConflict" in codes.values():
                # Another edit's transaction held a counter (the month's is shared): try again shortly.
                time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))
                continue
            logger.warning("edit admission cancelled", extra={"reasons": codes})
            raise _storage_unavailable() from exc
    raise _storage_unavailable()


_ATTEMPTS = 5


def _token(edit_id: str, generation: int) -> str:
    """A ClientRequestToken (at most 36 characters): the same for every send of one transaction (and
    botocore's own retries of it), so DynamoDB applies it at most once."""
    return str(uuid.uuid5(uuid.UUID(edit_id), str(generation)))


def _error_code(exc: TransactWriteError) -> str | None:
    """The error DynamoDB answered, or None when there was no answer (PynamoDB's own accessor fails then)."""
    response = getattr(getattr(exc, "cause", None), "response", None) or {}
    return response.get("Error", {}).get("Code")


def _storage_unavailable() -> ServiceError:
    return ServiceError(
        "storage_unavailable", "The edit could not be recorded right now; try again.", status=503
    )


def claimed_edit(user: CognitoUser, claim: IdempotencyClaim) -> str | None:
    """The edit that holds the key (None if the key was freed since), or a 422 if it asked otherwise."""
    try:
        existing = IdempotencyRecord.get(idempotency_record_id(user, claim.key), consistent_read=True)
    except DoesNotExist:
        return None
    if existing.request_fingerprint != claim.fingerprint:
        raise ServiceError(
            "idempotency_key_reused",
            "This Idempotency-Key was already used for a different request.",
            status=422,
        )
    return existing.edit_id


def idempotency_release(user: CognitoUser, key: str, edit_id: str) -> None:
    record_id = idempotency_record_id(user, key)
    try:
        IdempotencyRecord(id=record_id).delete(condition=IdempotencyRecord.edit_id == edit_id)
    except Exception:  # best effort: the record expires in a day anyway
        logger.warning("idempotency key could not be released")

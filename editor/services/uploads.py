"""Direct uploads: presigned POSTs to users/<sub>/uploads/<id>, checked in S3 before any edit uses them."""

from __future__ import annotations

import datetime as dt
import io
import logging
import uuid
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from editor.errors import ServiceError
from editor.services.aws import aws_client
from editor.services.imaging.photos import (
    ACCEPTED,
    CONTENT_TYPE_FORMATS,
    PhotoInfo,
    photo_decode,
    photo_inspect,
)
from editor.services.storage import presigned_url
from editor.users import CognitoUser

logger = logging.getLogger(__name__)

# Uploads carry this tag (the presigned POST requires it): the bucket's lifecycle rule expires objects
# by tag, since S3 filters cannot match users/*/uploads/. Copies made for an edit drop it.
UPLOAD_TAG = ("imageedit-kind", "upload")
UPLOAD_TAGGING_XML = (
    f"<Tagging><TagSet><Tag><Key>{UPLOAD_TAG[0]}</Key><Value>{UPLOAD_TAG[1]}</Value></Tag></TagSet></Tagging>"
)


# A form field S3 keeps as the object's user metadata "declared-size" (x-amz-meta-* fields become metadata).
DECLARED_SIZE_FIELD = "x-amz-meta-declared-size"


def upload_limits_describe() -> str:
    """What a person may drop into the editor, in words, from the upload settings."""
    megapixels = f"{settings.MAX_PHOTO_PIXELS / 1e6:g}"
    return f"{ACCEPTED}, up to {settings.MAX_PHOTO_BYTES / 1e6:g} MB and {megapixels} megapixels"


def upload_key(*, user_id: str, upload_id: str) -> str:
    return f"users/{user_id}/uploads/{upload_id}"


def _unavailable() -> ServiceError:
    logger.exception("s3 call failed")
    return ServiceError(
        "storage_unavailable", "Image storage is unavailable right now; try again.", status=503
    )


def upload_create(*, user: CognitoUser, content_type: str, size: int, filename: str | None = None) -> dict:
    """A presigned POST for one photo: exact content type, exactly the declared size, 5 minutes, the
    person's own key."""
    if CONTENT_TYPE_FORMATS.get(content_type.strip().lower()) is None:
        raise ServiceError(
            "unsupported_image_format",
            f"Upload a {ACCEPTED} image (not {content_type or 'unknown'}).",
            status=415,
        )
    if size > settings.MAX_PHOTO_BYTES:
        raise ServiceError(
            "image_too_large",
            f"The file is {size / 1e6:.1f} MB; the limit is {settings.MAX_PHOTO_BYTES / 1e6:.0f} MB.",
            status=413,
        )
    upload_id = str(uuid.uuid4())
    key = upload_key(user_id=user.sub, upload_id=upload_id)
    # The declared size binds the POST (S3 refuses any other length) and rides along as metadata, so the
    # object says what was promised: upload_get compares the two before an edit uses it.
    fields = {"Content-Type": content_type, "tagging": UPLOAD_TAGGING_XML, DECLARED_SIZE_FIELD: str(size)}
    try:
        post = aws_client("s3").generate_presigned_post(
            Bucket=settings.S3_BUCKET,
            Key=key,
            Fields=fields,
            Conditions=[
                {"Content-Type": content_type},
                {"tagging": UPLOAD_TAGGING_XML},
                {DECLARED_SIZE_FIELD: str(size)},
                ["content-length-range", size, size],
            ],
            ExpiresIn=settings.UPLOAD_POST_TTL_SECONDS,
        )
    except (ClientError, BotoCoreError) as exc:
        raise _unavailable() from exc
    logger.info(
        "upload offered", extra={"upload_id": upload_id, "bytes": size, "file_name": (filename or "")[:100]}
    )
    return {
        "upload_id": upload_id,
        "url": post["url"],
        "fields": post["fields"],
        "expires_in": settings.UPLOAD_POST_TTL_SECONDS,
        "max_bytes": settings.MAX_PHOTO_BYTES,
        "size": size,
    }


@dataclass(frozen=True)
class Upload:
    """A validated upload: its key, what its headers say, and its bytes (read once, for the edit)."""

    upload_id: str
    key: str
    info: PhotoInfo
    data: bytes


def _not_found() -> ServiceError:
    return ServiceError(
        "upload_not_found",
        "No such upload: it was never finished, belongs to someone else, or has expired. "
        "Upload the file again.",
        status=404,
    )


def _discard(key: str) -> None:
    try:
        aws_client("s3").delete_object(Bucket=settings.S3_BUCKET, Key=key)
    except (ClientError, BotoCoreError):
        logger.warning("refused upload could not be removed", extra={"key": key})


def upload_get(*, user: CognitoUser, upload_id: str, role: str = "image") -> Upload:
    """The person's upload, validated where it lies in S3 (S3's own POST policy is not trusted alone).

    Someone else's or an unknown id is a 404 (the key is built from the caller's own sub); one older than
    UPLOAD_MAX_AGE_SECONDS is a 410. A file that fails the checks (size, type by content, pixels, damage)
    is deleted and refused with the same errors as a file sent in the request.
    """
    try:
        upload_id = str(uuid.UUID(str(upload_id)))
    except ValueError as exc:
        raise _not_found() from exc
    key = upload_key(user_id=user.sub, upload_id=upload_id)
    s3 = aws_client("s3")
    try:
        head = s3.head_object(Bucket=settings.S3_BUCKET, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            raise _not_found() from exc
        raise _unavailable() from exc
    except BotoCoreError as exc:
        raise _unavailable() from exc
    age = (dt.datetime.now(dt.UTC) - head["LastModified"]).total_seconds()
    if age > settings.UPLOAD_MAX_AGE_SECONDS:
        _discard(key)
        raise ServiceError("upload_expired", "This upload has expired; upload the file again.", status=410)
    size = int(head["ContentLength"])
    declared = (head.get("Metadata") or {}).get("declared-size")
    if declared is None or not declared.isdigit() or int(declared) != size:
        # S3 enforces the policy; this check does not depend on it (nor on a stand-in that might not):
        # an object without its declared size, or of another size, was not posted as offered.
        _discard(key)
        promised = f"{int(declared):,} bytes" if declared and declared.isdigit() else "no size"
        raise ServiceError(
            "upload_size_mismatch",
            f"The uploaded file is {size:,} bytes, but {promised} were declared when the upload was "
            "offered. Upload the file again, declaring its exact size.",
            status=422,
        )
    if size > settings.MAX_PHOTO_BYTES:
        _discard(key)
        raise ServiceError(
            "image_too_large",
            f"The {role} is {size / 1e6:.1f} MB; the limit is {settings.MAX_PHOTO_BYTES / 1e6:.0f} MB.",
            status=413,
        )
    try:
        data = s3.get_object(Bucket=settings.S3_BUCKET, Key=key)["Body"].read()
    except (ClientError, BotoCoreError) as exc:
        raise _unavailable() from exc
    try:
        info = photo_inspect(data, role=role)
    except ServiceError:
        _discard(key)
        raise
    return Upload(upload_id=upload_id, key=key, info=info, data=data)


def upload_copy(*, upload: Upload, key: str) -> None:
    """Copy an upload to an edit's own key inside S3 (no bytes through Lambda), without the upload's tag,
    so the edit's input outlives the upload and one upload can serve several edits."""
    try:
        aws_client("s3").copy_object(
            Bucket=settings.S3_BUCKET,
            Key=key,
            CopySource={"Bucket": settings.S3_BUCKET, "Key": upload.key},
            ContentType=upload.info.content_type,
            MetadataDirective="REPLACE",
            TaggingDirective="REPLACE",
            Tagging="",
        )
    except (ClientError, BotoCoreError) as exc:
        raise _unavailable() from exc


PREVIEW_SIDE = 2048


def upload_preview(*, user: CognitoUser, upload_id: str) -> dict:
    """A JPEG the browser can show of an upload it cannot (HEIC outside Safari), at most 2,048 pixels a
    side, upright and in sRGB; with the photo's own size, which masks must match."""
    upload = upload_get(user=user, upload_id=upload_id)
    image = photo_decode(upload.data, fit=(PREVIEW_SIDE, PREVIEW_SIDE))
    image.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE))
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=85)
    key = f"{upload.key}.preview.jpg"  # beside the upload: the same tag, lifecycle rule and sweep
    try:
        aws_client("s3").put_object(
            Bucket=settings.S3_BUCKET,
            Key=key,
            Body=out.getvalue(),
            ContentType="image/jpeg",
            Tagging=f"{UPLOAD_TAG[0]}={UPLOAD_TAG[1]}",
        )
    except (ClientError, BotoCoreError) as exc:
        raise _unavailable() from exc
    return {"url": presigned_url(key=key), "width": upload.info.width, "height": upload.info.height}


def uploads_sweep(*, max_age_seconds: int | None = None) -> int:
    """Delete uploads older than UPLOAD_MAX_AGE_SECONDS; return how many. The local stand-in for the
    bucket's lifecycle rule (S3 does this itself in AWS)."""
    max_age = settings.UPLOAD_MAX_AGE_SECONDS if max_age_seconds is None else max_age_seconds
    cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=max_age)
    s3 = aws_client("s3")
    stale = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=settings.S3_BUCKET, Prefix="users/"):
        for item in page.get("Contents", []):
            parts = item["Key"].split("/")
            if len(parts) == 4 and parts[2] == "uploads" and item["LastModified"] < cutoff:
                stale.append(item["Key"])
    for start in range(0, len(stale), 1000):
        s3.delete_objects(
            Bucket=settings.S3_BUCKET,
            Delete={"Objects": [{"Key": key} for key in stale[start : start + 1000]], "Quiet": True},
        )
    if stale:
        logger.info("stale uploads removed", extra={"count": len(stale)})
    return len(stale)

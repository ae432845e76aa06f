"""Image bytes in S3, under users/<sub>/edits/<id>/; clients only ever get short-lived presigned URLs."""

from __future__ import annotations

import logging

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from editor.errors import ServiceError
from editor.services.aws import aws_client

logger = logging.getLogger(__name__)


def object_key(*, user_id: str, edit_id: str, name: str) -> str:
    return f"users/{user_id}/edits/{edit_id}/{name}"


def _unavailable(exc: Exception) -> ServiceError:
    logger.exception("s3 call failed")
    return ServiceError(
        "storage_unavailable", "Image storage is unavailable right now; try again.", status=503
    )


def object_put(*, key: str, data: bytes, content_type: str) -> None:
    try:
        aws_client("s3").put_object(Bucket=settings.S3_BUCKET, Key=key, Body=data, ContentType=content_type)
    except (ClientError, BotoCoreError) as exc:
        raise _unavailable(exc) from exc


def object_get(*, key: str) -> bytes:
    try:
        return aws_client("s3").get_object(Bucket=settings.S3_BUCKET, Key=key)["Body"].read()
    except (ClientError, BotoCoreError) as exc:
        raise _unavailable(exc) from exc


def objects_delete(*, keys: list[str]) -> None:
    keys = [key for key in keys if key]
    if not keys:
        return
    try:
        aws_client("s3").delete_objects(
            Bucket=settings.S3_BUCKET, Delete={"Objects": [{"Key": key} for key in keys], "Quiet": True}
        )
    except (ClientError, BotoCoreError) as exc:
        raise _unavailable(exc) from exc


def presigned_url(*, key: str | None, download_name: str | None = None) -> str | None:
    """A GET URL that lives minutes (PRESIGNED_URL_TTL_SECONDS); signing is local, no call to S3."""
    if not key:
        return None
    params = {"Bucket": settings.S3_BUCKET, "Key": key}
    if download_name:
        params["ResponseContentDisposition"] = f'attachment; filename="{download_name}"'
    return aws_client("s3").generate_presigned_url(
        "get_object", Params=params, ExpiresIn=settings.PRESIGNED_URL_TTL_SECONDS
    )

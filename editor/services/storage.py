"""Image bytes in S3, under users/<sub>/edits/<id>/; clients only ever get short-lived presigned URLs."""

from __future__ import annotations

import functools
import logging
from urllib.parse import quote

from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from editor.errors import ServiceError
from editor.services.aws import aws_client, aws_credentials

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


def objects_delete_prefix(*, prefix: str) -> None:
    """Delete every object under prefix (an edit's folder: a handful of objects)."""
    try:
        listing = aws_client("s3").list_objects_v2(Bucket=settings.S3_BUCKET, Prefix=prefix)
    except (ClientError, BotoCoreError) as exc:
        raise _unavailable(exc) from exc
    objects_delete(keys=[item["Key"] for item in listing.get("Contents", [])])


@functools.lru_cache(maxsize=8)
def _bucket_url(client, bucket: str) -> str:
    """The bucket's URL exactly as boto3 builds it (path or virtual-host style), learnt once."""
    url = client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=60)
    return url.split("?", 1)[0][: -len("k")]


def presigned_url(*, key: str | None, download_name: str | None = None) -> str | None:
    """A GET URL that lives minutes (PRESIGNED_URL_TTL_SECONDS); signing is local, no call to S3.

    Signs with botocore's own SigV4 query signer but skips the client's endpoint resolution, which
    costs ~1 ms a URL; a page of history needs dozens. Tests check the URL equals boto3's.
    """
    if not key:
        return None
    base = _bucket_url(aws_client("s3"), settings.S3_BUCKET)
    params = {}
    if download_name:
        params["response-content-disposition"] = f'attachment; filename="{download_name}"'
    request = AWSRequest(method="GET", url=base + quote(key, safe="/~"), params=params)
    S3SigV4QueryAuth(
        aws_credentials(), "s3", settings.AWS_REGION, expires=settings.PRESIGNED_URL_TTL_SECONDS
    ).add_auth(request)
    return request.prepare().url

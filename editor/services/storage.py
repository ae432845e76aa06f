"""Image bytes in S3, under users/<sub>/edits/<id>/; clients only ever get short-lived presigned URLs."""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import time
from urllib.parse import quote, urlsplit

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


def bucket_origin() -> str:
    """scheme://host of the bucket's URLs (the page's Content-Security-Policy allows images from it)."""
    url = urlsplit(_bucket_url(aws_client("s3"), settings.S3_BUCKET))
    return f"{url.scheme}://{url.netloc}"


@functools.lru_cache(maxsize=4)
def _signing_key(secret_key: str, datestamp: str, region: str) -> bytes:
    key = ("AWS4" + secret_key).encode()
    for part in (datestamp, region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def _utc_now() -> time.struct_time:
    return time.gmtime()


def _uri_encode(value: str) -> str:
    return quote(value, safe="-_.~")


@functools.lru_cache(maxsize=4)
def _query_common(
    access_key: str, token: str | None, now: time.struct_time, region: str, ttl: int
) -> tuple[str, str, str, str]:
    """(amz_date, datestamp, scope, encoded query) shared by every URL signed in the same second: a page
    of history signs dozens, and URI-encoding a session token char by char is most of each."""
    amz_date, datestamp = time.strftime("%Y%m%dT%H%M%SZ", now), time.strftime("%Y%m%d", now)
    scope = f"{datestamp}/{region}/s3/aws4_request"
    params = {
        "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
        "X-Amz-Credential": f"{access_key}/{scope}",
        "X-Amz-Date": amz_date,
        "X-Amz-Expires": str(ttl),
        "X-Amz-SignedHeaders": "host",
    }
    if token:
        params["X-Amz-Security-Token"] = token
    query = "&".join(f"{_uri_encode(name)}={_uri_encode(value)}" for name, value in sorted(params.items()))
    return amz_date, datestamp, scope, query


def presigned_url(*, key: str | None, download_name: str | None = None) -> str | None:
    """A GET URL that lives minutes (PRESIGNED_URL_TTL_SECONDS); signing is local, no call to S3.

    SigV4 query signing (UNSIGNED-PAYLOAD, host header only), as botocore does it, but without the
    client's per-URL endpoint resolution and request objects: ~0.05 ms a URL instead of ~0.6 ms, and a
    page of history needs dozens. tests/editor/test_storage.py checks every parameter equals boto3's.
    """
    if not key:
        return None
    base = _bucket_url(aws_client("s3"), settings.S3_BUCKET)
    url = urlsplit(base + quote(key, safe="/~"))
    credentials = aws_credentials().get_frozen_credentials()
    amz_date, datestamp, scope, query = _query_common(
        credentials.access_key,
        credentials.token,
        _utc_now(),
        settings.AWS_REGION,
        settings.PRESIGNED_URL_TTL_SECONDS,
    )
    if download_name:
        # Sorts after every X-Amz-* name (lower case follows upper case).
        disposition = f'attachment; filename="{download_name}"'
        query += f"&response-content-disposition={_uri_encode(disposition)}"
    canonical = f"GET\n{url.path}\n{query}\nhost:{url.netloc}\n\nhost\nUNSIGNED-PAYLOAD"
    to_sign = f"AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    signature = hmac.new(
        _signing_key(credentials.secret_key, datestamp, settings.AWS_REGION), to_sign.encode(), hashlib.sha256
    ).hexdigest()
    return f"{url.scheme}://{url.netloc}{url.path}?{query}&X-Amz-Signature={signature}"

"""Presigned URLs: signed exactly as boto3 signs them, scoped to the key, and they fetch the object."""

from __future__ import annotations

import datetime as dt
import urllib.request
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings

from editor.services.aws import aws_client, aws_clients_reset
from editor.services.storage import object_put, presigned_url

pytestmark = pytest.mark.usefixtures("local_stack")

FROZEN = dt.datetime(2026, 11, 24, 17, 41, 32, tzinfo=dt.UTC)


@pytest.fixture
def frozen_clock(monkeypatch):
    """Both signers read the same instant, so their signatures must be equal to the character."""
    import botocore.auth

    from editor.services import storage

    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: FROZEN.replace(tzinfo=None))
    monkeypatch.setattr(storage, "_utc_now", FROZEN.timetuple)


def boto3_url(key: str, download_name: str | None = None) -> str:
    params = {"Bucket": settings.S3_BUCKET, "Key": key}
    if download_name:
        params["ResponseContentDisposition"] = f'attachment; filename="{download_name}"'
    return aws_client("s3").generate_presigned_url(
        "get_object", Params=params, ExpiresIn=settings.PRESIGNED_URL_TTL_SECONDS
    )


@pytest.mark.parametrize(
    ("key", "download_name"),
    [
        ("users/abc/edits/1/output-0.png", None),
        ("users/abc/edits/1/output-0.png", "imageedit-1-0.png"),
        ("users/abc/edits/1/a key with spaces+plus~tilde.png", None),
    ],
)
def test_signature_and_parameters_equal_boto3s(key, download_name, frozen_clock):
    ours, theirs = presigned_url(key=key, download_name=download_name), boto3_url(key, download_name)
    ours_parts, theirs_parts = urlsplit(ours), urlsplit(theirs)
    assert parse_qs(ours_parts.query)["X-Amz-Date"] == ["20261124T174132Z"]
    assert (ours_parts.scheme, ours_parts.netloc, ours_parts.path) == (
        theirs_parts.scheme,
        theirs_parts.netloc,
        theirs_parts.path,
    )
    assert parse_qs(ours_parts.query) == parse_qs(theirs_parts.query)


def test_url_lives_minutes_and_fetches_the_object():
    object_put(key="users/abc/edits/2/input.png", data=b"\x89PNG bytes", content_type="image/png")
    url = presigned_url(key="users/abc/edits/2/input.png")
    assert parse_qs(urlsplit(url).query)["X-Amz-Expires"] == [str(settings.PRESIGNED_URL_TTL_SECONDS)]
    assert settings.PRESIGNED_URL_TTL_SECONDS <= 900
    with urllib.request.urlopen(url, timeout=5) as response:
        assert response.read() == b"\x89PNG bytes"


def test_no_key_no_url():
    assert presigned_url(key=None) is None


AWKWARD_KEYS = [
    "users/abc/edits/1/a b+c=d&e.png",
    "users/abc/edits/1/ünïcödé 画像.png",
    "users//abc///x.png",
    "users/abc/edits/1/%41%2F.png",
    "users/abc/edits/1/semi;colon,comma!*'().png",
    "users/abc/edits/1/../../x.png",
    "users/abc/q?x#frag.png",
]


@pytest.mark.parametrize("endpoint", [None, "http://127.0.0.1:9"])  # AWS's virtual-host style, and path style
@pytest.mark.parametrize("region", ["us-east-1", "us-west-2"])
@pytest.mark.parametrize("token", [None, "FwoGZXIvYXdzE+/=tok en"])
@pytest.mark.parametrize("bucket", ["imageedit-bucket", "my.dotted.bucket"])
def test_signatures_equal_boto3s_across_styles_regions_tokens_and_keys(
    endpoint, region, token, bucket, settings, monkeypatch, frozen_clock
):
    """Signing only: nothing is sent anywhere (the endpoint is a closed loopback port or AWS's, unused)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret/+=")
    if token:
        monkeypatch.setenv("AWS_SESSION_TOKEN", token)
    else:
        monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    settings.AWS_ENDPOINT_URL, settings.AWS_REGION, settings.S3_BUCKET = endpoint, region, bucket
    aws_clients_reset()
    assert AWKWARD_KEYS
    try:
        for key in AWKWARD_KEYS:
            for download_name in (None, "imageedit-1-0.png"):
                ours, theirs = (
                    presigned_url(key=key, download_name=download_name),
                    boto3_url(key, download_name),
                )
                assert urlsplit(ours)[:3] == urlsplit(theirs)[:3], key
                assert parse_qs(urlsplit(ours).query) == parse_qs(urlsplit(theirs).query), key
    finally:
        aws_clients_reset()

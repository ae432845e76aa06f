"""Direct uploads on the local stack: the presigned POST, and the checks the app makes of what arrived."""

from __future__ import annotations

import uuid

import pytest
import requests
from django.conf import settings

from editor.errors import ServiceError
from editor.services.aws import aws_client
from editor.services.uploads import UPLOAD_TAG, upload_copy, upload_get, upload_key, uploads_sweep
from editor.users import CognitoUser
from tests.editor.photo_samples import encoded, photo_like


@pytest.fixture
def api(edge_api):
    """Every request of this module goes through the local API Gateway (tests/edge_client.py)."""
    return edge_api


def offer(api, content_type="image/jpeg", size=1000, **extra):
    return api.post("/api/v1/uploads", {"content_type": content_type, "size": size, **extra}, format="json")


def post_to_s3(offered: dict, data: bytes, content_type: str = "image/jpeg") -> requests.Response:
    return requests.post(
        offered["url"], data=offered["fields"], files={"file": ("photo", data, content_type)}, timeout=30
    )


def upload(api, data: bytes, content_type: str = "image/jpeg") -> str:
    response = offer(api, content_type=content_type, size=len(data))
    assert response.status_code == 201, response.content
    stored = post_to_s3(response.json(), data, content_type)
    assert stored.status_code in (200, 201, 204), stored.text
    return response.json()["upload_id"]


@pytest.fixture
def owner(api):
    return CognitoUser(sub=api.user["sub"], username=api.user["username"])


def test_offer_is_a_presigned_post_for_the_persons_own_key(api):
    response = offer(api, content_type="image/heic", size=3_000_000, filename="IMG_0001.HEIC")
    assert response.status_code == 201
    body = response.json()
    assert body["expires_in"] == 300 and body["max_bytes"] == settings.MAX_PHOTO_BYTES
    fields = body["fields"]
    assert fields["key"] == upload_key(user_id=api.user["sub"], upload_id=body["upload_id"])
    assert fields["Content-Type"] == "image/heic"
    assert "policy" in fields and "x-amz-signature" in fields


@pytest.mark.parametrize(
    ("content_type", "size", "status"),
    [("image/gif", 100, 415), ("image/jpeg", 60_000_000, 413), ("image/jpeg", 0, 400)],
)
def test_offers_for_what_cannot_be_edited_are_refused(api, content_type, size, status):
    response = offer(api, content_type=content_type, size=size)
    assert response.status_code == status
    assert response.json()["error"]["message"]


def test_an_upload_is_validated_in_s3_and_can_be_copied_for_several_edits(api, owner):
    data = encoded(photo_like(640, 480), "jpeg", quality=90)
    upload_id = upload(api, data)
    got = upload_get(user=owner, upload_id=upload_id)
    assert (got.info.format, got.info.width, got.info.height) == ("jpeg", 640, 480)
    assert got.data == data
    s3 = aws_client("s3")
    tags = s3.get_object_tagging(Bucket=settings.S3_BUCKET, Key=got.key)["TagSet"]
    assert {"Key": UPLOAD_TAG[0], "Value": UPLOAD_TAG[1]} in tags  # what the lifecycle rule expires
    for name in ("a", "b"):
        key = f"users/{owner.sub}/edits/{uuid.uuid4()}/input-{name}.jpeg"
        upload_copy(upload=got, key=key)
        assert s3.get_object_tagging(Bucket=settings.S3_BUCKET, Key=key)["TagSet"] == []
        assert s3.get_object(Bucket=settings.S3_BUCKET, Key=key)["Body"].read() == data
    assert upload_get(user=owner, upload_id=upload_id).data == data  # still there for the next edit


def test_unknown_and_foreign_uploads_are_not_found(api, owner, make_user):
    upload_id = upload(api, encoded(photo_like(64, 64), "png"), "image/png")
    _, other_sub = make_user("other")
    for user, wanted in (
        (CognitoUser(sub=other_sub, username="other"), upload_id),
        (owner, str(uuid.uuid4())),
    ):
        with pytest.raises(ServiceError) as refused:
            upload_get(user=user, upload_id=wanted)
        assert refused.value.status == 404
    with pytest.raises(ServiceError) as malformed:
        upload_get(user=owner, upload_id="../../etc")
    assert malformed.value.status == 404


def test_what_s3_let_through_is_checked_by_the_app(api, owner, settings):
    # moto does not enforce the policy's content-length-range or content type: the app must.
    offered = offer(api, content_type="image/jpeg", size=100).json()
    assert post_to_s3(offered, b"GIF89a" + b"\0" * 500, "image/jpeg").status_code in (200, 201, 204)
    with pytest.raises(ServiceError) as wrong_type:
        upload_get(user=owner, upload_id=offered["upload_id"])
    assert wrong_type.value.status == 415
    with pytest.raises(ServiceError) as gone:  # refused files are removed
        upload_get(user=owner, upload_id=offered["upload_id"])
    assert gone.value.status == 404

    big = encoded(photo_like(300, 200), "png")
    upload_id = upload(api, big, "image/png")
    settings.MAX_PHOTO_BYTES = len(big) - 1
    with pytest.raises(ServiceError) as too_big:
        upload_get(user=owner, upload_id=upload_id)
    assert too_big.value.status == 413

    damaged = encoded(photo_like(300, 200), "jpeg")
    upload_id = upload(api, damaged[: len(damaged) // 2])
    with pytest.raises(ServiceError) as corrupt:
        upload_get(user=owner, upload_id=upload_id)
    assert corrupt.value.code == "corrupt_image"


def test_an_expired_upload_is_gone_and_the_sweep_removes_old_ones(api, owner, settings):
    upload_id = upload(api, encoded(photo_like(64, 64), "png"), "image/png")
    kept_id = upload(api, encoded(photo_like(64, 64), "png"), "image/png")
    settings.UPLOAD_MAX_AGE_SECONDS = 0
    with pytest.raises(ServiceError) as expired:
        upload_get(user=owner, upload_id=upload_id)
    assert expired.value.status == 410
    # The sweep takes what is older than the cut-off and nothing else.
    edit_key = f"users/{owner.sub}/edits/{uuid.uuid4()}/input.png"
    aws_client("s3").put_object(Bucket=settings.S3_BUCKET, Key=edit_key, Body=b"x")
    assert uploads_sweep(max_age_seconds=3600) == 0
    assert uploads_sweep(max_age_seconds=0) >= 1
    s3 = aws_client("s3")
    listing = s3.list_objects_v2(Bucket=settings.S3_BUCKET, Prefix=f"users/{owner.sub}/")
    keys = {item["Key"] for item in listing.get("Contents", [])}
    assert edit_key in keys and upload_key(user_id=owner.sub, upload_id=kept_id) not in keys


def test_the_local_bucket_enforces_the_post_policy_as_s3_does(api, settings):
    settings.MAX_PHOTO_BYTES = 1000
    offered = offer(api, content_type="image/png", size=900).json()
    too_big = post_to_s3(offered, b"\x89PNG\r\n\x1a\n" + b"\0" * 1200, "image/png")
    assert too_big.status_code == 400 and "EntityTooLarge" in too_big.text
    wrong_type = dict(offered, fields={**offered["fields"], "Content-Type": "text/html"})
    refused = post_to_s3(wrong_type, b"\x89PNG\r\n\x1a\n", "text/html")
    assert refused.status_code == 403 and "content-type" in refused.text

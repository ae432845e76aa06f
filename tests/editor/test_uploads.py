"""Direct uploads on the local stack: the presigned POST, and the checks the app makes of what arrived."""

from __future__ import annotations

import base64
import json
import uuid

import pytest
import requests
from django.conf import settings

from editor.errors import ServiceError
from editor.services.aws import aws_client
from editor.services.uploads import (
    DECLARED_SIZE_FIELD,
    UPLOAD_TAG,
    upload_copy,
    upload_get,
    upload_key,
    uploads_sweep,
)
from editor.users import CognitoUser
from tests.editor.helpers import direct_upload, upload_offer, upload_post_to_s3
from tests.editor.photo_samples import encoded, photo_like


@pytest.fixture
def api(edge_api):
    """Every request of this module goes through the local API Gateway (tests/edge_client.py)."""
    return edge_api


@pytest.fixture
def owner(api):
    return CognitoUser(sub=api.user["sub"], username=api.user["username"])


def test_offer_is_a_presigned_post_for_the_persons_own_key(api):
    response = upload_offer(api, content_type="image/heic", size=3_000_000, filename="IMG_0001.HEIC")
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
    response = upload_offer(api, content_type=content_type, size=size)
    assert response.status_code == status
    assert response.json()["error"]["message"]


def test_an_upload_is_validated_in_s3_and_can_be_copied_for_several_edits(api, owner):
    data = encoded(photo_like(640, 480), "jpeg", quality=90)
    upload_id = direct_upload(api, data)
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
    upload_id = direct_upload(api, encoded(photo_like(64, 64), "png"), "image/png")
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
    # The policy binds the content type's header only: the app checks the content.
    gif = b"GIF89a" + b"\0" * 500
    offered = upload_offer(api, content_type="image/jpeg", size=len(gif)).json()
    assert upload_post_to_s3(offered, gif, "image/jpeg").status_code in (200, 201, 204)
    with pytest.raises(ServiceError) as wrong_type:
        upload_get(user=owner, upload_id=offered["upload_id"])
    assert wrong_type.value.status == 415
    with pytest.raises(ServiceError) as gone:  # refused files are removed
        upload_get(user=owner, upload_id=offered["upload_id"])
    assert gone.value.status == 404

    big = encoded(photo_like(300, 200), "png")
    upload_id = direct_upload(api, big, "image/png")
    settings.MAX_PHOTO_BYTES = len(big) - 1
    with pytest.raises(ServiceError) as too_big:
        upload_get(user=owner, upload_id=upload_id)
    assert too_big.value.status == 413

    damaged = encoded(photo_like(300, 200), "jpeg")
    upload_id = direct_upload(api, damaged[: len(damaged) // 2])
    with pytest.raises(ServiceError) as corrupt:
        upload_get(user=owner, upload_id=upload_id)
    assert corrupt.value.code == "corrupt_image"


def test_an_expired_upload_is_gone_and_the_sweep_removes_old_ones(api, owner, settings):
    upload_id = direct_upload(api, encoded(photo_like(64, 64), "png"), "image/png")
    kept_id = direct_upload(api, encoded(photo_like(64, 64), "png"), "image/png")
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
    offered = upload_offer(api, content_type="image/png", size=900).json()
    too_big = upload_post_to_s3(offered, b"\x89PNG\r\n\x1a\n" + b"\0" * 1200, "image/png")
    assert too_big.status_code == 400 and "EntityTooLarge" in too_big.text
    wrong_type = dict(offered, fields={**offered["fields"], "Content-Type": "text/html"})
    refused = upload_post_to_s3(wrong_type, b"\x89PNG\r\n\x1a\n", "text/html")
    assert refused.status_code == 403 and "content-type" in refused.text


# --- issue 19, finding 8: the declared size binds the POST; fields the policy does not list are refused --


def test_the_offer_binds_the_post_to_the_declared_size(api):
    offered = upload_offer(api, content_type="image/png", size=100).json()
    policy = json.loads(base64.b64decode(offered["fields"]["policy"]))
    assert ["content-length-range", 100, 100] in policy["conditions"]
    assert offered["size"] == 100 and offered["fields"][DECLARED_SIZE_FIELD] == "100"


@pytest.mark.parametrize(
    ("posted", "status", "code"), [(5_000_000, 400, "EntityTooLarge"), (99, 400, "EntityTooSmall")]
)
def test_a_file_of_another_size_than_declared_is_refused_by_the_bucket(gateway, api, posted, status, code):
    # As a REST client arrives: the offer through the gateway, the file straight to the bucket.
    token = api._credentials["HTTP_AUTHORIZATION"]
    response = requests.post(
        f"{gateway.url}/api/v1/uploads",
        json={"content_type": "image/png", "size": 100},
        headers={"Authorization": token},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    offered = response.json()
    refused = upload_post_to_s3(offered, b"\x89PNG\r\n\x1a\n" + b"\0" * (posted - 8), "image/png")
    assert refused.status_code == status and f"<Code>{code}</Code>" in refused.text
    assert not stored(offered)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("acl", "public-read"),
        ("success_action_redirect", "https://example.com/"),
        ("x-amz-meta-declared-size", "1"),
    ],
)
def test_fields_the_policy_does_not_list_are_refused_as_s3_does(api, field, value):
    data = encoded(photo_like(64, 64), "png")
    offered = upload_offer(api, content_type="image/png", size=len(data)).json()
    fields = {**offered["fields"], field: value}
    if field == DECLARED_SIZE_FIELD:
        # Listed by the policy, so not extra: a changed value fails its condition instead.
        refused = upload_post_to_s3(dict(offered, fields=fields), data, "image/png")
        assert refused.status_code == 403 and "Policy Condition failed" in refused.text
        return
    refused = requests.post(
        offered["url"],
        data=fields,
        files={"file": ("photo", data, "image/png")},
        allow_redirects=False,
        timeout=30,
    )
    assert refused.status_code == 403, refused.text
    assert "<Code>AccessDenied</Code>" in refused.text
    assert f"Invalid according to Policy: Extra input fields: {field}" in refused.text
    assert "Location" not in refused.headers and not stored(offered)


def test_x_ignore_fields_are_allowed_as_s3_allows_them(api, owner):
    data = encoded(photo_like(64, 64), "png")
    offered = upload_offer(api, content_type="image/png", size=len(data)).json()
    fields = {**offered["fields"], "x-ignore-note": "anything"}
    assert upload_post_to_s3(dict(offered, fields=fields), data, "image/png").status_code == 204
    assert upload_get(user=owner, upload_id=offered["upload_id"]).data == data


@pytest.mark.parametrize("declared", ["100", None])
def test_an_object_not_of_its_declared_size_is_refused_and_removed(api, owner, declared):
    # What S3 would never store through the POST, put there by other means: the app does not trust it.
    data = encoded(photo_like(64, 64), "png")
    offered = upload_offer(api, content_type="image/png", size=100).json()
    aws_client("s3").put_object(
        Bucket=settings.S3_BUCKET,
        Key=offered["fields"]["key"],
        Body=data,
        ContentType="image/png",
        Metadata={"declared-size": declared} if declared else {},
    )
    response = api.post(
        "/api/v1/edits", {"task": "remove_background", "upload_id": offered["upload_id"]}, format="json"
    )
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["code"] == "upload_size_mismatch"
    assert f"{len(data):,} bytes" in error["message"] and ("100 bytes" in error["message"]) == bool(declared)
    assert not stored(offered)
    assert api.get("/api/v1/edits").json()["results"] == []


def stored(offered: dict) -> bool:
    listing = aws_client("s3").list_objects_v2(Bucket=settings.S3_BUCKET, Prefix=offered["fields"]["key"])
    return bool(listing.get("Contents"))

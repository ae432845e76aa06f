"""Helpers the edit tests share: sample images, requests against the API and the pages, quota reads."""

from __future__ import annotations

import datetime as dt
import io
import json
import urllib.request

import numpy as np
import requests
from django.conf import settings
from django.test import Client
from PIL import Image

from editor.services.aws import aws_client
from tests.conftest import PASSWORD

SQUARE = (40, 30, 72, 62)  # left, top, right, bottom of the red square the mask covers


def photo_png(width: int = 128, height: int = 96) -> bytes:
    """A smooth gradient with a red square: inpainting the square must pull it toward the gradient."""
    x = np.linspace(0, 255, width, dtype=np.float32)
    y = np.linspace(0, 255, height, dtype=np.float32)
    rgb = (
        np.stack(
            [np.add.outer(y * 0.3, x * 0.5), np.add.outer(y * 0.6, x * 0.2), np.add.outer(y * 0.2, x * 0.6)],
            axis=-1,
        )
        .clip(0, 255)
        .astype(np.uint8)
    )
    left, top, right, bottom = SQUARE
    rgb[top:bottom, left:right] = (230, 20, 20)
    return png(Image.fromarray(rgb))


def mask_png(width: int = 128, height: int = 96, box=SQUARE) -> bytes:
    mask = Image.new("L", (width, height), 0)
    mask.paste(255, box)
    return png(mask)


def png(image: Image.Image, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", **options)
    return out.getvalue()


def upload(name: str, data: bytes) -> io.BytesIO:
    handle = io.BytesIO(data)
    handle.name = name
    return handle


def post_edit(api, task: str = "inpaint", image: bytes | None = None, mask: bytes | None = None, **fields):
    headers = fields.pop("headers", {})
    payload = {"task": task, **fields}
    if image is not None:
        payload["image"] = upload("photo.png", image)
    if mask is not None:
        payload["mask"] = upload("mask.png", mask)
    return api.post("/api/v1/edits", payload, format="multipart", **headers)


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (presigned URL of the local stack)
        return response.read()


def inject_fault(local_stack, **fault) -> None:
    request = urllib.request.Request(
        f"{local_stack.bedrock_url}/_engine/faults",
        method="POST",
        data=json.dumps(fault).encode(),
        headers={"Content-Type": "application/json"},
    )
    urllib.request.urlopen(request, timeout=5).close()  # noqa: S310


def assert_json_error(response, status: int) -> dict:
    """The app's one error shape, as JSON, with a sentence for a person."""
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    error = response.json()["error"]
    assert error["code"] and error["message"]
    return error


def history(api) -> list[dict]:
    return api.get("/api/v1/edits?limit=100").json()["results"]


def quota_used(sub: str) -> int:
    today = dt.datetime.now(dt.UTC).date().isoformat()
    item = aws_client("dynamodb").get_item(
        TableName=settings.DYNAMODB_TABLE, Key={"id": {"S": f"quota#{sub}#{today}"}}, ConsistentRead=True
    )
    return int(item.get("Item", {}).get("used", {}).get("N", "0"))


def page_sign_in(username: str, *, enforce_csrf: bool = False, next_url: str | None = None) -> Client:
    """A browser-like client signed in through the sign-in form."""
    client = Client(enforce_csrf_checks=enforce_csrf)
    form = {"username": username, "password": PASSWORD}
    if next_url is not None:
        form["next"] = next_url
    if enforce_csrf:
        assert client.get("/signin").status_code == 200
        form["csrfmiddlewaretoken"] = client.cookies["csrftoken"].value
    response = client.post("/signin", form)
    assert response.status_code == 302, response.content
    client.sign_in_response = response
    return client


def upload_offer(api, content_type="image/jpeg", size=1000, **extra):
    return api.post("/api/v1/uploads", {"content_type": content_type, "size": size, **extra}, format="json")


def upload_post_to_s3(offered: dict, data: bytes, content_type: str = "image/jpeg") -> requests.Response:
    return requests.post(
        offered["url"], data=offered["fields"], files={"file": ("photo", data, content_type)}, timeout=30
    )


def direct_upload(api, data: bytes, content_type: str = "image/jpeg") -> str:
    response = upload_offer(api, content_type=content_type, size=len(data))
    assert response.status_code == 201, response.content
    stored = upload_post_to_s3(response.json(), data, content_type)
    assert stored.status_code in (200, 201, 204), stored.text
    return response.json()["upload_id"]


def small_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (40, 120, 200)).save(buffer, "PNG")
    return buffer.getvalue()


class DynamoCalls:
    """Observe which DynamoDB operations run (botocore's client call, wrapped; nothing answered for it)."""

    def __init__(self, monkeypatch):
        import botocore.client

        self.seen: list[tuple[str, dict]] = []
        original = botocore.client.BaseClient._make_api_call

        def observed(client, operation, params):
            if client.meta.service_model.service_name == "dynamodb":
                self.seen.append((operation, params))
            return original(client, operation, params)

        monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", observed)

    def names(self) -> list[str]:
        return [operation for operation, _ in self.seen]

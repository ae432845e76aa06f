"""The views' OpenAPI hints, recorded by editor/openapi.py, still reach /api/schema/ in full."""

from __future__ import annotations

import json

from django.test import Client


def _schema() -> dict:
    response = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return json.loads(response.content)


def test_the_schema_carries_every_kind_of_hint():
    from editor import openapi

    schema = _schema()
    assert openapi._pending == []  # every recorded hint was handed to drf-spectacular
    paths = schema["paths"]
    create = paths["/api/v1/edits"]["post"]
    # parameters=[OpenApiParameter(..., HEADER)], a multipart and a JSON request, three responses
    assert [(p["name"], p["in"]) for p in create["parameters"]] == [
        ("Idempotency-Key", "header"),
        ("dry_run", "query"),
    ]
    assert {"multipart/form-data", "application/json"} <= set(create["requestBody"]["content"])
    assert {"200", "201", "202"} <= set(create["responses"])
    # operation_id=, and a serializer as the query parameters
    assert paths["/api/v1/edits"]["get"]["operationId"] == "edits_list"
    assert {p["name"] for p in paths["/api/v1/edits"]["get"]["parameters"]} == {"limit", "cursor"}
    assert "204" in paths["/api/v1/edits/{edit_id}"]["delete"]["responses"]
    # auth=[]: public operations carry no security requirement; the others need the token
    assert "security" not in paths["/api/v1/auth/signup"]["post"]
    assert paths["/api/v1/me"]["get"]["security"] == [{"cognitoAccessToken": []}]
    # inline_serializer(...) becomes a named component; OpenApiParameter with a description, in a query
    assert "PasswordPolicy" in schema["components"]["schemas"]
    signout = paths["/api/v1/auth/signout"]["post"]["parameters"]
    assert [(p["name"], p["in"]) for p in signout] == [("everywhere", "query")]
    # a second build reads the same hints (they are applied once, then kept on the views)
    assert _schema() == schema

"""Logs are one JSON object a line with the request's context and no secrets; EMF metrics are valid."""

from __future__ import annotations

import base64
import io
import json
import logging
import sys

import pytest
from rest_framework.test import APIClient

from editor.log import JsonFormatter, log_context_bind, log_context_clear
from editor.metrics import emf_document
from tests.conftest import PASSWORD
from tests.editor.helpers import mask_png, photo_png, post_edit

EMF_UNITS = {
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Count",
    "Percent",
    "None",
    "Count/Second",
}


@pytest.fixture
def log_output():
    """The app's log lines, through the app's JsonFormatter (pytest owns stderr, so read a buffer instead)."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield buffer
    root.removeHandler(handler)


def json_lines(text: str) -> list[dict]:
    lines = [line for line in text.splitlines() if line.strip()]
    return [json.loads(line) for line in lines if line.startswith("{")]


def test_an_edit_logs_json_lines_with_context_and_no_secrets(user, sign_in, capfd, log_output):
    tokens = sign_in(user["username"])
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")
    edit = post_edit(api, image=photo_png(), mask=mask_png(), prompt="grass").json()
    APIClient().post(
        "/api/v1/auth/token", {"username": user["username"], "password": PASSWORD}, format="json"
    )
    output = capfd.readouterr()
    logged = log_output.getvalue()
    everything = output.out + output.err + logged

    lines = json_lines(logged)
    assert lines, "no JSON log lines"
    for raw in logged.splitlines():
        if raw.startswith("{"):
            json.loads(raw)  # every structured line parses on its own
    accepted = next(line for line in lines if line.get("message") == "edit accepted")
    assert accepted["edit_id"] == edit["id"] and accepted["user_sub"] == user["sub"]
    assert accepted["request_id"] and accepted["model_id"] and accepted["status"] == "PENDING"
    finished = next(line for line in lines if line.get("message") == "edit finished")
    assert finished["edit_id"] == edit["id"] and finished["status"] == "SUCCEEDED"
    assert finished["latency_ms"] >= 0 and finished["request_id"] == accepted["request_id"]
    request = next(
        line for line in lines if line.get("message") == "request" and line["path"] == "/api/v1/edits"
    )
    assert request["status"] == 201 and request["user_sub"] == user["sub"]

    for secret in (PASSWORD, tokens["access_token"], tokens["refresh_token"], tokens["id_token"]):
        assert secret not in everything
    image_b64 = base64.b64encode(photo_png()).decode()
    assert image_b64[:200] not in everything


def test_authorization_failures_are_logged_with_the_reason(log_output):
    APIClient().get("/api/v1/me", HTTP_AUTHORIZATION="Bearer not.a.jwt")
    lines = json_lines(log_output.getvalue())
    refused = next(line for line in lines if line.get("message") == "authentication refused")
    assert "well-formed" in refused["reason"]
    assert "not.a.jwt" not in json.dumps(lines)


def test_error_lines_carry_the_stack_trace_and_redact_secret_fields():
    formatter = JsonFormatter()
    log_context_bind(request_id="req-1", edit_id="edit-1")
    try:
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            record = logging.getLogger("t").makeRecord(
                "t",
                logging.ERROR,
                __file__,
                1,
                "job crashed",
                (),
                None,
                extra={"password": "hunter2", "access_token": "eyJ"},
            )
            record.exc_info = sys.exc_info()
        line = json.loads(formatter.format(record))
    finally:
        log_context_clear()
    assert line["level"] == "ERROR" and line["request_id"] == "req-1" and line["edit_id"] == "edit-1"
    assert "Traceback" in line["exception"] and "RuntimeError: boom" in line["exception"]
    assert line["password"] == "[redacted]" and line["access_token"] == "[redacted]"


def assert_valid_emf(document: dict) -> None:
    """The rules of CloudWatch's Embedded Metric Format specification."""
    meta = document["_aws"]
    assert isinstance(meta["Timestamp"], int) and meta["Timestamp"] > 1_600_000_000_000
    for directive in meta["CloudWatchMetrics"]:
        assert isinstance(directive["Namespace"], str) and 1 <= len(directive["Namespace"]) <= 255
        assert directive["Dimensions"] and all(
            isinstance(dimension_set, list) and 1 <= len(dimension_set) <= 30
            for dimension_set in directive["Dimensions"]
        )
        for dimension_set in directive["Dimensions"]:
            for name in dimension_set:
                assert isinstance(document[name], str), f"dimension {name} missing from the root"
        assert 1 <= len(directive["Metrics"]) <= 100
        for metric in directive["Metrics"]:
            assert isinstance(document[metric["Name"]], int | float), f"metric {metric['Name']} has no value"
            assert metric.get("Unit", "None") in EMF_UNITS


def test_edit_metrics_are_valid_emf(api, capfd):
    post_edit(api, image=photo_png(), mask=mask_png(), prompt="grass")
    documents = [line for line in json_lines(capfd.readouterr().out) if "_aws" in line]
    assert documents, "no EMF document on stdout"
    for document in documents:
        assert_valid_emf(document)
    finished = documents[-1]
    assert finished["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "ImageEdit"
    assert finished["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["Service"], ["Service", "Task"]]
    assert (
        finished["Task"] == "inpaint" and finished["EditsSucceeded"] == 1 and finished["ImagesGenerated"] == 1
    )
    assert finished["BedrockLatency"] >= 0


def test_quota_refusal_is_counted(api, capfd, settings):
    settings.DAILY_EDIT_QUOTA = 1
    assert post_edit(api, "remove_background", image=photo_png()).status_code == 201
    response = post_edit(api, "remove_background", image=photo_png())
    assert response.status_code == 429 and response.json()["error"]["code"] == "daily_quota_exceeded"
    assert "1 edits" in response.json()["error"]["message"]
    documents = [line for line in json_lines(capfd.readouterr().out) if "_aws" in line]
    assert any(document.get("QuotaRefused") == 1 for document in documents)


def test_emf_document_shape_without_a_task():
    document = emf_document({"QuotaRefused": (1, "Count")}, {"Service": "imageedit-test"})
    assert_valid_emf(document)
    assert document["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["Service"]]

"""On/off flags (issue 19, finding 6): `?dry_run=yes` once ran a real, billed edit. Only 1/true and 0/false
(any case) are read; anything else is a 400 before any edit runs, through the gateway as clients call it."""

from __future__ import annotations

import pytest
import requests

from editor.errors import ServiceError
from editor.flags import flag_parse
from tests.editor.helpers import assert_json_error, history, mask_png, photo_png, post_edit, quota_used


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1", True), ("true", True), ("TRUE", True), (" True ", True), ("0", False), ("false", False)]
    + [("FALSE", False), (True, True), (False, False), (1, True), (0, False)],
)
def test_the_accepted_spellings(value, expected):
    assert flag_parse(name="dry_run", value=value) is expected


@pytest.mark.parametrize("value", ["yes", "on", "y", "t", "no", "off", "", "2", "-1", "truee", 2, 1.0, None])
def test_every_other_value_is_refused_with_the_spellings(value):
    with pytest.raises(ServiceError) as refused:
        flag_parse(name="dry_run", value=value)
    assert refused.value.status == 400 and refused.value.code == "invalid_flag"
    assert "dry_run must be 1 or true (on), 0 or false (off)" in refused.value.message


# --- through the local API Gateway, with a real access token ------------------------------------------


@pytest.fixture
def bearer(user, sign_in) -> dict:
    return {"Authorization": f"Bearer {sign_in(user['username'])['access_token']}"}


def gateway_edit(gateway, bearer: dict, query: str, **data) -> requests.Response:
    files = {"image": ("photo.png", photo_png(), "image/png"), "mask": ("mask.png", mask_png(), "image/png")}
    return requests.post(
        f"{gateway.url}/api/v1/edits{query}",
        data={"task": "inpaint", "prompt": "grass", **data},
        files=files,
        headers=bearer,
        timeout=60,
    )


def gateway_history(gateway, bearer: dict) -> list[dict]:
    return requests.get(f"{gateway.url}/api/v1/edits", headers=bearer, timeout=30).json()["results"]


@pytest.mark.parametrize("query", ["?dry_run=yes", "?dry_run=on", "?dry_run=True1", "?dry_run", "?dry_run="])
def test_a_misspelt_dry_run_is_a_400_and_nothing_runs(gateway, bearer, user, query):
    response = gateway_edit(gateway, bearer, query)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_flag" and "1 or true" in error["message"]
    assert gateway_history(gateway, bearer) == []
    assert quota_used(user["sub"]) == 0


def test_a_dry_run_flag_given_twice_is_refused(gateway, bearer):
    response = gateway_edit(gateway, bearer, "?dry_run=0&dry_run=1")
    assert response.status_code == 400 and "given 2 times" in response.json()["error"]["message"]
    assert gateway_history(gateway, bearer) == []


@pytest.mark.parametrize("query", ["?dry_run=TRUE", "?dry_run=1", "?dry_run=true"])
def test_a_dry_run_in_any_case_only_checks(gateway, bearer, user, query):
    response = gateway_edit(gateway, bearer, query)
    assert response.status_code == 200, response.text
    assert response.json()["dry_run"] is True
    assert gateway_history(gateway, bearer) == [] and quota_used(user["sub"]) == 0


def test_dry_run_false_runs_the_edit(gateway, bearer, user):
    response = gateway_edit(gateway, bearer, "?dry_run=False")
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "SUCCEEDED"
    assert len(gateway_history(gateway, bearer)) == 1 and quota_used(user["sub"]) == 1


# --- the body's flag, and the other flag the API takes -------------------------------------------------


@pytest.mark.usefixtures("local_stack")
class TestBodyAndOtherFlags:
    def test_a_json_body_dry_run_only_checks(self, api):
        parent = post_edit(api, "remove_background", image=photo_png()).json()
        assert parent["status"] == "SUCCEEDED", parent["error"]
        body = {"task": "remove_background", "parent_id": parent["id"], "dry_run": True}
        response = api.post("/api/v1/edits", body, format="json")
        assert response.status_code == 200, response.content
        assert response.json()["dry_run"] is True
        assert [edit["id"] for edit in history(api)] == [parent["id"]] and quota_used(api.user["sub"]) == 1

    def test_a_form_body_dry_run_is_read_strictly(self, api):
        response = post_edit(api, image=photo_png(), mask=mask_png(), prompt="grass", dry_run="yes")
        assert assert_json_error(response, 400)["fields"]["dry_run"] == [
            "Must be 1 or true (on), 0 or false (off)."
        ]
        assert history(api) == []
        answer = post_edit(api, image=photo_png(), mask=mask_png(), prompt="grass", dry_run="true").json()
        assert answer["dry_run"] is True and history(api) == []

    def test_query_and_body_that_disagree_are_refused(self, api):
        response = post_edit(
            api,
            image=photo_png(),
            mask=mask_png(),
            prompt="grass",
            dry_run="false",
            headers={"QUERY_STRING": "dry_run=1"},
        )
        assert "different values" in assert_json_error(response, 400)["message"]
        assert history(api) == []

    def test_sign_out_everywhere_is_read_strictly(self, api):
        response = api.post("/api/v1/auth/signout?everywhere=yes", {}, format="json")
        assert assert_json_error(response, 400)["code"] == "invalid_flag"
        assert api.get("/api/v1/me").status_code == 200  # nothing was signed out

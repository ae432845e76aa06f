"""Models that retire: the control plane's lifecycle is shown, cached, and a retired family's task is
routed to its Stability equivalent or refused with a 4xx naming the successor."""

from __future__ import annotations

import datetime as dt
import json
import urllib.request

import pytest

from editor.services.aws import aws_client
from editor.services.bedrock.lifecycle import lifecycle_cache_clear, model_lifecycle
from tests.editor.helpers import assert_json_error, history, mask_png, photo_png, post_edit

TITAN = "amazon.titan-image-generator-v2:0"
NOVA = "amazon.nova-canvas-v1:0"


def engine_call(local_stack, method: str, path: str, payload: dict | None = None) -> None:
    request = urllib.request.Request(
        f"{local_stack.bedrock_url}{path}",
        method=method,
        data=None if payload is None else json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
    )
    urllib.request.urlopen(request, timeout=5).close()  # noqa: S310 (the local engine)


@pytest.fixture
def lifecycle(local_stack, settings):
    """Change what the local control plane says; restore it (and forget the app's cache) afterwards. The
    published end-of-life dates are set aside: these tests are about the control plane's own answer."""
    settings.BEDROCK_END_OF_LIFE = {}

    def set_model(model_id: str, **fields) -> None:
        engine_call(local_stack, "POST", "/_engine/lifecycle", {"modelId": model_id, **fields})
        lifecycle_cache_clear()

    lifecycle_cache_clear()
    yield set_model
    engine_call(local_stack, "DELETE", "/_engine/lifecycle")
    lifecycle_cache_clear()


def family(api, name: str) -> dict:
    return next(m for m in api.get("/api/v1/models").json()["models"] if m["family"] == name)


def test_the_control_plane_answers_with_the_lifecycle(local_stack):
    details = aws_client("bedrock").get_foundation_model(modelIdentifier=TITAN)["modelDetails"]
    assert details["modelId"] == TITAN and details["modelLifecycle"]["status"] == "LEGACY"
    listed = aws_client("bedrock").list_foundation_models()["modelSummaries"]
    assert {"stability.stable-style-transfer-v1:0", NOVA} <= {m["modelId"] for m in listed}


def test_models_show_status_and_label_legacy(api, lifecycle):
    stability, titan = family(api, "stability"), family(api, "titan")
    assert {t["lifecycle"]["status"] for t in stability["tasks"]} == {"ACTIVE"}
    assert titan["legacy"] and {t["lifecycle"]["status"] for t in titan["tasks"]} == {"LEGACY"}
    assert not titan["retired"]


def test_a_legacy_model_with_a_date_to_come_is_labelled_and_still_runs(api, lifecycle):
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(days=90)).replace(microsecond=0)
    lifecycle(NOVA, status="LEGACY", endOfLifeTime=later.isoformat().replace("+00:00", "Z"))
    nova = family(api, "nova")
    assert nova["legacy"] and nova["end_of_life"] == later.date().isoformat()
    remove = next(t for t in nova["tasks"] if t["task"] == "remove_background")
    assert remove["available"] and remove["lifecycle"] == {
        "status": "LEGACY",
        "end_of_life": later.date().isoformat(),
    }


def test_a_retired_model_is_shown_retired_and_its_task_routed_to_stability(api, lifecycle):
    lifecycle(TITAN, status="LEGACY", endOfLifeTime="2026-06-30T00:00:00Z")
    titan = family(api, "titan")
    inpaint = next(t for t in titan["tasks"] if t["task"] == "inpaint")
    assert inpaint["lifecycle"] == {"status": "RETIRED", "end_of_life": "2026-06-30"}
    assert not inpaint["available"] and "end of life on 2026-06-30" in inpaint["note"]
    assert titan["retired"]

    edit = post_edit(api, "inpaint", image=photo_png(), mask=mask_png(), prompt="grass", model="titan").json()
    assert edit["status"] == "SUCCEEDED", edit["error"]
    assert edit["model"] == "stability" and edit["model_id"] == "stability.stable-image-inpaint-v1:0"
    assert "Titan" in edit["route_note"] and "2026-06-30" in edit["route_note"]
    assert "ran 'inpaint' instead" in edit["route_note"]


def test_a_retired_models_task_without_an_equivalent_is_a_4xx_naming_the_successor(api, lifecycle):
    lifecycle(TITAN, status="LEGACY", endOfLifeTime="2026-06-30T00:00:00Z")
    response = post_edit(api, "erase", image=photo_png(), mask=mask_png(), model="titan")
    error = assert_json_error(response, 410)
    assert error["code"] == "model_retired"
    assert "Stability AI Image Services" in error["message"] and "'stability'" in error["message"]
    assert history(api) == []


def test_a_model_the_account_cannot_see_is_unavailable_and_routed(api, lifecycle):
    lifecycle(NOVA, status="ABSENT")
    nova = family(api, "nova")
    assert {t["lifecycle"]["status"] for t in nova["tasks"]} == {"INACCESSIBLE"}
    assert not any(t["available"] for t in nova["tasks"])
    edit = post_edit(api, "remove_background", image=photo_png(), model="nova").json()
    assert edit["status"] == "SUCCEEDED" and "not available to this AWS account" in edit["route_note"]


def test_a_dry_run_says_where_it_would_be_routed(api, lifecycle):
    lifecycle(TITAN, status="LEGACY", endOfLifeTime="2026-06-30T00:00:00Z")
    answer = post_edit(
        api,
        "outpaint",
        image=photo_png(),
        left=16,
        prompt="sky",
        model="titan",
        headers={"QUERY_STRING": "dry_run=1"},
    ).json()
    assert answer["model"] == "stability" and "Titan" in answer["route_note"]


def test_the_answer_is_cached_for_hours(local_stack, lifecycle):
    assert model_lifecycle(TITAN).status == "LEGACY"
    engine_call(local_stack, "POST", "/_engine/lifecycle", {"modelId": TITAN, "status": "ABSENT"})
    assert model_lifecycle(TITAN).status == "LEGACY"  # still the cached answer
    lifecycle_cache_clear()
    assert model_lifecycle(TITAN).status == "INACCESSIBLE"


# --- published end-of-life dates (issue 19): Nova Canvas's LEGACY comes without one ----------------------


def test_today_nova_canvas_and_titan_are_past_their_published_end_of_life(api):
    """With today's date and the deployment's defaults, no clock set back or forward."""
    lifecycle_cache_clear()
    today = dt.datetime.now(dt.UTC).date()
    assert today >= dt.date(2026, 9, 30), "this test states today's facts; see BEDROCK_END_OF_LIFE"
    nova, titan = family(api, "nova"), family(api, "titan")
    assert nova["retired"] and nova["end_of_life"] == "2026-09-30"
    assert titan["retired"] and titan["end_of_life"] == "2026-06-30"
    for task in nova["tasks"]:
        assert task["lifecycle"] == {"status": "RETIRED", "end_of_life": "2026-09-30"}
        assert not task["available"]
    routed = next(t for t in nova["tasks"] if t["task"] == "inpaint")
    assert "end of life on 2026-09-30" in routed["note"]
    assert "run on Stability AI Image Services instead" in routed["note"]


def test_today_a_nova_request_runs_on_stability_with_a_note(api):
    lifecycle_cache_clear()
    edit = post_edit(api, "remove_background", image=photo_png(), model="nova").json()
    assert edit["status"] == "SUCCEEDED", edit["error"]
    assert edit["model"] == "stability"
    assert edit["model_id"] == "stability.stable-image-remove-background-v1:0"
    assert "Amazon Nova Canvas" in edit["route_note"] and "2026-09-30" in edit["route_note"]


def test_today_a_nova_task_without_an_equivalent_is_a_410_naming_the_successor(api):
    lifecycle_cache_clear()
    response = post_edit(api, "erase", image=photo_png(), mask=mask_png(), model="nova")
    error = assert_json_error(response, 410)
    assert error["code"] == "model_retired" and "2026-09-30" in error["message"]
    assert "Stability AI Image Services" in error["message"] and "'stability'" in error["message"]
    assert history(api) == []


def test_a_published_date_to_come_is_shown_and_the_model_still_runs(api, settings):
    lifecycle_cache_clear()
    tomorrow = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)).isoformat()
    settings.BEDROCK_END_OF_LIFE = {NOVA: tomorrow}
    nova = family(api, "nova")
    assert nova["legacy"] and not nova["retired"] and nova["end_of_life"] == tomorrow
    inpaint = next(t for t in nova["tasks"] if t["task"] == "inpaint")
    assert inpaint["available"] and inpaint["lifecycle"] == {"status": "LEGACY", "end_of_life": tomorrow}
    edit = post_edit(api, "remove_background", image=photo_png(320, 320), model="nova").json()
    assert edit["status"] == "SUCCEEDED" and edit["model"] == "nova" and edit["route_note"] is None
    settings.BEDROCK_END_OF_LIFE = {NOVA: dt.datetime.now(dt.UTC).date().isoformat()}
    assert family(api, "nova")["retired"]  # from the day itself


def test_the_control_planes_own_date_wins_over_the_published_one(api, lifecycle, settings):
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(days=90)).replace(microsecond=0)
    lifecycle(NOVA, status="LEGACY", endOfLifeTime=later.isoformat().replace("+00:00", "Z"))
    settings.BEDROCK_END_OF_LIFE = {NOVA: "2026-09-30"}
    nova = family(api, "nova")
    assert not nova["retired"] and nova["end_of_life"] == later.date().isoformat()


def test_a_published_date_past_makes_an_absent_model_retired_not_inaccessible(api, lifecycle, settings):
    lifecycle(NOVA, status="ABSENT")
    settings.BEDROCK_END_OF_LIFE = {NOVA: "2026-09-30"}
    response = post_edit(api, "erase", image=photo_png(), mask=mask_png(), model="nova")
    assert assert_json_error(response, 410)["code"] == "model_retired"

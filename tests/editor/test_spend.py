"""Spend people can see and cap: dry runs, GET /api/v1/usage, the daily and monthly budgets."""

from __future__ import annotations

import datetime as dt

import pytest

from editor.models import QuotaCounter
from editor.services.bedrock.pricing import estimated_cost
from tests.editor.helpers import assert_json_error, history, mask_png, photo_png, post_edit, quota_used

pytestmark = pytest.mark.usefixtures("local_stack")
REMOVE_BACKGROUND = "stability.stable-image-remove-background-v1:0"


def dry_run(api, task: str, **fields):
    return post_edit(api, task, **fields, headers={"QUERY_STRING": "dry_run=1"})


class TestDryRun:
    def test_says_what_would_run_at_what_size_and_cost_and_records_nothing(self, api):
        response = dry_run(api, "outpaint", image=photo_png(), left=32, down=16, count=3)
        assert response.status_code == 200, response.content
        answer = response.json()
        assert answer["dry_run"] and answer["valid"]
        assert answer["model_id"] == "stability.stable-outpaint-v1:0" and answer["model"] == "stability"
        assert answer["work_size"] == {"width": 128 + 32, "height": 96 + 16}
        assert answer["images"] == 3
        assert answer["estimated_cost_usd"] == pytest.approx(3 * answer["price_per_image_usd"])
        assert answer["estimated_cost_usd"] == estimated_cost("stability.stable-outpaint-v1:0", 3)
        assert history(api) == [] and quota_used(api.user["sub"]) == 0

    def test_names_the_model_the_size_picks(self, api):
        answer = dry_run(api, "upscale", image=photo_png(1200, 1000), prompt="a photo").json()
        assert answer["model_id"] == "stability.stable-conservative-upscale-v1:0"

    def test_an_invalid_request_is_the_same_4xx_as_a_real_one(self, api):
        assert (
            "mask" in assert_json_error(dry_run(api, "inpaint", image=photo_png(), prompt="x"), 400)["fields"]
        )
        refused = dry_run(api, "sketch", image=photo_png(), prompt="a castle")
        assert assert_json_error(refused, 422)["code"] == "task_unavailable"
        assert history(api) == []

    def test_a_valid_dry_run_of_a_masked_tool(self, api):
        answer = dry_run(api, "inpaint", image=photo_png(), mask=mask_png(), prompt="grass").json()
        assert answer["valid"] and answer["work_size"] == {"width": 128, "height": 96}


class TestUsage:
    def test_counts_todays_edits_images_and_spend_with_limits_and_reset(self, api, settings):
        empty = api.get("/api/v1/usage").json()
        assert empty["edits"] == 0 and empty["images"] == 0 and empty["estimated_spend_usd"] == 0
        assert post_edit(api, "remove_background", image=photo_png()).status_code == 201
        assert post_edit(api, "erase", image=photo_png(), mask=mask_png(), count=2).status_code == 201
        usage = api.get("/api/v1/usage").json()
        assert usage["edits"] == 2 and usage["images"] == 3
        expected = estimated_cost(REMOVE_BACKGROUND, 1) + estimated_cost(
            "stability.stable-image-erase-object-v1:0", 2
        )
        assert usage["estimated_spend_usd"] == pytest.approx(expected)
        assert usage["limits"] == {
            "daily_edits": settings.DAILY_EDIT_QUOTA,
            "daily_budget_usd": settings.DAILY_BUDGET_USD,
            "monthly_budget_usd": settings.MONTHLY_BUDGET_USD,
        }
        tomorrow = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)
        assert dt.datetime.fromisoformat(usage["resets_at"]) == dt.datetime.combine(
            tomorrow, dt.time(), tzinfo=dt.UTC
        )
        assert usage["month"]["estimated_spend_usd"] >= usage["estimated_spend_usd"]

    def test_an_unlimited_budget_shows_as_null(self, api, settings):
        settings.DAILY_BUDGET_USD = float("inf")
        assert api.get("/api/v1/usage").json()["limits"]["daily_budget_usd"] is None


class TestBudgets:
    def test_past_the_daily_budget_a_429_says_when_it_resets(self, api, settings):
        price = estimated_cost(REMOVE_BACKGROUND, 1)
        settings.DAILY_BUDGET_USD = 2 * price + price / 2
        for _ in range(2):
            assert post_edit(api, "remove_background", image=photo_png()).status_code == 201
        error = assert_json_error(post_edit(api, "remove_background", image=photo_png()), 429)
        assert error["code"] == "daily_budget_exceeded" and "resets at" in error["message"]
        assert quota_used(api.user["sub"]) == 2  # the refused edit was not counted
        assert len(history(api)) == 2

    def test_an_edit_dearer_than_the_whole_budget_is_refused(self, api, settings):
        settings.DAILY_BUDGET_USD = estimated_cost(REMOVE_BACKGROUND, 1) / 2
        error = assert_json_error(post_edit(api, "remove_background", image=photo_png()), 429)
        assert error["code"] == "daily_budget_exceeded"

    def test_past_the_monthly_budget_new_edits_are_refused_and_nobody_is_charged(self, api, settings):
        month = dt.datetime.now(dt.UTC).strftime("%Y-%m")
        try:
            spent = QuotaCounter.get(f"spend#{month}", consistent_read=True).spent_micro_usd / 1e6
        except QuotaCounter.DoesNotExist:
            spent = 0.0
        price = estimated_cost(REMOVE_BACKGROUND, 1)
        settings.MONTHLY_BUDGET_USD = spent + price + price / 2  # room for one more edit in the whole service
        assert post_edit(api, "remove_background", image=photo_png()).status_code == 201
        error = assert_json_error(post_edit(api, "remove_background", image=photo_png()), 429)
        assert error["code"] == "monthly_budget_exceeded" and "operator" in error["message"]
        usage = api.get("/api/v1/usage").json()
        assert usage["edits"] == 1 and usage["estimated_spend_usd"] == pytest.approx(price)

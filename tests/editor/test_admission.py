"""Admission in one transaction: the key, the quota and budgets and the PENDING item, all or nothing."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.editor.helpers import (
    DynamoCalls,
    assert_json_error,
    history,
    mask_png,
    photo_png,
    post_edit,
    quota_used,
)

pytestmark = pytest.mark.usefixtures("local_stack")


def test_an_accepted_edit_is_admitted_by_one_transaction(api, monkeypatch):
    calls = DynamoCalls(monkeypatch)
    response = post_edit(
        api, "erase", image=photo_png(), mask=mask_png(), headers={"HTTP_IDEMPOTENCY_KEY": "k1"}
    )
    assert response.status_code == 201, response.content
    writes = Counter(name for name in calls.names() if name not in ("GetItem", "Query", "BatchGetItem"))
    # Admission (key, day, month, PENDING item) in one; then the job's claim and its result.
    assert writes == Counter({"TransactWriteItems": 1, "UpdateItem": 2})
    [(_, transaction)] = [(n, p) for n, p in calls.seen if n == "TransactWriteItems"]
    assert len(transaction["TransactItems"]) == 4 and len(transaction["ClientRequestToken"]) == 36


def test_a_retry_after_the_quota_ran_out_returns_the_first_edit_and_charges_nothing(api, settings):
    headers = {"HTTP_IDEMPOTENCY_KEY": "retry-me"}
    first = post_edit(api, "remove_background", image=photo_png(), headers=headers)
    assert first.status_code == 201
    settings.DAILY_EDIT_QUOTA = 1  # used up by the first
    again = post_edit(api, "remove_background", image=photo_png(), headers=headers)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert quota_used(api.user["sub"]) == 1
    error = assert_json_error(post_edit(api, "remove_background", image=photo_png()), 429)
    assert error["code"] == "daily_quota_exceeded"


def test_a_refused_edit_leaves_no_charge_no_item_and_its_key_free(api, settings):
    settings.MONTHLY_BUDGET_USD = 0.000001  # the month refuses every edit
    headers = {"HTTP_IDEMPOTENCY_KEY": "refused-once"}
    error = assert_json_error(post_edit(api, "remove_background", image=photo_png(), headers=headers), 429)
    assert error["code"] == "monthly_budget_exceeded"
    assert quota_used(api.user["sub"]) == 0 and history(api) == []
    settings.MONTHLY_BUDGET_USD = float("inf")
    retried = post_edit(api, "remove_background", image=photo_png(), headers=headers)
    # The key was not kept by the refusal: the same request is now a new edit, charged once.
    assert retried.status_code == 201 and quota_used(api.user["sub"]) == 1


def test_spend_alone_takes_both_counters_or_neither(api, settings):
    from editor.errors import ServiceError
    from editor.services.spend import spend_take
    from editor.users import CognitoUser

    user = CognitoUser(sub=api.user["sub"], username=api.user["username"])
    spend_take(user, images=1, cost_usd=0.07)
    assert quota_used(api.user["sub"]) == 1
    settings.MONTHLY_BUDGET_USD = 0.000001
    with pytest.raises(ServiceError) as refused:
        spend_take(user, images=1, cost_usd=0.07)
    assert refused.value.code == "monthly_budget_exceeded" and quota_used(api.user["sub"]) == 1

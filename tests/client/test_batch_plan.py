"""The batch's plan and estimate without a server: masks by stem, kept subfolders, stable keys, and
the refusal of a batch that does not fit (the server's /usage and /models answers as data)."""

from __future__ import annotations

import json
import sys

import pytest

from tests.client.conftest import CLIENT_SOURCE

sys.path.insert(0, str(CLIENT_SOURCE))

from imageedit_client.batch_command import _refusal, batch_estimate  # noqa: E402
from imageedit_client.batch_plan import STATE_NAME, batch_plan  # noqa: E402
from imageedit_client.exits import CliError  # noqa: E402

MODELS = {
    "default": "stability",
    "models": [
        {
            "family": "stability",
            "tasks": [
                {"task": "erase", "usd_per_image": 0.07, "available": True},
                {
                    "task": "replace",
                    "usd_per_image": 0.07,
                    "available": False,
                    "note": "needs a generative model",
                },
            ],
        }
    ],
}


def usage(*, edits=0, spent=0.0, quota=200, budget=20.0):
    return {
        "edits": edits,
        "estimated_spend_usd": spent,
        "limits": {"daily_edits": quota, "daily_budget_usd": budget, "monthly_budget_usd": None},
        "resets_at": "2026-12-05T00:00:00+00:00",
        "month": {"estimated_spend_usd": 0},
    }


@pytest.fixture
def folder(tmp_path):
    photos, masks = tmp_path / "in", tmp_path / "masks"
    (photos / "shoes").mkdir(parents=True)
    (masks / "shoes").mkdir(parents=True)
    for path, content in [
        ("a.jpg", b"\xff\xd8\xffA"),
        ("shoes/b.png", b"\x89PNG\r\n\x1a\nB"),
        ("c.webp", b"C"),
    ]:
        (photos / path).write_bytes(content)
    (photos / ".hidden.jpg").write_bytes(b"x")
    (photos / "notes.txt").write_text("not a photo")
    (masks / "a.png").write_bytes(b"mask-a")
    (masks / "shoes" / "b.png").write_bytes(b"mask-b")
    return photos, masks


def plan_of(photos, masks, out, **changes):
    arguments = dict(
        in_dir=photos, out_dir=out, task="erase", options={}, mask=masks, mask_needed=True, recursive=True
    )
    return batch_plan(**{**arguments, **changes})


def test_masks_are_matched_by_stem_and_subfolders_kept(folder, tmp_path):
    photos, masks = folder
    plan = plan_of(photos, masks, tmp_path / "out")
    assert [item.relative.as_posix() for item in plan.pending] == ["a.jpg", "shoes/b.png"]
    assert [item.mask.name for item in plan.pending] == ["a.png", "b.png"]
    assert plan.pending[1].out_base == tmp_path / "out" / "shoes" / "b"
    assert [(photo.name, "no mask named c.png" in why) for photo, why in plan.unmatched] == [("c.webp", True)]
    assert [
        item.relative.name for item in plan_of(photos, masks, tmp_path / "out", recursive=False).pending
    ] == ["a.jpg"]


def test_keys_follow_content_and_parameters_not_names(folder, tmp_path):
    photos, masks = folder
    first = {item.relative.name: item.key for item in plan_of(photos, masks, tmp_path / "o").pending}
    assert first == {item.relative.name: item.key for item in plan_of(photos, masks, tmp_path / "o").pending}
    other = {
        item.relative.name: item.key
        for item in plan_of(photos, masks, tmp_path / "o", options={"grow_mask": 5}).pending
    }
    assert set(other.values()).isdisjoint(first.values())
    (masks / "a.png").write_bytes(b"another mask")
    assert plan_of(photos, masks, tmp_path / "o").pending[0].key != first["a.jpg"]


def test_finished_items_are_skipped_only_while_their_files_exist(folder, tmp_path):
    photos, masks = folder
    out = tmp_path / "out"
    item = plan_of(photos, masks, out).pending[0]
    out.mkdir()
    (out / "a.jpg").write_bytes(b"result")
    record = {"key": item.key, "photo": "a.jpg", "status": "SUCCEEDED", "outputs": ["a.jpg"], "attempt": 0}
    (out / STATE_NAME).write_text(json.dumps(record) + "\n{cut short by a crash")
    plan = plan_of(photos, masks, out)
    assert [i.relative.name for i, _ in plan.finished] == ["a.jpg"]
    (out / "a.jpg").unlink()
    assert [i.relative.name for i in plan_of(photos, masks, out).pending] == ["a.jpg", "b.png"]


def test_a_failed_item_gets_a_new_key_only_with_retry_failed(folder, tmp_path):
    photos, masks = folder
    out = tmp_path / "out"
    item = plan_of(photos, masks, out).pending[0]
    out.mkdir()
    record = {"key": item.key, "photo": "a.jpg", "status": "FAILED", "outputs": [], "attempt": 0}
    (out / STATE_NAME).write_text(json.dumps(record) + "\n")
    assert plan_of(photos, masks, out).pending[0].key == item.key  # the same failed edit, not charged again
    retried = plan_of(photos, masks, out, retry_failed=True).pending[0]
    assert retried.key != item.key and retried.attempt == 1


def test_the_estimate_refuses_a_batch_that_does_not_fit(folder, tmp_path):
    photos, masks = folder
    plan = plan_of(photos, masks, tmp_path / "out")  # two photos to edit, $0.07 each
    fits = batch_estimate(plan=plan, models=MODELS, usage=usage(), task="erase", options={})
    assert fits["estimated_cost_usd"] == pytest.approx(0.14) and _refusal(fits) is None
    quota = batch_estimate(plan=plan, models=MODELS, usage=usage(edits=199), task="erase", options={})
    assert "do not fit in today's quota: 1 left" in _refusal(quota)
    budget = batch_estimate(
        plan=plan, models=MODELS, usage=usage(spent=19.9), task="erase", options={"count": 2}
    )
    assert "does not fit in today's budget: $0.10 left" in _refusal(budget)
    with pytest.raises(CliError, match="not available here: needs a generative model"):
        batch_estimate(plan=plan, models=MODELS, usage=usage(), task="replace", options={})


def test_the_months_budget_left_is_known_only_from_the_deployments_spend(folder, tmp_path):
    photos, masks = folder
    plan = plan_of(photos, masks, tmp_path / "out")
    person = {**usage(), "limits": {**usage()["limits"], "monthly_budget_usd": 100.0}}
    person["month"] = {"estimated_spend_usd": 1.0}  # the person's own month, not the deployment's
    estimate = batch_estimate(plan=plan, models=MODELS, usage=person, task="erase", options={})
    assert estimate["budget_left_month_usd"] is None
    administrator = {**person, "deployment": {"estimated_spend_usd": 60.0}}
    estimate = batch_estimate(plan=plan, models=MODELS, usage=administrator, task="erase", options={})
    assert estimate["budget_left_month_usd"] == pytest.approx(40.0)


def test_photos_of_one_stem_get_results_of_their_own_and_the_mask_folder_is_not_a_photo(tmp_path):
    photos = tmp_path / "in"
    (photos / "masks").mkdir(parents=True)
    (photos / "a.jpg").write_bytes(b"\xff\xd8\xffA")
    (photos / "a.png").write_bytes(b"\x89PNG\r\n\x1a\nA")
    (photos / "b.png").write_bytes(b"\x89PNG\r\n\x1a\nB")
    for name in ("a.png", "b.png"):
        (photos / "masks" / name).write_bytes(b"mask")
    plan = plan_of(photos, photos / "masks", photos / "out")
    assert [(item.relative.as_posix(), item.out_base.name) for item in plan.pending] == [
        ("a.jpg", "a-jpg"),
        ("a.png", "a-png"),
        ("b.png", "b"),
    ]

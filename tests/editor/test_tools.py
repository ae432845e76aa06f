"""Every tool /api/v1/models lists, on the local stack: it runs, or is refused up front with a 4xx."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from editor.models import FAILED, SUCCEEDED
from tests.editor.helpers import (
    assert_json_error,
    fetch,
    history,
    mask_png,
    photo_png,
    png,
    post_edit,
    quota_used,
)

pytestmark = pytest.mark.usefixtures("local_stack")


def style_png() -> bytes:
    """Warm stripes: a style with colours far from the test photo's."""
    image = Image.new("RGB", (96, 96), (220, 120, 30))
    for row in range(0, 96, 4):
        image.paste((180, 40, 20), (0, row, 96, row + 2))
    return png(image)


def fields_for(rule: dict) -> dict:
    """What a person fills in for this tool in the editor: exactly the fields its rule names."""
    fields: dict = {"task": rule["task"]}
    if rule["prompt"] in ("required", "optional"):
        fields["prompt"] = "a red lighthouse"
    if rule["search_prompt"]:
        fields["search_prompt"] = "the square"
    if rule["select_prompt"]:
        fields["select_prompt"] = "the square"
    if "margins" in rule["fields"]:
        fields["left"] = 16
    return fields


def post_tool(api, rule: dict, **extra):
    fields = {**fields_for(rule), **extra}
    if not rule["image"]:
        return api.post("/api/v1/edits", fields, format="json")
    files = {"image": photo_png()}
    if rule["mask"]:
        files["mask"] = mask_png()
    if rule["second_image"]:
        files["style_image"] = style_png()
    task = fields.pop("task")
    if "style_image" in files:
        fields["style_image"] = upload_named("style.png", files.pop("style_image"))
    return post_edit(api, task, **files, **fields)


def upload_named(name: str, data: bytes) -> io.BytesIO:
    handle = io.BytesIO(data)
    handle.name = name
    return handle


def test_every_listed_task_succeeds_or_is_refused_up_front(api):
    models = api.get("/api/v1/models").json()
    available = {t["task"]: t for m in models["models"] if m["family"] == "stability" for t in m["tasks"]}
    outcomes = {}
    for rule in models["tasks"]:
        used_before = quota_used(api.user["sub"])
        response = post_tool(api, rule)
        if available[rule["task"]]["available"]:
            edit = response.json()
            assert response.status_code == 201, (rule["task"], response.content[:300])
            assert edit["status"] == SUCCEEDED, (rule["task"], edit["error"])
            outcomes[rule["task"]] = "ran"
        else:
            error = assert_json_error(response, 422)
            assert error["code"] == "task_unavailable" and "Amazon Bedrock" in error["message"], error
            assert quota_used(api.user["sub"]) == used_before  # refused before anything was counted
            outcomes[rule["task"]] = "refused"
    assert not [edit for edit in history(api) if edit["status"] == FAILED]
    # What the local engine honestly does, and what it refuses.
    assert outcomes["style_transfer"] == outcomes["upscale_fast"] == "ran"
    for task in ("recolor", "sketch", "structure", "style_guide", "upscale_creative"):
        assert outcomes[task] == "refused", task


def test_style_transfer_takes_a_second_image_and_labels_the_method(api):
    rule = next(t for t in api.get("/api/v1/models").json()["tasks"] if t["task"] == "style_transfer")
    edit = post_tool(api, rule, style_strength=0.8).json()
    assert edit["status"] == SUCCEEDED, edit["error"]
    assert "Reinhard" in edit["engine_note"]
    result = Image.open(io.BytesIO(fetch(edit["outputs"][0]["url"]))).convert("RGB")
    red, _, blue = (sum(channel) / len(channel) for channel in zip(*result.get_flattened_data(), strict=True))
    assert red > blue  # the warm style's colours, on the cool photo


def test_style_transfer_without_its_second_image_is_a_400(api):
    response = post_edit(api, "style_transfer", image=photo_png())
    assert "style_image" in assert_json_error(response, 400)["fields"]


def test_a_strength_the_tool_does_not_take_is_a_400(api):
    response = post_edit(api, "upscale_fast", image=photo_png(), control_strength=0.5)
    assert assert_json_error(response, 400)


def test_several_candidates_are_several_calls_each_with_its_seed(api):
    edit = post_edit(
        api, "inpaint", image=photo_png(), mask=mask_png(), prompt="grass", count=3, seed=11
    ).json()
    assert edit["status"] == SUCCEEDED, edit["error"]
    assert sorted(output["seed"] for output in edit["outputs"]) == [11, 12, 13]  # one call per seed
    assert edit["estimated_cost_usd"] == pytest.approx(3 * 0.07)


def test_a_tool_that_gives_the_same_image_every_time_is_asked_for_one(api):
    response = post_edit(api, "upscale_fast", image=photo_png(), count=2)
    assert "same image every time" in assert_json_error(response, 400)["message"]


# --- issue 19: conservative upscale is a tool of its own, so every Stability tool is listed -----------

# The thirteen Stability AI Image Services on Bedrock (AWS's page "Stability AI Image Services").
STABILITY_TOOLS = {
    "stability.stable-image-inpaint-v1:0",
    "stability.stable-image-erase-object-v1:0",
    "stability.stable-image-search-replace-v1:0",
    "stability.stable-image-search-recolor-v1:0",
    "stability.stable-outpaint-v1:0",
    "stability.stable-image-remove-background-v1:0",
    "stability.stable-fast-upscale-v1:0",
    "stability.stable-conservative-upscale-v1:0",
    "stability.stable-creative-upscale-v1:0",
    "stability.stable-image-control-sketch-v1:0",
    "stability.stable-image-control-structure-v1:0",
    "stability.stable-image-style-guide-v1:0",
    "stability.stable-style-transfer-v1:0",
}


def test_models_list_all_thirteen_stability_tools_each_as_a_task(api):
    answer = api.get("/api/v1/models").json()
    stability = next(m for m in answer["models"] if m["family"] == "stability")
    by_model: dict[str, list[str]] = {}
    for task in stability["tasks"]:
        by_model.setdefault(task["model_id"], []).append(task["task"])
    assert set(by_model) >= STABILITY_TOOLS
    # Each tool has a task of its own (the automatic "upscale" shares fast upscale's model id).
    assert by_model["stability.stable-conservative-upscale-v1:0"] == ["upscale_conservative"]
    rule = next(t for t in answer["tasks"] if t["task"] == "upscale_conservative")
    assert rule["prompt"] == "required" and rule["fields"] == ["prompt", "negative_prompt", "creativity"]
    conservative = next(t for t in stability["tasks"] if t["task"] == "upscale_conservative")
    assert conservative["available"] and conservative["usd_per_image"] == pytest.approx(0.40)


def test_conservative_upscale_runs_locally_labelled_as_a_plain_upscale(api):
    edit = post_edit(
        api, "upscale_conservative", image=photo_png(128, 96), prompt="a gradient", creativity=0.35, seed=5
    ).json()
    assert edit["status"] == SUCCEEDED, edit["error"]
    assert edit["model_id"] == "stability.stable-conservative-upscale-v1:0"
    assert "Lanczos" in edit["engine_note"]  # the local engine says what it did instead
    output = edit["outputs"][0]
    assert output["width"] > 128 and output["width"] / output["height"] == pytest.approx(128 / 96, rel=0.02)
    assert edit["parameters"]["creativity"] == 0.35


@pytest.mark.parametrize(
    ("fields", "needle"),
    [({"creativity": 0.1}, "between 0.2 and 0.5"), ({}, "needs a prompt")],
)
def test_conservative_upscale_refuses_what_the_model_would(api, fields, needle):
    response = post_edit(
        api,
        "upscale_conservative",
        image=photo_png(),
        **fields,
        **({"prompt": "a gradient"} if "creativity" in fields else {}),
    )
    assert needle in assert_json_error(response, 400)["message"]
    assert history(api) == []

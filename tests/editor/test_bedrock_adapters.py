"""Each adapter's bodies match the documented formats; responses and every Bedrock error are read right."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import pytest
from botocore.stub import Stubber
from PIL import Image

from editor.errors import ServiceError
from editor.services.aws import aws_client
from editor.services.bedrock.catalog import ADAPTERS, adapter_get
from editor.services.bedrock.runtime import BEDROCK_ERRORS, bedrock_invoke
from editor.services.bedrock.tasks import STRENGTH_FIELDS, TASK_RULES, EditSpec
from editor.services.imaging.images import SourceImage

CONTRACTS = json.loads((Path(__file__).parent / "fixtures" / "bedrock_contracts.json").read_text())
TYPES = {"str": str, "int": int, "float": (int, float), "bool": bool}


def png_source(width: int, height: int, mode: str = "RGB", fill=(90, 120, 200)) -> SourceImage:
    out = io.BytesIO()
    Image.new(mode, (width, height), fill).save(out, "PNG")
    return SourceImage(data=out.getvalue(), format="png", width=width, height=height)


def mask_source(width: int, height: int) -> SourceImage:
    """The app's convention: white (255) = change, over the left half; black = keep."""
    mask = Image.new("L", (width, height), 0)
    mask.paste(255, (0, 0, width // 2, height))
    out = io.BytesIO()
    mask.save(out, "PNG")
    return SourceImage(data=out.getvalue(), format="png", width=width, height=height)


def spec_for(family: str, task: str) -> EditSpec:
    size = (320, 320) if family in ("nova", "titan") else (128, 96)
    image = png_source(*size)
    fields = {"task": task, "seed": 7, "count": 1, "negative_prompt": "blurry"}
    if task != "generate":
        fields["image"] = image
    if task in ("inpaint", "erase"):
        fields["mask"] = mask_source(*size)
    if TASK_RULES[task].prompt in ("required", "optional"):
        fields["prompt"] = "a red barn"
    if task == "replace":
        fields["search_prompt"] = "the car"
    if task == "recolor":
        fields["select_prompt"] = "the car"
    if task == "outpaint":
        fields.update(left=32, down=16)
    # Every optional number a tool documents, so the body must carry each under its documented name.
    tool_numbers = {
        "upscale_conservative": {"creativity": 0.35},
        "upscale_creative": {"creativity": 0.3},
        "sketch": {"control_strength": 0.6},
        "structure": {"control_strength": 0.6},
        "style_guide": {"fidelity": 0.5, "aspect_ratio": "3:2"},
        "style_transfer": {"style_strength": 0.8, "composition_fidelity": 0.9, "change_strength": 0.5},
    }
    fields.update(tool_numbers.get(task, {}))
    if task == "style_transfer":
        fields["style_image"] = png_source(96, 96, fill=(200, 60, 30))
    # A negative prompt wherever the model documents one, so the body must carry it in the right field.
    stability_negative = tuple(name for name, rule in TASK_RULES.items() if rule.negative_prompt)
    takes_negative = (
        stability_negative if family == "stability" else ("inpaint", "replace", "generate", "outpaint")
    )
    if task not in takes_negative:
        fields.pop("negative_prompt")
    return EditSpec(**fields)


def assert_fields(values: dict, required: dict, optional: dict, where: str) -> None:
    allowed = {**required, **optional}
    assert set(required) <= set(values), f"{where}: missing {set(required) - set(values)}"
    assert set(values) <= set(allowed), f"{where}: undocumented {set(values) - set(allowed)}"
    for name, value in values.items():
        kind = allowed[name]
        if kind == "base64":
            assert base64.b64decode(value, validate=True), f"{where}.{name} is not base64"
        else:
            assert isinstance(value, TYPES[kind]), f"{where}.{name} should be {kind}"


def decoded_mask(b64: str) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(b64))).convert("L")


@pytest.mark.parametrize("contract_name", [name for name in CONTRACTS if not name.startswith("_")])
def test_body_matches_the_documented_format(contract_name):
    family, task = contract_name.split(".")
    contract = CONTRACTS[contract_name]
    adapter = adapter_get(family)
    spec = spec_for(family, task)
    adapter.check(spec)
    body = adapter.body(spec)
    assert adapter.model_id(task, spec) == contract["model_id"]
    if family == "stability":
        assert "taskType" not in body
        assert_fields(body, contract["required"], contract["optional"], contract_name)
        for name in ("creativity", *STRENGTH_FIELDS, "select_prompt", "search_prompt"):
            if getattr(spec, name, None) and name in contract["optional"] | contract["required"]:
                assert body[name] == getattr(spec, name), (contract_name, name)
        return
    assert body["taskType"] == contract["taskType"]
    assert set(body) <= {"taskType", contract["params_key"], "imageGenerationConfig"}
    assert_fields(body[contract["params_key"]], contract["required"], contract["optional"], contract_name)
    if "config" in contract:
        assert_fields(body["imageGenerationConfig"], {}, contract["config"], f"{contract_name}.config")
    else:
        assert "imageGenerationConfig" not in body


@pytest.mark.parametrize("family", ["nova", "titan"])
def test_inpaint_mask_is_pure_black_where_painted_for_nova_and_titan(family):
    body = adapter_get(family).body(spec_for(family, "inpaint"))
    mask = decoded_mask(body["inPaintingParams"]["maskImage"])
    assert {colour for _, colour in mask.getcolors()} == {0, 255}  # Nova takes only pure black and white
    assert mask.getpixel((10, 10)) == 0 and mask.getpixel((300, 10)) == 255


def test_stability_mask_keeps_white_as_change():
    body = adapter_get("stability").body(spec_for("stability", "inpaint"))
    mask = decoded_mask(body["mask"])
    assert mask.getpixel((5, 5)) == 255 and mask.getpixel((120, 5)) == 0


def test_nova_outpaint_pads_the_canvas_and_marks_the_margin_white():
    body = adapter_get("nova").body(spec_for("nova", "outpaint"))
    params = body["outPaintingParams"]
    canvas = Image.open(io.BytesIO(base64.b64decode(params["image"])))
    mask = decoded_mask(params["maskImage"])
    assert canvas.size == mask.size == (352, 336)
    assert mask.getpixel((5, 5)) == 255 and mask.getpixel((100, 100)) == 0


def test_nova_never_sends_width_or_height_for_inpainting():
    config = adapter_get("nova").body(spec_for("nova", "inpaint"))["imageGenerationConfig"]
    assert "width" not in config and "height" not in config


def test_webp_is_reencoded_for_models_that_do_not_take_it():
    out = io.BytesIO()
    Image.new("RGB", (320, 320), "red").save(out, "WEBP")
    webp = SourceImage(data=out.getvalue(), format="webp", width=320, height=320)
    body = adapter_get("nova").body(EditSpec(task="remove_background", image=webp))
    assert base64.b64decode(body["backgroundRemovalParams"]["image"]).startswith(b"\x89PNG")
    stability = adapter_get("stability").body(EditSpec(task="remove_background", image=webp))
    assert base64.b64decode(stability["image"]) == webp.data  # taken as is: no needless re-encode


@pytest.mark.parametrize(
    ("family", "spec", "fragment"),
    [
        (
            "titan",
            EditSpec(
                task="inpaint", image=png_source(320, 320), mask=mask_source(320, 320), prompt="x" * 513
            ),
            "512",
        ),
        ("nova", EditSpec(task="generate", prompt="x" * 1025), "1,024"),
        (
            "stability",
            EditSpec(
                task="inpaint", image=png_source(128, 96), mask=mask_source(128, 96), prompt="x" * 10_001
            ),
            "10,000",
        ),
        ("nova", EditSpec(task="remove_background", image=png_source(330, 320)), "divisible by 16"),
        ("nova", EditSpec(task="remove_background", image=png_source(256, 256)), "320"),
        ("titan", EditSpec(task="remove_background", image=png_source(1500, 600)), "1,408"),
        ("stability", EditSpec(task="erase", image=png_source(60, 100), mask=mask_source(60, 100)), "64"),
        (
            "stability",
            EditSpec(task="erase", image=png_source(300, 100), mask=mask_source(300, 100)),
            "aspect",
        ),
        (
            "stability",
            EditSpec(task="inpaint", image=png_source(128, 96), mask=mask_source(128, 96)),
            "prompt",
        ),
        ("stability", EditSpec(task="outpaint", image=png_source(128, 96)), "margin"),
        ("stability", EditSpec(task="generate", prompt="x", count=6), "at most 5"),
        ("stability", EditSpec(task="style_transfer", image=png_source(128, 96)), "second image"),
        ("stability", EditSpec(task="recolor", image=png_source(128, 96), prompt="red"), "select prompt"),
        (
            "stability",
            EditSpec(task="upscale_creative", image=png_source(1100, 1000), prompt="a photo"),
            "1,048,576 pixels",
        ),
        ("stability", EditSpec(task="upscale_fast", image=png_source(1600, 800)), "1,536 pixels"),
        (
            "stability",
            EditSpec(
                task="style_transfer",
                image=png_source(128, 96),
                style_image=png_source(96, 96),
                change_strength=0.05,
            ),
            "between 0.1 and 1",
        ),
        (
            "stability",
            EditSpec(task="upscale_creative", image=png_source(128, 96), prompt="x", creativity=0.8),
            "between 0.1 and 0.5",
        ),
        ("nova", EditSpec(task="sketch", image=png_source(320, 320), prompt="x"), "cannot do 'sketch'"),
        ("nova", EditSpec(task="generate", prompt="x", seed=900_000_000), "seed"),
        ("titan", EditSpec(task="upscale", image=png_source(320, 320)), "cannot do 'upscale'"),
        (
            "stability",
            EditSpec(task="outpaint", image=png_source(128, 96), left=16, negative_prompt="blur"),
            "no negative prompt",
        ),
    ],
)
def test_limits_are_checked_before_any_call(family, spec, fragment):
    with pytest.raises(ServiceError) as caught:
        adapter_get(family).check(spec)
    assert caught.value.status == 400 and fragment in caught.value.message


def b64_png(width: int = 8, height: int = 8) -> str:
    return base64.b64encode(png_source(width, height).data).decode()


class TestResponseParsing:
    def test_stability_success(self):
        parsed = ADAPTERS["stability"].parse(
            {"images": [b64_png()], "seeds": [11], "finish_reasons": [None]}, EditSpec(task="inpaint")
        )
        assert len(parsed.images) == 1 and parsed.seeds == [11] and parsed.filtered == 0

    def test_stability_fully_filtered(self):
        with pytest.raises(ServiceError) as caught:
            ADAPTERS["stability"].parse(
                {"images": [b64_png()], "seeds": [1], "finish_reasons": ["Filter reason: output image"]},
                EditSpec(task="inpaint"),
            )
        assert caught.value.code == "content_filtered" and "output image" in caught.value.message

    def test_stability_inference_error(self):
        with pytest.raises(ServiceError) as caught:
            ADAPTERS["stability"].parse(
                {"images": [""], "seeds": [1], "finish_reasons": ["Inference error"]},
                EditSpec(task="inpaint"),
            )
        assert caught.value.code == "model_error" and caught.value.status == 502

    def test_nova_partially_filtered_keeps_the_rest(self):
        parsed = ADAPTERS["nova"].parse(
            {
                "images": [b64_png()],
                "error": "Some of the generated images have been blocked by our content filters.",
            },
            EditSpec(task="generate", prompt="x", count=3),
        )
        assert len(parsed.images) == 1 and parsed.filtered == 2

    def test_nova_fully_filtered_is_http_200_with_error(self):
        with pytest.raises(ServiceError) as caught:
            ADAPTERS["nova"].parse(
                {
                    "images": [],
                    "error": "All of the generated images have been blocked by our content filters.",
                },
                EditSpec(task="generate", count=1),
            )
        assert caught.value.code == "content_filtered" and caught.value.status == 422

    def test_titan_success(self):
        parsed = ADAPTERS["titan"].parse(
            {"images": [b64_png(), b64_png()]}, EditSpec(task="generate", count=2)
        )
        assert len(parsed.images) == 2 and parsed.filtered == 0


class TestBedrockErrors:
    """Every InvokeModel error, through the real client with botocore's Stubber at the boundary."""

    @pytest.fixture
    def stubber(self, local_stack):
        with Stubber(aws_client("bedrock-runtime")) as stubber:
            yield stubber

    @pytest.mark.parametrize("code", list(BEDROCK_ERRORS))
    def test_each_error_maps_to_a_clear_service_error(self, stubber, code):
        our_code, status, _ = BEDROCK_ERRORS[code]
        stubber.add_client_error(
            "invoke_model",
            service_error_code=code,
            service_message="detail from AWS",
            http_status_code=status,
        )
        with pytest.raises(ServiceError) as caught:
            bedrock_invoke(model_id="stability.stable-image-inpaint-v1:0", body={"prompt": "x"})
        assert (caught.value.code, caught.value.status) == (our_code, status)
        assert caught.value.message and "Traceback" not in caught.value.message

    def test_content_filtered_input_is_its_own_error(self, stubber):
        stubber.add_client_error(
            "invoke_model",
            service_error_code="ValidationException",
            http_status_code=400,
            service_message="This request has been blocked by our content filters.",
        )
        with pytest.raises(ServiceError) as caught:
            bedrock_invoke(model_id="amazon.nova-canvas-v1:0", body={})
        assert caught.value.code == "content_filtered"

    def test_validation_message_is_passed_on(self, stubber):
        stubber.add_client_error(
            "invoke_model",
            service_error_code="ValidationException",
            http_status_code=400,
            service_message="extraneous key [foo] is not permitted",
        )
        with pytest.raises(ServiceError) as caught:
            bedrock_invoke(model_id="stability.stable-image-inpaint-v1:0", body={})
        assert "extraneous key [foo]" in caught.value.message


def test_retries_fit_inside_the_job_timeout(settings):
    from editor.services.aws import bedrock_client_config

    config = bedrock_client_config()
    assert config.read_timeout * config.retries["total_max_attempts"] < settings.EDIT_JOB_TIMEOUT_SECONDS


@pytest.mark.parametrize("family", ["nova", "titan"])
def test_transparent_images_are_flattened_to_rgb_for_nova_and_titan(family):
    cutout = png_source(320, 320, mode="RGBA", fill=(200, 10, 10, 0))
    body = adapter_get(family).body(EditSpec(task="remove_background", image=cutout))
    sent = Image.open(io.BytesIO(base64.b64decode(body["backgroundRemovalParams"]["image"])))
    assert sent.format == "PNG" and sent.mode == "RGB"
    assert sent.getpixel((5, 5)) == (255, 255, 255)  # transparent pixels became white, not black


def test_cost_is_estimated_from_the_model_actually_called():
    adapter = adapter_get("stability")
    large = EditSpec(task="upscale", image=png_source(1200, 1000), prompt="a photo")
    assert adapter.model_id("upscale", large) == "stability.stable-conservative-upscale-v1:0"
    assert adapter.estimated_cost(adapter.model_id("upscale", large), 1) == 0.40
    assert adapter.estimated_cost("us.stability.stable-fast-upscale-v1:0", 2) == 0.06


@pytest.mark.parametrize("family", ["stability", "nova", "titan"])
def test_json_body_is_exactly_json_dumps(family):
    from editor.services.bedrock.runtime import json_body

    spec = spec_for(family, "inpaint")
    tricky = EditSpec(**{**spec.__dict__, "prompt": 'a "quoted" \\u0000 prompt, caf\u00e9 \U0001f600 \n'})
    body = adapter_get(family).body(tricky)
    assert json_body(body) == json.dumps(body).encode()


def test_stability_goes_through_the_inference_profile_when_configured(settings):
    settings.BEDROCK_INFERENCE_PROFILE_PREFIX = "us"
    stability, nova = adapter_get("stability"), adapter_get("nova")
    assert stability.model_id("inpaint") == "us.stability.stable-image-inpaint-v1:0"
    large = EditSpec(task="upscale", image=png_source(1200, 1000), prompt="a photo")
    assert stability.model_id("upscale", large) == "us.stability.stable-conservative-upscale-v1:0"
    assert nova.model_id("inpaint") == "amazon.nova-canvas-v1:0"  # Nova is called directly
    settings.BEDROCK_MODEL_IDS = {"stability.inpaint": "eu.stability.stable-image-inpaint-v1:0"}
    assert stability.model_id("inpaint") == "eu.stability.stable-image-inpaint-v1:0"  # an override wins

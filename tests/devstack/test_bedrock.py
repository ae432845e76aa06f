"""The local Bedrock endpoint, driven through a real boto3 bedrock-runtime client."""

from __future__ import annotations

import base64
import http.client
import io
import json
from urllib.parse import urlsplit

import boto3
import numpy as np
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ReadTimeoutError
from PIL import Image

from devstack.bedrock.protocol import ERROR_STATUS
from devstack.bedrock.server import BedrockServer
from devstack.bedrock.stability import SEED_MAX

INPAINT = "stability.stable-image-inpaint-v1:0"
ERASE = "stability.stable-image-erase-object-v1:0"
OUTPAINT = "stability.stable-outpaint-v1:0"
REMOVE_BG = "stability.stable-image-remove-background-v1:0"
FAST_UPSCALE = "stability.stable-fast-upscale-v1:0"
CONSERVATIVE_UPSCALE = "stability.stable-conservative-upscale-v1:0"
NOVA = "amazon.nova-canvas-v1:0"
TITAN = "amazon.titan-image-generator-v2:0"
RED = np.array([255, 0, 0])
SQUARE = np.s_[96:160, 96:160]


@pytest.fixture(scope="module")
def server():
    with BedrockServer() as running:
        yield running


def make_client(server, **config):
    return boto3.client(
        "bedrock-runtime",
        region_name="us-east-1",
        endpoint_url=server.url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"total_max_attempts": 1}, **config),
    )


@pytest.fixture(scope="module")
def client(server):
    return make_client(server)


@pytest.fixture(autouse=True)
def no_faults(server):
    yield
    admin(server, "DELETE", "/_engine/faults")


def admin(server, method, path, payload=None):
    connection = http.client.HTTPConnection(urlsplit(server.url).netloc, timeout=5)
    try:
        connection.request(method, path, body=None if payload is None else json.dumps(payload))
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def invoke(client, model_id, body):
    response = client.invoke_model(
        modelId=model_id, body=json.dumps(body), contentType="application/json", accept="application/json"
    )
    return json.loads(response["body"].read()), response["ResponseMetadata"]["HTTPHeaders"]


def invoke_error(client, model_id, body) -> ClientError:
    with pytest.raises(ClientError) as info:
        invoke(client, model_id, body)
    return info.value


def gradient(width=256, height=256):
    """A smooth RGB gradient: what classical inpainting should reconstruct almost exactly."""
    y, x = np.mgrid[0:height, 0:width]
    return np.dstack([60 + x * 120 // width, 80 + y * 100 // height, np.full_like(x, 140)]).astype(np.uint8)


def scene(width=256, height=256):
    """A gradient with a solid red square and a mask that is white over the square."""
    pixels = gradient(width, height)
    pixels[SQUARE] = RED
    mask = np.zeros((height, width), np.uint8)
    mask[SQUARE] = 255
    return pixels, mask


def b64(pixels, fmt="PNG"):
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, fmt)
    return base64.b64encode(buffer.getvalue()).decode()


IMAGE = b64(gradient(320, 320))  # valid for every model, for bodies that must pass or fail on other grounds


def decoded(text):
    image = Image.open(io.BytesIO(base64.b64decode(text)))
    return image, np.asarray(image)


def dilate(mask, pixels):
    """Grow a mask by `pixels` (a square neighbourhood): the area an edit may legitimately touch."""
    grown = mask > 0
    for axis in (0, 1):
        for shift in range(1, pixels + 1):
            grown = grown | np.roll(grown, shift, axis) | np.roll(grown, -shift, axis)
    return grown


def assert_square_filled(result, original, changed):
    """Inside the mask the red is gone and the fill matches the gradient; outside nothing moved."""
    truth = gradient(*original.shape[1::-1])
    inside = result[SQUARE].reshape(-1, 3).astype(int)
    assert np.abs(inside.mean(axis=0) - truth[SQUARE].reshape(-1, 3).mean(axis=0)).max() < 12
    assert np.abs(inside - RED).sum(axis=1).min() > 150
    outside = ~dilate(changed, 1)
    assert np.abs(result[outside].astype(int) - original[outside]).max() <= 1


def test_inpaint_fills_the_masked_square_and_keeps_the_rest(client):
    pixels, mask = scene()
    body, headers = invoke(
        client,
        INPAINT,
        {"prompt": "a lawn", "image": b64(pixels), "mask": b64(mask), "grow_mask": 3, "seed": 7},
    )
    image, result = decoded(body["images"][0])
    assert (image.format, image.size) == ("PNG", (256, 256))
    assert_square_filled(result, pixels, dilate(mask, 2 * 3 + 1))
    assert body["seeds"] == [7] and body["finish_reasons"] == [None]
    assert headers["x-imageedit-engine"] == "local-opencv"
    assert headers["x-imageedit-engine-note"] == "prompt ignored by the local engine (classical fill)"


def test_inpaint_without_mask_uses_transparency_and_is_deterministic(client):
    pixels, mask = scene()
    rgba = np.dstack([pixels, 255 - mask])
    request = {"prompt": "sky", "image": b64(rgba), "grow_mask": 0, "output_format": "webp"}
    first, _ = invoke(client, INPAINT, request)
    second, _ = invoke(client, INPAINT, request)
    assert first == second
    assert 1 <= first["seeds"][0] <= SEED_MAX
    image, result = decoded(first["images"][0])
    assert image.format == "WEBP"
    assert np.abs(result[SQUARE].astype(int) - RED).sum(axis=-1).min() > 150


def test_inpaint_without_mask_or_alpha_is_rejected(client):
    error = invoke_error(client, INPAINT, {"prompt": "sky", "image": b64(gradient())})
    assert error.response["Error"]["Code"] == "ValidationException"
    assert "alpha" in error.response["Error"]["Message"]


def test_erase_object_removes_the_square(client):
    pixels, mask = scene()
    body, headers = invoke(client, ERASE, {"image": b64(pixels), "mask": b64(mask), "grow_mask": 0})
    assert_square_filled(decoded(body["images"][0])[1], pixels, mask)
    assert "x-imageedit-engine-note" not in headers


def test_outpaint_extends_the_canvas_and_keeps_the_original(client):
    pixels = gradient(200, 150)
    request = {"image": b64(pixels), "left": 40, "down": 30, "output_format": "jpeg"}
    body, _ = invoke(client, OUTPAINT, request)
    image, result = decoded(body["images"][0])
    assert (image.format, image.size) == ("JPEG", (240, 180))
    assert np.abs(result[:150, 40:].astype(int) - pixels).mean() < 2


def test_outpaint_copies_no_object_into_the_new_area_and_says_the_local_engine_drew_it(client):
    """A sun near the edge must not reappear in the new area (mirroring the edges duplicated it)."""
    pixels = np.full((160, 200, 3), (30, 60, 90), np.uint8)
    y, x = np.mgrid[0:160, 0:200]
    sun = (x - 170) ** 2 + (y - 80) ** 2 < 18**2  # 12 px from the right edge, not touching it
    pixels[sun] = (255, 240, 200)
    body, headers = invoke(client, OUTPAINT, {"image": b64(pixels), "right": 120, "prompt": "more sky"})
    _, result = decoded(body["images"][0])
    assert result.shape[:2] == (160, 320)
    assert np.abs(result[:, :200].astype(int) - pixels).max() <= 2  # the picture itself is kept
    new_area = result[:, 200:].astype(int)
    assert new_area.sum(axis=2).max() < (30 + 60 + 90) + 60  # nothing as bright as the sun out there
    assert "local engine" in headers["x-imageedit-engine-note"]
    assert "prompt ignored" in headers["x-imageedit-engine-note"]


def test_remove_background_cuts_out_a_centred_object(client):
    pixels = gradient(200, 200)
    y, x = np.mgrid[0:200, 0:200]
    pixels[(x - 100) ** 2 + (y - 100) ** 2 < 50**2] = (200, 30, 40)
    body, _ = invoke(client, REMOVE_BG, {"image": b64(pixels)})
    image, result = decoded(body["images"][0])
    assert (image.format, image.mode) == ("PNG", "RGBA")
    assert [result[0, 0, 3], result[0, -1, 3], result[-1, 0, 3], result[-1, -1, 3]] == [0, 0, 0, 0]
    assert (result[85:115, 85:115, 3] == 255).all()


def test_fast_upscale_is_four_times_and_conservative_aims_at_four_megapixels(client):
    body, headers = invoke(client, FAST_UPSCALE, {"image": b64(gradient(64, 48))})
    assert decoded(body["images"][0])[0].size == (256, 192)
    assert "x-imageedit-engine-note" not in headers
    request = {"prompt": "sharp", "image": b64(gradient(512, 256))}
    body, headers = invoke(client, CONSERVATIVE_UPSCALE, request)
    assert decoded(body["images"][0])[0].size == (2048, 1024)
    assert "prompt ignored" in headers["x-imageedit-engine-note"]


@pytest.mark.parametrize("model_id", [NOVA, TITAN, "us." + NOVA])
def test_canvas_inpainting_changes_the_black_area(client, model_id):
    pixels, mask = scene(320, 320)
    body, _ = invoke(
        client,
        model_id,
        {
            "taskType": "INPAINTING",
            "inPaintingParams": {"image": b64(pixels), "maskImage": b64(255 - mask), "text": "grass"},
            "imageGenerationConfig": {"numberOfImages": 2, "seed": 5},
        },
    )
    assert set(body) == {"images"} and len(body["images"]) == 2
    for text in body["images"]:
        assert_square_filled(decoded(text)[1], pixels, mask)


def test_nova_outpainting_changes_the_white_area(client):
    pixels, mask = scene(320, 320)
    body, headers = invoke(
        client,
        NOVA,
        {
            "taskType": "OUTPAINTING",
            "outPaintingParams": {
                "image": b64(pixels),
                "maskImage": b64(mask),
                "text": "a field",
                "outPaintingMode": "PRECISE",
            },
        },
    )
    assert_square_filled(decoded(body["images"][0])[1], pixels, mask)
    assert headers["x-imageedit-engine-note"].startswith("prompt ignored")


def test_nova_background_removal_returns_a_transparent_png(client):
    pixels = gradient(320, 320)
    pixels[110:210, 110:210] = (20, 200, 60)
    body, _ = invoke(
        client, NOVA, {"taskType": "BACKGROUND_REMOVAL", "backgroundRemovalParams": {"image": b64(pixels)}}
    )
    image, result = decoded(body["images"][0])
    assert image.mode == "RGBA" and result[0, 0, 3] == 0 and result[160, 160, 3] == 255


def test_mask_prompt_is_refused_plainly(client):
    error = invoke_error(
        client,
        NOVA,
        {
            "taskType": "INPAINTING",
            "inPaintingParams": {"image": b64(gradient(320, 320)), "maskPrompt": "the dog"},
        },
    )
    assert error.response["Error"]["Code"] == "ValidationException"
    assert "cannot do mask by text" in error.response["Error"]["Message"]


@pytest.mark.parametrize(
    ("model_id", "body"),
    [
        (
            "stability.stable-image-search-replace-v1:0",
            {"prompt": "cat", "search_prompt": "dog", "image": IMAGE},
        ),
        ("stability.stable-image-core-v1:1", {"prompt": "a lighthouse", "aspect_ratio": "16:9"}),
        ("stability.sd3-5-large-v1:0", {"prompt": "a lighthouse", "mode": "text-to-image"}),
        ("us.stability.stable-image-ultra-v1:1", {"prompt": "a lighthouse"}),
        (
            NOVA,
            {"taskType": "TEXT_IMAGE", "textToImageParams": {"text": "lighthouse", "style": "PHOTOREALISM"}},
        ),
        (NOVA, {"taskType": "IMAGE_VARIATION", "imageVariationParams": {"images": [IMAGE]}}),
        (
            TITAN,
            {
                "taskType": "COLOR_GUIDED_GENERATION",
                "colorGuidedGenerationParams": {"text": "a lighthouse", "colors": ["#FF8800"]},
            },
        ),
    ],
)
def test_text_guided_generation_is_refused_plainly(client, model_id, body):
    error = invoke_error(client, model_id, body)
    message = error.response["Error"]["Message"]
    assert error.response["Error"]["Code"] == "ValidationException"
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert message.startswith("The local engine cannot do text-guided generation (")
    assert message.endswith("run against Amazon Bedrock for this task.")


def rgba_b64(pixels, alpha):
    buffer = io.BytesIO()
    Image.fromarray(np.dstack([pixels, alpha])).save(buffer, "PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def test_style_transfer_matches_the_style_images_colour_statistics_and_says_so(client):
    content = gradient(256, 192)
    style = np.zeros((128, 128, 3), np.uint8)
    style[...] = (200, 40, 30)
    style[::2] = (240, 120, 20)  # stripes: a style with spread, in warm colours
    payload, headers = invoke(
        client,
        "stability.stable-style-transfer-v1:0",
        {"init_image": b64(content), "style_image": b64(style), "prompt": "oil", "output_format": "png"},
    )
    image, result = decoded(payload["images"][0])
    assert image.size == (256, 192) and payload["finish_reasons"] == [None]
    # The result's mean colour moves from the cool gradient to the warm style (Lab means matched).
    assert abs(result[..., 0].mean() - style[..., 0].mean()) < abs(
        content[..., 0].mean() - style[..., 0].mean()
    )
    assert result[..., 0].mean() > result[..., 2].mean()
    note = headers["x-imageedit-engine-note"]
    assert "Reinhard" in note and "prompt ignored" in note


def test_style_transfer_validates_both_images_and_its_ranges(client):
    model = "stability.stable-style-transfer-v1:0"
    missing = invoke_error(client, model, {"init_image": IMAGE})
    assert "required key [style_image]" in missing.response["Error"]["Message"]
    out_of_range = invoke_error(
        client, model, {"init_image": IMAGE, "style_image": IMAGE, "change_strength": 0.05}
    )
    assert "change_strength" in out_of_range.response["Error"]["Message"]
    stray = invoke_error(client, model, {"init_image": IMAGE, "style_image": IMAGE, "image": IMAGE})
    assert "extraneous key [image]" in stray.response["Error"]["Message"]


def test_recolor_shifts_the_hue_only_inside_the_given_area(client):
    pixels, mask = scene(256, 256)
    pixels[SQUARE] = (40, 200, 40)  # a green square
    alpha = np.where(mask > 0, 0, 255).astype(np.uint8)  # transparent = the area to recolour
    payload, headers = invoke(
        client,
        "stability.stable-image-search-recolor-v1:0",
        {
            "image": rgba_b64(pixels, alpha),
            "prompt": "bright blue",
            "select_prompt": "the square",
            "grow_mask": 0,
        },
    )
    _, result = decoded(payload["images"][0])
    inside = result[SQUARE][..., :3].reshape(-1, 3).mean(axis=0)
    assert inside[2] > inside[1] and inside[2] > inside[0]  # blue now dominates where green was
    outside = ~dilate(mask, 2)
    assert np.abs(result[..., :3][outside].astype(int) - pixels[outside]).max() <= 1
    assert "hue shift" in headers["x-imageedit-engine-note"]


def test_recolor_without_an_area_is_refused_plainly(client):
    error = invoke_error(
        client,
        "stability.stable-image-search-recolor-v1:0",
        {"prompt": "red", "select_prompt": "car", "image": IMAGE},
    )
    assert "cannot do finding an object from its name (select_prompt)" in error.response["Error"]["Message"]


@pytest.mark.parametrize(
    ("model_id", "body", "fragment"),
    [
        (
            "stability.stable-creative-upscale-v1:0",
            {"prompt": "a cat", "image": IMAGE},
            "generative upscaling",
        ),
        ("stability.stable-image-control-sketch-v1:0", {"prompt": "a cat", "image": IMAGE}, "control-sketch"),
        (
            "stability.stable-image-control-structure-v1:0",
            {"prompt": "a cat", "image": IMAGE},
            "control-structure",
        ),
        ("stability.stable-image-style-guide-v1:0", {"prompt": "a cat", "image": IMAGE}, "style-guide"),
    ],
)
def test_generative_tools_validate_then_refuse(client, model_id, body, fragment):
    error = invoke_error(client, model_id, body)
    assert fragment in error.response["Error"]["Message"]
    stray = invoke_error(client, model_id, {**body, "strength": 0.5})
    assert "extraneous key [strength]" in stray.response["Error"]["Message"]
    missing = invoke_error(client, model_id, {"image": IMAGE})
    assert "required key [prompt]" in missing.response["Error"]["Message"]


def test_creative_upscale_refuses_images_over_a_megapixel_first(client):
    error = invoke_error(
        client,
        "stability.stable-creative-upscale-v1:0",
        {"prompt": "a cat", "image": b64(gradient(1100, 1000))},
    )
    assert "1,048,576" in error.response["Error"]["Message"]


def small_upscale_body():
    return {"image": b64(gradient(32, 32))}


@pytest.mark.parametrize(("code", "status"), sorted(ERROR_STATUS.items()))
def test_injected_fault_reaches_boto3_as_that_error(server, client, code, status):
    assert admin(server, "POST", "/_engine/faults", {"error": code, "count": 1})[0] == 200
    error = invoke_error(client, FAST_UPSCALE, small_upscale_body())
    assert error.response["Error"]["Code"] == code
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == status
    invoke(client, FAST_UPSCALE, small_upscale_body())


def test_faults_are_counted_filtered_by_model_and_cleared(server, client):
    admin(server, "POST", "/_engine/faults", {"error": "ThrottlingException", "count": 2, "model": "upscale"})
    fault = {"error": "AccessDeniedException", "model": "nova"}
    status, listing = admin(server, "POST", "/_engine/faults", fault)
    assert status == 200 and [fault["error"] for fault in listing["faults"]] == [
        "ThrottlingException",
        "AccessDeniedException",
    ]
    for _ in range(2):
        error = invoke_error(client, FAST_UPSCALE, small_upscale_body())
        assert error.response["Error"]["Code"] == "ThrottlingException"
    invoke(client, FAST_UPSCALE, small_upscale_body())  # count used up; the Nova fault does not match
    assert admin(server, "DELETE", "/_engine/faults") == (200, {"faults": []})
    invoke(client, NOVA, nova_inpaint(np.full((320, 320), 255, np.uint8)))


def test_bad_fault_requests_are_rejected(server):
    assert admin(server, "POST", "/_engine/faults", {"error": "TeapotException"})[0] == 400
    assert admin(server, "POST", "/_engine/faults", {"error": "delay", "delay_seconds": "soon"})[0] == 400


def test_delay_fault_trips_the_client_read_timeout(server):
    admin(server, "POST", "/_engine/faults", {"error": "delay", "delay_seconds": 1.0})
    with pytest.raises(ReadTimeoutError):
        invoke(make_client(server, read_timeout=0.3), FAST_UPSCALE, small_upscale_body())


def test_health(server):
    assert admin(server, "GET", "/_engine/health") == (200, {"status": "ok"})


def test_unknown_model_is_resource_not_found(client):
    error = invoke_error(client, "stability.no-such-model-v9:0", {"prompt": "x"})
    assert error.response["Error"]["Code"] == "ResourceNotFoundException"
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def nova_inpaint(mask, **config):
    params = {"image": IMAGE, "maskImage": b64(mask)}
    return {"taskType": "INPAINTING", "inPaintingParams": params, **config}


@pytest.mark.parametrize(
    ("model_id", "body", "message"),
    [
        (
            INPAINT,
            {"prompt": "x", "image": IMAGE, "mask": IMAGE, "strength": 0.5},
            "extraneous key [strength] is not permitted",
        ),
        (INPAINT, {"image": IMAGE, "mask": IMAGE}, "required key [prompt] not found"),
        (ERASE, {"image": IMAGE, "prompt": "remove the dog"}, "extraneous key [prompt] is not permitted"),
        (INPAINT, {"prompt": "x", "image": "not base64!", "mask": IMAGE}, "image: not valid base64"),
        (
            INPAINT,
            {"prompt": "x", "image": base64.b64encode(b"GIF89a" + b"\0" * 64).decode()},
            "not a readable PNG, JPEG or WebP image",
        ),
        (INPAINT, {"prompt": "x", "image": b64(gradient(50, 80))}, "at least 64 px"),
        (INPAINT, {"prompt": "x", "image": b64(gradient(300, 100))}, "aspect ratio"),
        (
            INPAINT,
            {"prompt": "x", "image": IMAGE, "seed": 4_294_967_295},
            "is not less or equal to 4294967294",
        ),
        (INPAINT, {"prompt": "x", "image": IMAGE, "grow_mask": "5"}, "expected type: Integer, found: String"),
        (INPAINT, {"prompt": "x", "image": IMAGE, "output_format": "gif"}, "gif is not a valid enum value"),
        (INPAINT, {"prompt": "x" * 10_001, "image": IMAGE}, "expected maxLength: 10000"),
        (OUTPAINT, {"image": IMAGE}, "at least one of left, right, up or down"),
        (REMOVE_BG, {"image": IMAGE, "output_format": "jpeg"}, "jpeg is not a valid enum value"),
        (FAST_UPSCALE, {"image": b64(gradient(2000, 1000))}, "at most 1536 px"),
        (NOVA, nova_inpaint(np.full((320, 320), 128, np.uint8)), "only pure black"),
        (NOVA, nova_inpaint(np.zeros((300, 300), np.uint8)), "at least 320 px"),
        (
            NOVA,
            nova_inpaint(np.zeros((320, 320), np.uint8), imageGenerationConfig={"width": 512, "height": 512}),
            "width and height are not allowed for INPAINTING",
        ),
        (
            NOVA,
            {"taskType": "INPAINTING", "inPaintingParams": {"image": IMAGE, "text": "x" * 1025}},
            "expected maxLength: 1024",
        ),
        (
            TITAN,
            {"taskType": "OUTPAINTING", "outPaintingParams": {"image": IMAGE, "maskImage": IMAGE}},
            "required key [text] not found",
        ),
        (
            TITAN,
            {
                "taskType": "INPAINTING",
                "inPaintingParams": {"image": b64(gradient(1500, 800)), "maskPrompt": "a"},
            },
            "at most 1408 px",
        ),
        (NOVA, {"taskType": "REPAINT", "inPaintingParams": {}}, "REPAINT is not a valid enum value"),
        (
            NOVA,
            {
                "taskType": "BACKGROUND_REMOVAL",
                "backgroundRemovalParams": {"image": IMAGE},
                "imageGenerationConfig": {},
            },
            "extraneous key [imageGenerationConfig]",
        ),
    ],
)
def test_invalid_bodies_fail_as_they_would_on_bedrock(client, model_id, body, message):
    error = invoke_error(client, model_id, body)
    assert error.response["Error"]["Code"] == "ValidationException"
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert message in error.response["Error"]["Message"]


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b" " * 25_000_001])
def test_unparseable_or_oversized_bodies_are_validation_errors(client, raw):
    with pytest.raises(ClientError) as info:
        client.invoke_model(modelId=INPAINT, body=raw, contentType="application/json")
    assert info.value.response["Error"]["Code"] == "ValidationException"

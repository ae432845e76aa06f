"""Bedrock image models: one adapter per model family behind one interface, and the InvokeModel call."""

from __future__ import annotations

import base64
import io
import json
import logging
import time
import uuid
from dataclasses import dataclass, field

from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)
from django.conf import settings
from PIL import Image

from editor.errors import ServiceError
from editor.services.aws import aws_client
from editor.services.images import SourceImage, image_info, rgb_png_or_original

logger = logging.getLogger(__name__)

TASKS = ("inpaint", "erase", "outpaint", "remove_background", "replace", "upscale", "generate")
ASPECT_RATIOS = ("1:1", "16:9", "21:9", "2:3", "3:2", "4:5", "5:4", "9:16", "9:21")


# Per image, from third-party price tables (shared/aws-reference.md 3.5): an estimate, not a bill.
PRICE_PER_IMAGE_USD = {
    "stability.stable-image-inpaint-v1:0": 0.07,
    "stability.stable-image-erase-object-v1:0": 0.07,
    "stability.stable-outpaint-v1:0": 0.06,
    "stability.stable-image-remove-background-v1:0": 0.07,
    "stability.stable-image-search-replace-v1:0": 0.07,
    "stability.stable-fast-upscale-v1:0": 0.03,
    "stability.stable-conservative-upscale-v1:0": 0.40,
    "stability.stable-image-core-v1:1": 0.04,
    "amazon.nova-canvas-v1:0": 0.04,
    "amazon.titan-image-generator-v2:0": 0.01,
}
INFERENCE_PREFIXES = ("us", "eu", "apac", "global")


@dataclass(frozen=True)
class EditSpec:
    """What to ask of a model, in the app's own terms (one mask convention: white = change)."""

    task: str
    image: SourceImage | None = None
    mask: SourceImage | None = None
    prompt: str = ""
    negative_prompt: str = ""
    search_prompt: str = ""
    seed: int | None = None
    count: int = 1
    left: int = 0
    right: int = 0
    up: int = 0
    down: int = 0
    creativity: float | None = None
    grow_mask: int | None = None
    output_format: str = "png"
    aspect_ratio: str = "1:1"


@dataclass(frozen=True)
class GeneratedImage:
    data: bytes
    content_type: str
    width: int
    height: int
    seed: int | None = None


@dataclass(frozen=True)
class ModelResult:
    model_id: str
    images: list[GeneratedImage]
    filtered: int = 0
    engine: str = "bedrock"
    engine_note: str | None = None
    latency_ms: int | None = None


@dataclass(frozen=True)
class Parsed:
    images: list[str] = field(default_factory=list)
    seeds: list[int | None] = field(default_factory=list)
    filtered: int = 0


def _invalid(message: str) -> ServiceError:
    return ServiceError("invalid_for_model", message, status=400)


def _content_filtered(detail: str = "") -> ServiceError:
    suffix = f" ({detail})" if detail else ""
    return ServiceError(
        "content_filtered",
        f"The model's content filter blocked this request{suffix}. Change the prompt or the image and retry.",
        status=422,
    )


class Base64Text(str):
    """Base64 of image bytes: its alphabet never needs JSON escaping (see json_body)."""


def _b64(data: bytes) -> Base64Text:
    return Base64Text(base64.b64encode(data).decode("ascii"))


def json_body(body: dict) -> bytes:
    """json.dumps(body), without making the encoder scan megabytes of base64 for characters to escape.

    Images are spliced in after encoding the rest (~10 ms saved per MB-sized image); the placeholders
    carry a random nonce, so no prompt can collide with them. tests check the bytes equal json.dumps.
    """
    nonce, blobs = uuid.uuid4().hex, []

    def hold(value):
        if isinstance(value, Base64Text):
            blobs.append(value)
            return f"{nonce}:{len(blobs) - 1}"
        if isinstance(value, dict):
            return {key: hold(item) for key, item in value.items()}
        return value

    text = json.dumps(hold(body))
    for index, blob in enumerate(blobs):
        text = text.replace(f'"{nonce}:{index}"', f'"{blob}"', 1)
    return text.encode()


def _mask_bw(mask: SourceImage, *, change_is_black: bool) -> bytes:
    """Threshold the app's mask (white = change) to pure black and white in the model's convention."""
    with Image.open(io.BytesIO(mask.data)) as grey:
        lut = [0 if (value >= 128) == change_is_black else 255 for value in range(256)]
        out = io.BytesIO()
        grey.convert("L").point(lut).save(out, "PNG")
        return out.getvalue()


class ModelAdapter:
    """The interface: which tasks, what limits, how to build the body and read the answer."""

    family = ""
    label = ""
    legacy = False
    default_models: dict[str, str] = {}
    max_images = 1
    prompt_limit = 10_000

    def tasks(self) -> list[str]:
        return list(self.default_models)

    # Families that some regions reach only through a cross-region inference profile (us.<model id>).
    uses_inference_profiles = False

    def model_id(self, task: str, spec: EditSpec | None = None) -> str:
        return settings.BEDROCK_MODEL_IDS.get(
            f"{self.family}.{task}", self._profiled(self.default_models[task])
        )

    def _profiled(self, model_id: str) -> str:
        prefix = settings.BEDROCK_INFERENCE_PROFILE_PREFIX
        return f"{prefix}.{model_id}" if prefix and self.uses_inference_profiles else model_id

    def supports(self, task: str) -> bool:
        return task in self.default_models

    def check(self, spec: EditSpec) -> None:
        """Refuse, before any call, what the model would refuse; the message says how to fix it."""
        if not self.supports(spec.task):
            raise _invalid(f"{self.label} cannot do '{spec.task}'. It can do: {', '.join(self.tasks())}.")
        if spec.count > self.max_images:
            raise _invalid(f"{self.label} makes at most {self.max_images} image(s) per request.")
        if spec.task == "outpaint" and not any((spec.left, spec.right, spec.up, spec.down)):
            raise _invalid("Outpainting needs at least one margin (left, right, up or down) above 0 pixels.")
        if spec.task != "generate" and spec.image is None:
            raise _invalid(f"The '{spec.task}' task needs an image.")

    def body(self, spec: EditSpec) -> dict:
        raise NotImplementedError

    def parse(self, payload: dict, spec: EditSpec) -> Parsed:
        raise NotImplementedError

    @staticmethod
    def estimated_cost(model_id: str, images: int) -> float:
        """Price by the model actually called (an inference-profile prefix such as us. costs the same)."""
        base = model_id.split(".", 1)[1] if model_id.split(".", 1)[0] in INFERENCE_PREFIXES else model_id
        return round(PRICE_PER_IMAGE_USD.get(base, 0.0) * images, 4)


class StabilityAdapter(ModelAdapter):
    """Stability AI Image Services on Bedrock: flat JSON bodies, white mask = change."""

    family = "stability"
    label = "Stability AI Image Services"
    # They run in us-west-2; us-east-1 and us-east-2 call them through the us.* profiles.
    uses_inference_profiles = True
    default_models = {
        "inpaint": "stability.stable-image-inpaint-v1:0",
        "erase": "stability.stable-image-erase-object-v1:0",
        "outpaint": "stability.stable-outpaint-v1:0",
        "remove_background": "stability.stable-image-remove-background-v1:0",
        "replace": "stability.stable-image-search-replace-v1:0",
        "upscale": "stability.stable-fast-upscale-v1:0",
        "generate": "stability.stable-image-core-v1:1",
    }
    conservative_upscale = "stability.stable-conservative-upscale-v1:0"
    prompt_limit = 10_000

    def model_id(self, task: str, spec: EditSpec | None = None) -> str:
        if (
            task == "upscale"
            and spec is not None
            and spec.image is not None
            and not self._fast_upscale_fits(spec)
        ):
            return settings.BEDROCK_MODEL_IDS.get(
                "stability.upscale_conservative", self._profiled(self.conservative_upscale)
            )
        return super().model_id(task, spec)

    @staticmethod
    def _fast_upscale_fits(spec: EditSpec) -> bool:
        image = spec.image
        return (
            min(image.width, image.height) >= 32
            and max(image.width, image.height) <= 1536
            and (1024 <= image.pixels <= 1_048_576)
        )

    def check(self, spec: EditSpec) -> None:
        super().check(spec)
        for name, text in (
            ("prompt", spec.prompt),
            ("negative_prompt", spec.negative_prompt),
            ("search_prompt", spec.search_prompt),
        ):
            if len(text) > self.prompt_limit:
                raise _invalid(f"The {name} is {len(text):,} characters; {self.label} take at most 10,000.")
        if spec.seed is not None and not 0 <= spec.seed <= 4_294_967_294:
            raise _invalid("The seed must be between 0 and 4,294,967,294.")
        if spec.task in ("inpaint", "replace", "generate") and not spec.prompt.strip():
            raise _invalid(f"The '{spec.task}' task needs a prompt describing what should appear.")
        if spec.task == "replace" and not spec.search_prompt.strip():
            raise _invalid("The 'replace' task needs a search prompt naming what to replace.")
        if spec.task in ("outpaint", "erase", "remove_background", "upscale") and spec.negative_prompt:
            raise _invalid(f"{self.label} take no negative prompt for '{spec.task}'.")
        if spec.task == "generate":
            if spec.aspect_ratio not in ASPECT_RATIOS:
                raise _invalid(f"The aspect ratio must be one of {', '.join(ASPECT_RATIOS)}.")
            return
        image = spec.image
        if spec.task == "upscale" and self._fast_upscale_fits(spec):
            return
        if spec.task == "upscale" and not spec.prompt.strip():
            raise _invalid(
                "Images over 1 megapixel are upscaled conservatively, which needs a prompt describing "
                "the image."
            )
        if min(image.width, image.height) < 64:
            raise _invalid("Each side of the image must be at least 64 pixels.")
        if image.pixels > 9_437_184:
            raise _invalid("The image must have at most 9,437,184 pixels.")
        if not 1 / 2.5 <= image.width / image.height <= 2.5:
            raise _invalid("The image's aspect ratio must be between 1:2.5 and 2.5:1.")

    def body(self, spec: EditSpec) -> dict:
        body: dict = {}
        task = spec.task
        if task != "generate":
            body["image"] = _b64(spec.image.data)
        if task in ("inpaint", "replace", "generate", "outpaint") and spec.prompt:
            body["prompt"] = spec.prompt
        if task == "upscale" and not self._fast_upscale_fits(spec):
            body["prompt"] = spec.prompt
        # Outpaint documents no negative_prompt, and Bedrock refuses keys it does not document.
        if task in ("inpaint", "replace", "generate") and spec.negative_prompt:
            body["negative_prompt"] = spec.negative_prompt
        if task in ("inpaint", "erase") and spec.mask is not None:
            body["mask"] = _b64(spec.mask.data)  # already white = change, as Stability wants
        if task in ("inpaint", "erase", "replace") and spec.grow_mask is not None:
            body["grow_mask"] = spec.grow_mask
        if task == "replace":
            body["search_prompt"] = spec.search_prompt
        if task == "outpaint":
            body.update(
                {side: getattr(spec, side) for side in ("left", "right", "up", "down") if getattr(spec, side)}
            )
            if spec.creativity is not None:
                body["creativity"] = spec.creativity
        if task == "generate":
            body["aspect_ratio"] = spec.aspect_ratio
        takes_seed = task != "remove_background" and not (task == "upscale" and self._fast_upscale_fits(spec))
        if takes_seed and spec.seed is not None:
            body["seed"] = spec.seed
        if task == "remove_background":
            # Transparency needs png or webp.
            body["output_format"] = "webp" if spec.output_format == "webp" else "png"
        else:
            body["output_format"] = spec.output_format
        return body

    def parse(self, payload: dict, spec: EditSpec) -> Parsed:
        images = payload.get("images") or []
        reasons = payload.get("finish_reasons") or [None] * len(images)
        seeds = payload.get("seeds") or [None] * len(images)
        kept, kept_seeds, filtered, detail = [], [], 0, ""
        for image, reason, seed in zip(images, reasons, seeds, strict=False):
            if reason is None:
                kept.append(image)
                kept_seeds.append(seed)
            elif str(reason).startswith("Filter reason"):
                filtered += 1
                detail = str(reason).removeprefix("Filter reason:").strip()
            else:
                raise ServiceError(
                    "model_error",
                    f"The model failed to make the image ({reason}). Try again.",
                    status=502,
                    retryable=True,
                )
        if not kept:
            if filtered:
                raise _content_filtered(f"{detail}" if detail else "")
            raise ServiceError("model_error", "The model returned no image. Try again.", status=502)
        return Parsed(images=kept, seeds=kept_seeds, filtered=filtered)


class _TaskTypeAdapter(ModelAdapter):
    """Amazon Nova Canvas and Titan Image Generator v2: {taskType, <params>, imageGenerationConfig}."""

    max_images = 5
    prompt_limit = 1024
    max_seed = 2_147_483_646
    formats = ("png", "jpeg")
    default_models: dict[str, str] = {}

    def check(self, spec: EditSpec) -> None:
        super().check(spec)
        for name, text in (
            ("prompt", spec.prompt),
            ("negative_prompt", spec.negative_prompt),
            ("search_prompt", spec.search_prompt),
        ):
            if len(text) > self.prompt_limit:
                raise _invalid(
                    f"The {name} is {len(text):,} characters; {self.label} takes at most "
                    f"{self.prompt_limit:,}."
                )
        if spec.seed is not None and not 0 <= spec.seed <= self.max_seed:
            raise _invalid(f"{self.label} takes a seed between 0 and {self.max_seed:,}.")
        if spec.task in ("replace", "generate", "outpaint") and not spec.prompt.strip():
            raise _invalid(f"{self.label} needs a prompt for '{spec.task}'.")
        if spec.task == "replace" and not spec.search_prompt.strip():
            raise _invalid("The 'replace' task needs a search prompt naming what to replace.")
        if spec.task in ("inpaint", "erase") and spec.mask is None:
            raise _invalid(f"{self.label} needs a mask for '{spec.task}': paint the area to change.")
        if spec.image is not None:
            self.check_size(*self._input_size(spec))

    def check_size(self, width: int, height: int) -> None:
        raise NotImplementedError

    @staticmethod
    def _input_size(spec: EditSpec) -> tuple[int, int]:
        image = spec.image
        return image.width + spec.left + spec.right, image.height + spec.up + spec.down

    def _config(self, spec: EditSpec) -> dict:
        config: dict = {"numberOfImages": spec.count, "quality": "standard"}
        if spec.seed is not None:
            config["seed"] = spec.seed
        return config

    def _image(self, spec: EditSpec) -> str:
        """The image as these models take it: PNG or JPEG, 8-bit RGB, no transparency (flattened on white)."""
        return _b64(rgb_png_or_original(spec.image, formats=self.formats))

    def _outpaint_canvas(self, spec: EditSpec) -> tuple[str, str]:
        """Pad the image by the margins and build the mask of the new area, in this model's colours."""
        # Transparency becomes white, as everywhere these models get an image.
        with Image.open(io.BytesIO(rgb_png_or_original(spec.image, formats=("png",)))) as source:
            rgb = source.convert("RGB")
        width, height = self._input_size(spec)
        canvas = Image.new("RGB", (width, height), (127, 127, 127))
        canvas.paste(rgb, (spec.left, spec.up))
        change, keep = self.outpaint_colours
        mask = Image.new("L", (width, height), change)
        mask.paste(keep, (spec.left, spec.up, spec.left + rgb.width, spec.up + rgb.height))
        image_out, mask_out = io.BytesIO(), io.BytesIO()
        canvas.save(image_out, "PNG")
        mask.save(mask_out, "PNG")
        return _b64(image_out.getvalue()), _b64(mask_out.getvalue())

    outpaint_colours = (255, 0)  # (change, keep)

    def body(self, spec: EditSpec) -> dict:
        task = spec.task
        if task == "remove_background":
            return {"taskType": "BACKGROUND_REMOVAL", "backgroundRemovalParams": {"image": self._image(spec)}}
        if task == "generate":
            params = {"text": spec.prompt}
            if spec.negative_prompt:
                params["negativeText"] = spec.negative_prompt
            width, height = self.generate_size(spec.aspect_ratio)
            return {
                "taskType": "TEXT_IMAGE",
                "textToImageParams": params,
                "imageGenerationConfig": {**self._config(spec), "width": width, "height": height},
            }
        if task == "outpaint":
            image, mask = self._outpaint_canvas(spec)
            params = {"image": image, "maskImage": mask, "text": spec.prompt, "outPaintingMode": "DEFAULT"}
            if spec.negative_prompt:
                params["negativeText"] = spec.negative_prompt
            return {
                "taskType": "OUTPAINTING",
                "outPaintingParams": params,
                "imageGenerationConfig": self._config(spec),
            }
        params = {"image": self._image(spec)}
        if task == "replace":
            params["maskPrompt"] = spec.search_prompt
        else:
            # Inpainting on these models: black = change (the opposite of the app's convention).
            params["maskImage"] = _b64(_mask_bw(spec.mask, change_is_black=True))
        if task != "erase" and spec.prompt:
            params["text"] = spec.prompt  # no text: the model fills the area with background (erase)
        if task != "erase" and spec.negative_prompt:
            params["negativeText"] = spec.negative_prompt
        return {
            "taskType": "INPAINTING",
            "inPaintingParams": params,
            "imageGenerationConfig": self._config(spec),
        }

    # Text-to-image output sizes by aspect ratio (each model documents its own list).
    generate_sizes = {
        "1:1": (1024, 1024),
        "16:9": (1280, 720),
        "21:9": (1344, 576),
        "2:3": (832, 1248),
        "3:2": (1248, 832),
        "4:5": (896, 1120),
        "5:4": (1120, 896),
        "9:16": (720, 1280),
        "9:21": (576, 1344),
    }

    def generate_size(self, aspect_ratio: str) -> tuple[int, int]:
        return self.generate_sizes.get(aspect_ratio, (1024, 1024))

    def parse(self, payload: dict, spec: EditSpec) -> Parsed:
        images = payload.get("images") or []
        error = payload.get("error")
        if not images:
            if error:
                raise _content_filtered(str(error))
            raise ServiceError("model_error", "The model returned no image. Try again.", status=502)
        filtered = max(0, spec.count - len(images)) if spec.task != "remove_background" else 0
        # These models return no per-image seeds; the request's seed stays in the edit's parameters.
        return Parsed(images=images, seeds=[None] * len(images), filtered=filtered)


class NovaCanvasAdapter(_TaskTypeAdapter):
    family = "nova"
    label = "Amazon Nova Canvas"
    legacy = True
    prompt_limit = 1024
    # The doc copy says 2,147,483,646, AWS's own SDK examples use 858,993,459: take the stricter.
    max_seed = 858_993_459
    default_models = {
        task: "amazon.nova-canvas-v1:0"
        for task in ("inpaint", "erase", "outpaint", "remove_background", "replace", "generate")
    }

    def check(self, spec: EditSpec) -> None:
        super().check(spec)
        if (
            spec.task in ("replace", "generate", "outpaint", "inpaint")
            and spec.prompt
            and not spec.prompt.strip()
        ):
            raise _invalid("Nova Canvas needs 1 to 1,024 characters of prompt.")

    def check_size(self, width: int, height: int) -> None:
        if not (320 <= width <= 4096 and 320 <= height <= 4096):
            raise _invalid("Nova Canvas needs each side between 320 and 4,096 pixels.")
        if width * height >= 4_194_304:
            raise _invalid("Nova Canvas needs fewer than 4,194,304 pixels.")
        if width % 16 or height % 16:
            raise _invalid(f"Nova Canvas needs sides divisible by 16; this image is {width}x{height}.")
        if not 1 / 4 <= width / height <= 4:
            raise _invalid("Nova Canvas needs an aspect ratio between 1:4 and 4:1.")


class TitanImageAdapter(_TaskTypeAdapter):
    family = "titan"
    label = "Amazon Titan Image Generator v2"
    legacy = True
    prompt_limit = 512
    default_models = {
        task: "amazon.titan-image-generator-v2:0"
        for task in ("inpaint", "erase", "outpaint", "remove_background", "replace", "generate")
    }
    # Titan's outpainting mask marks the region to keep in black; everything white is regenerated.
    outpaint_colours = (255, 0)

    def check_size(self, width: int, height: int) -> None:
        if max(width, height) > 1408:
            raise _invalid("Titan Image Generator takes images up to 1,408 pixels on the longer side.")

    generate_sizes = {
        "1:1": (1024, 1024),
        "16:9": (1280, 768),
        "3:2": (1152, 768),
        "2:3": (768, 1152),
        "9:16": (768, 1280),
        "5:4": (1152, 896),
        "4:5": (896, 1152),
        "21:9": (1408, 640),
        "9:21": (640, 1408),
    }


ADAPTERS: dict[str, ModelAdapter] = {
    adapter.family: adapter for adapter in (StabilityAdapter(), NovaCanvasAdapter(), TitanImageAdapter())
}


def adapter_get(family: str | None) -> ModelAdapter:
    family = family or settings.BEDROCK_DEFAULT_FAMILY
    try:
        return ADAPTERS[family]
    except KeyError as exc:
        raise _invalid(f"Unknown model '{family}'. Choose one of: {', '.join(ADAPTERS)}.") from exc


# --- The call ---------------------------------------------------------------------------------------

# Bedrock's error codes -> (our code, HTTP status, sentence for a person, worth retrying later).
BEDROCK_ERRORS = {
    "ValidationException": ("invalid_for_model", 400, "The model refused the request: {detail}", False),
    "ServiceQuotaExceededException": (
        "quota_exceeded",
        429,
        "The AWS account's Bedrock quota is used up; try again later.",
        True,
    ),
    "AccessDeniedException": (
        "model_access_denied",
        403,
        "This deployment has no access to the model; enable it in the Bedrock console.",
        False,
    ),
    "ResourceNotFoundException": (
        "model_not_found",
        502,
        "The model is not available in this region or account.",
        False,
    ),
    "ThrottlingException": ("throttled", 429, "The model is busy (throttled); try again in a minute.", True),
    "ModelNotReadyException": (
        "model_not_ready",
        503,
        "The model is warming up; try again in a minute.",
        True,
    ),
    "ModelTimeoutException": ("model_timeout", 504, "The model took too long; try a smaller image.", True),
    "ModelErrorException": ("model_error", 502, "The model failed to process the request; try again.", True),
    "InternalServerException": (
        "bedrock_error",
        502,
        "Amazon Bedrock had an internal error; try again.",
        True,
    ),
    "ServiceUnavailableException": (
        "bedrock_unavailable",
        503,
        "Amazon Bedrock is unavailable right now; try again later.",
        True,
    ),
}


def bedrock_client_config() -> Config:
    """Explicit timeouts, and retries that fit inside one job (checked in settings)."""
    return Config(
        connect_timeout=settings.BEDROCK_CONNECT_TIMEOUT_SECONDS,
        read_timeout=settings.BEDROCK_READ_TIMEOUT_SECONDS,
        retries={"mode": "standard", "total_max_attempts": settings.BEDROCK_MAX_ATTEMPTS},
    )


def bedrock_error(exc: Exception) -> ServiceError:
    """Map a boto3 failure of InvokeModel to the one error type the API knows."""
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        detail = exc.response.get("Error", {}).get("Message", "") or code
        if code == "ValidationException" and "content filter" in detail.lower():
            return _content_filtered()
        our_code, status, message, retryable = BEDROCK_ERRORS.get(
            code, ("bedrock_error", 502, "Amazon Bedrock returned an unexpected error; try again.", True)
        )
        return ServiceError(our_code, message.format(detail=detail), status=status, retryable=retryable)
    if isinstance(exc, ReadTimeoutError):
        return ServiceError(
            "model_timeout", "The model took too long to answer; try again.", status=504, retryable=True
        )
    if isinstance(exc, EndpointConnectionError | ConnectTimeoutError):
        return ServiceError(
            "bedrock_unavailable",
            "Amazon Bedrock could not be reached; try again later.",
            status=503,
            retryable=True,
        )
    return ServiceError(
        "bedrock_error", "Calling Amazon Bedrock failed; try again.", status=502, retryable=True
    )


def bedrock_invoke(*, model_id: str, body: dict) -> tuple[dict, dict]:
    """Call InvokeModel; return the JSON payload and the response headers."""
    encoded = json_body(body)
    if len(encoded) > 25_000_000:
        raise _invalid("The request is larger than Bedrock's 25 MB limit; use a smaller image.")
    try:
        response = aws_client("bedrock-runtime").invoke_model(
            modelId=model_id, body=encoded, contentType="application/json", accept="application/json"
        )
        payload = json.loads(response["body"].read())
    except (ClientError, BotoCoreError) as exc:
        raise bedrock_error(exc) from exc
    except ValueError as exc:
        raise ServiceError(
            "model_error", "The model's answer could not be read; try again.", status=502
        ) from exc
    return payload, response["ResponseMetadata"].get("HTTPHeaders", {})


def model_run(*, spec: EditSpec, family: str | None = None) -> ModelResult:
    """Check the spec against the model's limits, call it, and decode the images it made."""
    adapter = adapter_get(family)
    adapter.check(spec)
    model_id = adapter.model_id(spec.task, spec)
    started = time.monotonic()
    payload, headers = bedrock_invoke(model_id=model_id, body=adapter.body(spec))
    latency_ms = int((time.monotonic() - started) * 1000)
    parsed = adapter.parse(payload, spec)
    images = []
    for encoded, seed in zip(parsed.images, parsed.seeds, strict=False):
        try:
            data = base64.b64decode(encoded)
            content_type, width, height = image_info(data)
        except (ValueError, OSError) as exc:
            raise ServiceError("model_error", "The model returned an unreadable image.", status=502) from exc
        images.append(
            GeneratedImage(data=data, content_type=content_type, width=width, height=height, seed=seed)
        )
    engine = headers.get("x-imageedit-engine", "bedrock")
    logger.info(
        "bedrock invoke",
        extra={
            "model_id": model_id,
            "bedrock_latency_ms": latency_ms,
            "images": len(images),
            "filtered": parsed.filtered,
            "engine": engine,
        },
    )
    return ModelResult(
        model_id=model_id,
        images=images,
        filtered=parsed.filtered,
        engine=engine,
        engine_note=headers.get("x-imageedit-engine-note"),
        latency_ms=latency_ms,
    )


# Tasks the local engine (devstack/) cannot do: they need a text-to-image model.
LOCAL_ENGINE_CANNOT = ("replace", "generate")


def task_unavailable_note(task: str) -> str | None:
    """Why the configured engine cannot do the task, or None. The one answer for /models and POST /edits."""
    if settings.BEDROCK_ENDPOINT_URL and task in LOCAL_ENGINE_CANNOT:
        return "The local engine cannot do text-guided generation; it needs Amazon Bedrock."
    return None


def models_describe() -> list[dict]:
    """What each family can do here; the local engine's gaps are listed so nobody has to find out."""
    return [
        {
            "family": adapter.family,
            "label": adapter.label,
            "legacy": adapter.legacy,
            "default": adapter.family == settings.BEDROCK_DEFAULT_FAMILY,
            "max_images": adapter.max_images,
            "prompt_limit": adapter.prompt_limit,
            "tasks": [
                {
                    "task": task,
                    "model_id": adapter.model_id(task),
                    "available": task_unavailable_note(task) is None,
                    **({"note": task_unavailable_note(task)} if task_unavailable_note(task) else {}),
                }
                for task in adapter.tasks()
            ],
        }
        for adapter in ADAPTERS.values()
    ]

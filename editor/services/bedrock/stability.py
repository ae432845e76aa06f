"""Stability AI Image Services on Bedrock: flat JSON bodies, white mask = change.

Bodies follow AWS's page "Stability AI Image Services" (Bedrock User Guide,
https://docs.aws.amazon.com/bedrock/latest/userguide/stable-image-services.html: sections Upscale, Edit and
Control, the thirteen tools), with the field tables of shared/aws-reference.md 3.6 (which the search tool's
copies of that page confirm as to tools and model ids; ranges are the documented Stability v2beta ones).
"""

from __future__ import annotations

from editor.services.bedrock.adapter import ModelAdapter, ModelAnswer
from editor.services.bedrock.runtime import b64, content_filtered, invalid_for_model, model_error
from editor.services.bedrock.tasks import ASPECT_RATIOS, MARGIN_SIDES, EditSpec
from editor.services.imaging.images import SourceImage

# The optional numbers each tool takes, with the range AWS's page gives for that tool.
TOOL_NUMBERS: dict[str, dict[str, tuple[float, float]]] = {
    "outpaint": {"creativity": (0.1, 1.0)},
    "upscale_conservative": {"creativity": (0.2, 0.5)},
    "upscale_creative": {"creativity": (0.1, 0.5)},
    "sketch": {"control_strength": (0.0, 1.0)},
    "structure": {"control_strength": (0.0, 1.0)},
    "style_guide": {"fidelity": (0.0, 1.0)},
    "style_transfer": {
        "style_strength": (0.0, 1.0),
        "composition_fidelity": (0.0, 1.0),
        "change_strength": (0.1, 1.0),
    },
}
# Tools whose mask (painted, or found from a search/select prompt) can be grown by grow_mask.
GROWS_MASK = ("inpaint", "erase", "replace", "recolor")
# Tools that take no seed (remove background and fast upscale are deterministic).
NO_SEED = ("remove_background", "upscale_fast")
# Tools that take a prompt when one is given (upscale decides by size, below).
TAKES_PROMPT = (
    "inpaint",
    "replace",
    "recolor",
    "generate",
    "outpaint",
    "upscale_conservative",
    "upscale_creative",
    "sketch",
    "structure",
    "style_guide",
    "style_transfer",
)


class StabilityAdapter(ModelAdapter):
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
        "recolor": "stability.stable-image-search-recolor-v1:0",
        "upscale_fast": "stability.stable-fast-upscale-v1:0",
        "upscale_conservative": "stability.stable-conservative-upscale-v1:0",
        "upscale_creative": "stability.stable-creative-upscale-v1:0",
        "sketch": "stability.stable-image-control-sketch-v1:0",
        "structure": "stability.stable-image-control-structure-v1:0",
        "style_guide": "stability.stable-image-style-guide-v1:0",
        "style_transfer": "stability.stable-style-transfer-v1:0",
    }
    # One image per call: N candidates are N concurrent calls (generation.model_run).
    max_images = 5
    images_per_call = 1
    prompt_limit = 10_000
    max_seed = 4_294_967_294

    def model_id(self, task: str, spec: EditSpec | None = None) -> str:
        if (
            task == "upscale"
            and spec is not None
            and spec.image is not None
            and not self._fast_upscale_fits(spec)
        ):
            # The same model as the Conservative upscale tool (and the same setting overrides it).
            return super().model_id("upscale_conservative", spec)
        return super().model_id(task, spec)

    @staticmethod
    def _fast_upscale_fits(spec: EditSpec) -> bool:
        return StabilityAdapter._fast_size(spec.image)

    @staticmethod
    def _fast_size(image: SourceImage) -> bool:
        return (
            min(image.width, image.height) >= 32
            and max(image.width, image.height) <= 1536
            and (1024 <= image.pixels <= 1_048_576)
        )

    def check(self, spec: EditSpec) -> None:
        super().check(spec)
        if not spec.rule.negative_prompt and spec.negative_prompt:
            raise invalid_for_model(f"{self.label} take no negative prompt for '{spec.task}'.")
        if spec.count > 1 and (
            not spec.rule.candidates
            or (spec.task == "upscale" and spec.image is not None and self._fast_upscale_fits(spec))
        ):
            # These tools take no seed: N calls would bill N identical images.
            raise invalid_for_model(f"'{spec.task}' gives the same image every time; ask for one image.")
        if spec.rule.select_prompt and not spec.select_prompt.strip():
            raise invalid_for_model(f"The '{spec.task}' task needs a select prompt naming what to recolour.")
        for name, (low, high) in TOOL_NUMBERS.get(spec.task, {}).items():
            value = getattr(spec, name)
            if value is not None and not low <= value <= high:
                raise invalid_for_model(f"The {name} for '{spec.task}' must be between {low:g} and {high:g}.")
        if spec.task in ("generate", "style_guide") and spec.aspect_ratio not in ASPECT_RATIOS:
            raise invalid_for_model(f"The aspect ratio must be one of {', '.join(ASPECT_RATIOS)}.")
        if spec.task == "generate":
            return
        image = spec.image
        if spec.task == "upscale_fast":
            if not self._fast_size(image):
                raise invalid_for_model(
                    "Fast upscale takes images with sides of 32 to 1,536 pixels and 1,024 to 1,048,576 "
                    "pixels in all; use Upscale for larger images."
                )
            return
        if spec.task == "upscale_creative" and not 4_096 <= image.pixels <= 1_048_576:
            raise invalid_for_model(
                "Creative upscale takes images of 4,096 to 1,048,576 pixels (64x64 to 1 megapixel)."
            )
        if spec.task == "style_transfer":
            if spec.style_image is None:
                raise invalid_for_model("Style transfer needs a second image: the style to apply.")
            self._check_common(spec.style_image, "style image")
        if spec.task == "upscale" and self._fast_upscale_fits(spec):
            return
        if spec.task == "upscale" and not spec.prompt.strip():
            raise invalid_for_model(
                "Images over 1 megapixel are upscaled conservatively, which needs a prompt describing "
                "the image."
            )
        self._check_common(image, "image")

    @staticmethod
    def _check_common(image: SourceImage, name: str) -> None:
        """The input rule AWS's page gives for every tool but the fast upscale."""
        if min(image.width, image.height) < 64:
            raise invalid_for_model(f"Each side of the {name} must be at least 64 pixels.")
        if image.pixels > 9_437_184:
            raise invalid_for_model(f"The {name} must have at most 9,437,184 pixels.")
        if not 1 / 2.5 <= image.width / image.height <= 2.5:
            raise invalid_for_model(f"The {name}'s aspect ratio must be between 1:2.5 and 2.5:1.")

    def body(self, spec: EditSpec) -> dict:
        body: dict = {}
        task = spec.task
        if task == "style_transfer":
            body["init_image"] = b64(spec.image.data)
            body["style_image"] = b64(spec.style_image.data)
        elif task != "generate":
            body["image"] = b64(spec.image.data)
        if task in TAKES_PROMPT and spec.prompt:
            body["prompt"] = spec.prompt
        if task == "upscale" and not self._fast_upscale_fits(spec):
            body["prompt"] = spec.prompt
        # Outpaint documents no negative_prompt, and Bedrock refuses keys it does not document.
        if spec.rule.negative_prompt and spec.negative_prompt:
            body["negative_prompt"] = spec.negative_prompt
        if task in ("inpaint", "erase") and spec.mask is not None:
            body["mask"] = b64(spec.mask.data)  # already white = change, as Stability wants
        if task in GROWS_MASK and spec.grow_mask is not None:
            body["grow_mask"] = spec.grow_mask
        if task == "replace":
            body["search_prompt"] = spec.search_prompt
        if task == "recolor":
            body["select_prompt"] = spec.select_prompt
        if task == "outpaint":
            body.update({side: getattr(spec, side) for side in MARGIN_SIDES if getattr(spec, side)})
        for name in TOOL_NUMBERS.get(task, {}):
            if getattr(spec, name) is not None:
                body[name] = getattr(spec, name)
        if task in ("generate", "style_guide"):
            body["aspect_ratio"] = spec.aspect_ratio
        takes_seed = task not in NO_SEED and not (task == "upscale" and self._fast_upscale_fits(spec))
        if takes_seed and spec.seed is not None:
            body["seed"] = spec.seed
        if task == "remove_background":
            # Transparency needs png or webp.
            body["output_format"] = "webp" if spec.output_format == "webp" else "png"
        else:
            body["output_format"] = spec.output_format
        return body

    def parse(self, payload: dict, spec: EditSpec) -> ModelAnswer:
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
                raise model_error(f"The model failed to make the image ({reason}). Try again.")
        if not kept:
            if filtered:
                raise content_filtered(detail)
            raise model_error("The model returned no image. Try again.")
        return ModelAnswer(images=kept, seeds=kept_seeds, filtered=filtered)

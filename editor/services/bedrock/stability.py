"""Stability AI Image Services on Bedrock: flat JSON bodies, white mask = change."""

from __future__ import annotations

from django.conf import settings

from editor.services.bedrock.adapter import ModelAdapter, ModelAnswer
from editor.services.bedrock.runtime import b64, content_filtered, invalid_for_model, model_error
from editor.services.bedrock.tasks import ASPECT_RATIOS, MARGIN_SIDES, EditSpec


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
    }
    conservative_upscale = "stability.stable-conservative-upscale-v1:0"
    prompt_limit = 10_000
    max_seed = 4_294_967_294

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
        if not spec.rule.negative_prompt and spec.negative_prompt:
            raise invalid_for_model(f"{self.label} take no negative prompt for '{spec.task}'.")
        if spec.task == "generate":
            if spec.aspect_ratio not in ASPECT_RATIOS:
                raise invalid_for_model(f"The aspect ratio must be one of {', '.join(ASPECT_RATIOS)}.")
            return
        image = spec.image
        if spec.task == "upscale" and self._fast_upscale_fits(spec):
            return
        if spec.task == "upscale" and not spec.prompt.strip():
            raise invalid_for_model(
                "Images over 1 megapixel are upscaled conservatively, which needs a prompt describing "
                "the image."
            )
        if min(image.width, image.height) < 64:
            raise invalid_for_model("Each side of the image must be at least 64 pixels.")
        if image.pixels > 9_437_184:
            raise invalid_for_model("The image must have at most 9,437,184 pixels.")
        if not 1 / 2.5 <= image.width / image.height <= 2.5:
            raise invalid_for_model("The image's aspect ratio must be between 1:2.5 and 2.5:1.")

    def body(self, spec: EditSpec) -> dict:
        body: dict = {}
        task = spec.task
        if task != "generate":
            body["image"] = b64(spec.image.data)
        if task in ("inpaint", "replace", "generate", "outpaint") and spec.prompt:
            body["prompt"] = spec.prompt
        if task == "upscale" and not self._fast_upscale_fits(spec):
            body["prompt"] = spec.prompt
        # Outpaint documents no negative_prompt, and Bedrock refuses keys it does not document.
        if spec.rule.negative_prompt and spec.negative_prompt:
            body["negative_prompt"] = spec.negative_prompt
        if task in ("inpaint", "erase") and spec.mask is not None:
            body["mask"] = b64(spec.mask.data)  # already white = change, as Stability wants
        if task in ("inpaint", "erase", "replace") and spec.grow_mask is not None:
            body["grow_mask"] = spec.grow_mask
        if task == "replace":
            body["search_prompt"] = spec.search_prompt
        if task == "outpaint":
            body.update({side: getattr(spec, side) for side in MARGIN_SIDES if getattr(spec, side)})
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

"""The interface every model family implements, and the checks the task rules decide for all of them."""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from django.conf import settings
from PIL import Image

from editor.services.bedrock.pricing import estimated_cost
from editor.services.bedrock.runtime import invalid_for_model
from editor.services.bedrock.tasks import TASK_RULES, EditSpec
from editor.services.imaging.images import SourceImage

PROMPT_FIELDS = ("prompt", "negative_prompt", "search_prompt")


@dataclass(frozen=True)
class ModelAnswer:
    """What an adapter read from a model's JSON answer: base64 images, their seeds, how many were filtered."""

    images: list[str] = field(default_factory=list)
    seeds: list[int | None] = field(default_factory=list)
    filtered: int = 0


def mask_bw(mask: SourceImage, *, change_is_black: bool) -> bytes:
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
    max_seed = 4_294_967_294
    # Families that some regions reach only through a cross-region inference profile (us.<model id>).
    uses_inference_profiles = False
    # How many images one call makes; None: the body asks for spec.count in one call.
    images_per_call: int | None = None

    estimated_cost = staticmethod(estimated_cost)

    def tasks(self) -> list[str]:
        return list(self.default_models)

    def model_id(self, task: str, spec: EditSpec | None = None) -> str:
        return settings.BEDROCK_MODEL_IDS.get(
            f"{self.family}.{task}", self._profiled(self.default_models[task])
        )

    def _profiled(self, model_id: str) -> str:
        prefix = settings.BEDROCK_INFERENCE_PROFILE_PREFIX
        return f"{prefix}.{model_id}" if prefix and self.uses_inference_profiles else model_id

    def supports(self, task: str) -> bool:
        return task in self.default_models

    def needs_prompt(self, task: str) -> bool:
        """Whether this family refuses the task without a prompt; the task rules say, unless a family
        differs."""
        return TASK_RULES[task].prompt == "required"

    def check(self, spec: EditSpec) -> None:
        """Refuse, before any call, what the model would refuse; the message says how to fix it."""
        if not self.supports(spec.task):
            raise invalid_for_model(
                f"{self.label} cannot do '{spec.task}'. It can do: {', '.join(self.tasks())}."
            )
        rule = spec.rule
        if spec.count > self.max_images:
            raise invalid_for_model(f"{self.label} makes at most {self.max_images} image(s) per request.")
        if rule.margins and not any((spec.left, spec.right, spec.up, spec.down)):
            raise invalid_for_model(
                "Outpainting needs at least one margin (left, right, up or down) above 0 pixels."
            )
        if rule.image and spec.image is None:
            raise invalid_for_model(f"The '{spec.task}' task needs an image.")
        for name in PROMPT_FIELDS:
            text = getattr(spec, name)
            if len(text) > self.prompt_limit:
                raise invalid_for_model(
                    f"The {name} is {len(text):,} characters; {self.label} takes at most "
                    f"{self.prompt_limit:,}."
                )
        if spec.seed is not None and not 0 <= spec.seed <= self.max_seed:
            raise invalid_for_model(f"{self.label} takes a seed between 0 and {self.max_seed:,}.")
        if self.needs_prompt(spec.task) and not spec.prompt.strip():
            raise invalid_for_model(f"The '{spec.task}' task needs a prompt describing what should appear.")
        if rule.search_prompt and not spec.search_prompt.strip():
            raise invalid_for_model(f"The '{spec.task}' task needs a search prompt naming what to replace.")

    def body(self, spec: EditSpec) -> dict:
        raise NotImplementedError

    def parse(self, payload: dict, spec: EditSpec) -> ModelAnswer:
        raise NotImplementedError

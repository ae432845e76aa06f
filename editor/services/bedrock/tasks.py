"""The task rules (one table: serializer, adapters, pages and editor read it) and the typed request."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from editor.services.imaging.images import SourceImage

ASPECT_RATIOS = ("1:1", "16:9", "21:9", "2:3", "3:2", "4:5", "5:4", "9:16", "9:21")
MARGIN_SIDES = ("left", "right", "up", "down")
PROMPT_RULES = ("required", "optional", "upscale", "none")
# The editor's groups, in order: fifteen tools (Stability's thirteen, generate, and the upscale that picks
# fast or conservative by size) stay easy to scan.
GROUPS = ("Edit", "Extend", "Cut out", "Enhance", "Create")
# Tool strengths, each 0-1 unless an adapter narrows it (Stability: change_strength 0.1-1).
STRENGTH_FIELDS = (
    "control_strength",
    "fidelity",
    "style_strength",
    "composition_fidelity",
    "change_strength",
)


@dataclass(frozen=True)
class TaskRule:
    """What one task needs and shows; adding a task is one row here plus an adapter method per family."""

    task: str
    label: str
    help: str  # one sentence for the editor
    image: bool  # needs an input image (or a parent edit's result)
    mask: bool = False  # needs a painted mask (white = change)
    prompt: str = "none"  # one of PROMPT_RULES; "upscale": needed only above 1 megapixel
    search_prompt: bool = False  # needs a search prompt naming what to replace
    select_prompt: bool = False  # needs a select prompt naming what to recolour
    second_image: bool = False  # needs a second image (style transfer: the style to apply)
    fields: tuple[str, ...] = ()  # the editor's form fields, in order
    group: str = "Edit"  # one of GROUPS
    candidates: bool = True  # several images differ (a seed each); False: the same image every time

    @property
    def negative_prompt(self) -> bool:
        """Takes a negative prompt (the models document none for the other tasks)."""
        return "negative_prompt" in self.fields

    @property
    def margins(self) -> bool:
        return "margins" in self.fields

    def describe(self) -> dict:
        """The rule as the editor reads it from /api/v1/models."""
        return {
            "task": self.task,
            "label": self.label,
            "help": self.help,
            "image": self.image,
            "mask": self.mask,
            "prompt": self.prompt,
            "search_prompt": self.search_prompt,
            "select_prompt": self.select_prompt,
            "second_image": self.second_image,
            "fields": list(self.fields),
            "group": self.group,
            "candidates": self.candidates,
        }


TASK_RULES: dict[str, TaskRule] = {
    rule.task: rule
    for rule in (
        TaskRule(
            task="inpaint",
            label="Inpaint",
            help="Paint over what should change, then describe what should be there.",
            image=True,
            mask=True,
            prompt="required",
            fields=("prompt", "negative_prompt"),
        ),
        TaskRule(
            task="erase",
            label="Erase",
            help="Paint over an object to remove it; the background fills in.",
            image=True,
            mask=True,
        ),
        TaskRule(
            task="replace",
            label="Replace",
            help="Name an object and describe what should replace it; no painting needed.",
            image=True,
            prompt="required",
            search_prompt=True,
            fields=("search_prompt", "prompt", "negative_prompt"),
        ),
        TaskRule(
            task="recolor",
            label="Recolor",
            help="Name an object and the colour it should become; no painting needed.",
            image=True,
            prompt="required",
            select_prompt=True,
            fields=("select_prompt", "prompt", "negative_prompt"),
        ),
        TaskRule(
            task="outpaint",
            label="Outpaint",
            help="Extend the picture beyond its edges.",
            image=True,
            prompt="optional",
            fields=("margins", "prompt"),
            group="Extend",
        ),
        TaskRule(
            task="remove_background",
            label="Remove background",
            help="Keep the subject and make the background transparent.",
            image=True,
            group="Cut out",
            candidates=False,
        ),
        TaskRule(
            task="upscale",
            label="Upscale",
            help="Make the image larger and sharper (fast 4x when small, conservative above 1 megapixel).",
            image=True,
            prompt="upscale",
            fields=("prompt",),
            group="Enhance",
        ),
        TaskRule(
            task="upscale_fast",
            label="Fast upscale",
            help="Make a small image four times larger, quickly.",
            image=True,
            group="Enhance",
            candidates=False,
        ),
        TaskRule(
            task="upscale_conservative",
            label="Conservative upscale",
            help="Make an image up to 4K while keeping it as it is, guided by a description of it.",
            image=True,
            prompt="required",
            fields=("prompt", "negative_prompt", "creativity"),
            group="Enhance",
        ),
        TaskRule(
            task="upscale_creative",
            label="Creative upscale",
            help="Make a small or degraded image up to 4K, re-imagining fine detail from a description.",
            image=True,
            prompt="required",
            fields=("prompt", "negative_prompt", "creativity"),
            group="Enhance",
        ),
        TaskRule(
            task="generate",
            label="Generate",
            help="Make a new image from a description alone.",
            image=False,
            prompt="required",
            fields=("prompt", "negative_prompt", "aspect_ratio"),
            group="Create",
        ),
        TaskRule(
            task="sketch",
            label="Sketch to image",
            help="Turn a sketch or line drawing into a finished picture of what you describe.",
            image=True,
            prompt="required",
            fields=("prompt", "negative_prompt", "control_strength"),
            group="Create",
        ),
        TaskRule(
            task="structure",
            label="Keep structure",
            help="Make a new picture that keeps this image's layout and shapes.",
            image=True,
            prompt="required",
            fields=("prompt", "negative_prompt", "control_strength"),
            group="Create",
        ),
        TaskRule(
            task="style_guide",
            label="Style guide",
            help="Make a new picture of what you describe in the style of this image.",
            image=True,
            prompt="required",
            fields=("prompt", "negative_prompt", "fidelity", "aspect_ratio"),
            group="Create",
        ),
        TaskRule(
            task="style_transfer",
            label="Style transfer",
            help="Repaint this image in the style of a second image.",
            image=True,
            second_image=True,
            prompt="optional",
            fields=("prompt", "negative_prompt", "style_strength", "composition_fidelity", "change_strength"),
            group="Create",
        ),
    )
}
TASKS = tuple(TASK_RULES)


@dataclass(frozen=True)
class EditSpec:
    """The typed request: what to ask of a model, in the app's own terms (one mask convention: white =
    change). The input serializer builds it; the edit stores its options as JSON and re-reads them."""

    task: str
    image: SourceImage | None = None
    mask: SourceImage | None = None
    style_image: SourceImage | None = None  # style transfer's second image
    model: str = ""  # the model family; empty for the deployment's default
    prompt: str = ""
    negative_prompt: str = ""
    search_prompt: str = ""
    select_prompt: str = ""
    seed: int | None = None
    count: int = 1
    left: int = 0
    right: int = 0
    up: int = 0
    down: int = 0
    creativity: float | None = None
    grow_mask: int | None = None
    control_strength: float | None = None
    fidelity: float | None = None
    style_strength: float | None = None
    composition_fidelity: float | None = None
    change_strength: float | None = None
    output_format: str = "png"
    aspect_ratio: str = "1:1"

    @property
    def rule(self) -> TaskRule:
        return TASK_RULES[self.task]

    def parameters(self) -> dict:
        """The options kept in the item's `parameters` map, for the record and the job: no empty values,
        margins only when set (task, model, prompt and negative prompt have attributes of their own)."""
        used = {name: getattr(self, name) for name in PARAMETER_FIELDS}
        used = {
            name: value
            for name, value in used.items()
            if value not in (None, "") and not (name in MARGIN_SIDES and not value)
        }
        if self.task not in ("generate", "style_guide"):
            used.pop("aspect_ratio", None)
        return used

    @classmethod
    def from_parameters(
        cls,
        *,
        task: str,
        model: str,
        prompt: str,
        negative_prompt: str,
        parameters: dict,
        image: SourceImage | None = None,
        mask: SourceImage | None = None,
        style_image: SourceImage | None = None,
    ) -> EditSpec:
        """The spec again from what an edit stored."""
        return cls(
            task=task,
            image=image,
            mask=mask,
            style_image=style_image,
            model=model,
            prompt=prompt,
            negative_prompt=negative_prompt,
            **{name: value for name, value in parameters.items() if name in PARAMETER_FIELDS},
        )


PARAMETER_FIELDS = tuple(
    field.name
    for field in dataclasses.fields(EditSpec)
    if field.name not in ("task", "image", "mask", "style_image", "model", "prompt", "negative_prompt")
)

"""The model families this deployment offers, the engine behind them, and what each can do here."""

from __future__ import annotations

from django.conf import settings

from editor.services.bedrock.adapter import ModelAdapter
from editor.services.bedrock.amazon import NovaCanvasAdapter, TitanImageAdapter
from editor.services.bedrock.runtime import invalid_for_model
from editor.services.bedrock.stability import StabilityAdapter
from editor.services.bedrock.tasks import TASK_RULES

ADAPTERS: dict[str, ModelAdapter] = {
    adapter.family: adapter for adapter in (StabilityAdapter(), NovaCanvasAdapter(), TitanImageAdapter())
}
# What the local engine cannot do, and why (it has classical methods only: no text understanding, no
# generation). Fast upscale (Lanczos x4) and style transfer (Reinhard colour statistics) it does honestly.
_NEEDS_BEDROCK = "; it needs Amazon Bedrock."
LOCAL_ENGINE_CANNOT = {
    "generate": "The local engine cannot do text-guided generation" + _NEEDS_BEDROCK,
    "replace": "The local engine cannot find an object from its name (search_prompt)" + _NEEDS_BEDROCK,
    "recolor": "The local engine cannot find an object from its name (select_prompt)" + _NEEDS_BEDROCK,
    "upscale_creative": "The local engine cannot re-imagine detail (use Fast upscale here)" + _NEEDS_BEDROCK,
    "sketch": "The local engine cannot draw a picture from a sketch" + _NEEDS_BEDROCK,
    "structure": "The local engine cannot draw a new picture on an image's structure" + _NEEDS_BEDROCK,
    "style_guide": "The local engine cannot draw a new picture in an image's style" + _NEEDS_BEDROCK,
}


def adapter_get(family: str | None) -> ModelAdapter:
    family = family or settings.BEDROCK_DEFAULT_FAMILY
    try:
        return ADAPTERS[family]
    except KeyError as exc:
        raise invalid_for_model(f"Unknown model '{family}'. Choose one of: {', '.join(ADAPTERS)}.") from exc


def engine_is_local() -> bool:
    return bool(settings.BEDROCK_ENDPOINT_URL)


def task_unavailable_note(task: str) -> str | None:
    """Why the configured engine cannot do the task, or None. The one answer for /models and POST /edits."""
    if engine_is_local():
        return LOCAL_ENGINE_CANNOT.get(task)
    return None


def engine_label(engine: str | None) -> str | None:
    """The engine that made an edit (as its answer named it), in words."""
    if not engine:
        return None
    return "Amazon Bedrock" if engine == "bedrock" else f"Local engine ({engine})"


def engine_describe() -> dict:
    """The engine this deployment calls: Amazon Bedrock, or the local Bedrock-compatible engine."""
    local = engine_is_local()
    return {"local": local, "label": "Local engine" if local else engine_label("bedrock")}


def tasks_describe() -> list[dict]:
    """The task rules, in the editor's order, for the editor to read."""
    return [rule.describe() for rule in TASK_RULES.values()]


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
                    "usd_per_image": adapter.estimated_cost(adapter.model_id(task), 1),
                    "available": task_unavailable_note(task) is None,
                    **({"note": task_unavailable_note(task)} if task_unavailable_note(task) else {}),
                }
                for task in adapter.tasks()
            ],
        }
        for adapter in ADAPTERS.values()
    ]

"""The model families this deployment offers, the engine behind them, and what each can do here."""

from __future__ import annotations

from django.conf import settings

from editor.services.bedrock.adapter import ModelAdapter
from editor.services.bedrock.amazon import NovaCanvasAdapter, TitanImageAdapter
from editor.services.bedrock.lifecycle import ROUTES, SUCCESSOR_FAMILY, Lifecycle, model_lifecycle
from editor.services.bedrock.runtime import invalid_for_model
from editor.services.bedrock.stability import StabilityAdapter
from editor.services.bedrock.tasks import TASK_RULES
from editor.services.imaging.regions import INPUT_LIMITS

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
    """Whether this deployment calls the local engine: said by a setting, never guessed from an endpoint."""
    return settings.BEDROCK_LOCAL_ENGINE


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
    """What each family can do here, with each model's lifecycle (Bedrock's control plane); the local
    engine's gaps and retired models are listed so nobody has to find out."""
    return [_model_describe(adapter) for adapter in ADAPTERS.values()]


def _model_describe(adapter: ModelAdapter) -> dict:
    tasks = []
    for task in adapter.tasks():
        model_id = adapter.model_id(task)
        lifecycle = model_lifecycle(model_id)
        note = task_unavailable_note(task) or _lifecycle_note(adapter, task, lifecycle)
        tasks.append(
            {
                "task": task,
                "model_id": model_id,
                "usd_per_image": adapter.estimated_cost(model_id, 1),
                "lifecycle": lifecycle.describe(),
                "available": note is None,
                **({"note": note} if note else {}),
            }
        )
    statuses = {task["lifecycle"]["status"] for task in tasks}
    return {
        "family": adapter.family,
        "label": adapter.label,
        "legacy": adapter.legacy or "LEGACY" in statuses,
        "retired": bool(tasks) and all(not task["available"] for task in tasks) and "RETIRED" in statuses,
        "end_of_life": min(
            (t["lifecycle"]["end_of_life"] for t in tasks if t["lifecycle"]["end_of_life"]), default=None
        ),
        "default": adapter.family == settings.BEDROCK_DEFAULT_FAMILY,
        "max_images": adapter.max_images,
        "prompt_limit": adapter.prompt_limit,
        # What the model is sent of a photo must fit these; the editor outlines the crop it will see.
        "input_limits": {
            name: getattr(INPUT_LIMITS[adapter.family], name)
            for name in ("max_pixels", "min_side", "max_side", "max_aspect", "multiple_of")
        },
        "tasks": tasks,
    }


def _lifecycle_note(adapter: ModelAdapter, task: str, lifecycle: Lifecycle) -> str | None:
    if lifecycle.status == "RETIRED":
        note = f"{adapter.label} reached its end of life on {lifecycle.end_of_life}."
    elif lifecycle.status == "INACCESSIBLE":
        note = f"This AWS account cannot use {adapter.label}; enable it in the Bedrock console."
    else:
        return None
    if adapter.family != SUCCESSOR_FAMILY and task in ROUTES:
        return f"{note} API requests for it run on {ADAPTERS[SUCCESSOR_FAMILY].label} instead."
    return f"{note} Use {ADAPTERS[SUCCESSOR_FAMILY].label} instead."

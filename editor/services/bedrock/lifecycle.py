"""Which models are current: Bedrock's control plane (GetFoundationModel: modelLifecycle.status and
endOfLifeTime), cached for hours, with published end-of-life dates where it gives none; and where a retired
family's task goes instead."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from editor.errors import ServiceError
from editor.services.aws import aws_client
from editor.services.bedrock.adapter import ModelAdapter
from editor.services.bedrock.pricing import base_model_id
from editor.services.bedrock.tasks import EditSpec

logger = logging.getLogger(__name__)

SUCCESSOR_FAMILY = "stability"
# A retired family's task goes to the Stability tool that does the same job (Core for text-to-image).
ROUTES = {
    "inpaint": "inpaint",
    "outpaint": "outpaint",
    "remove_background": "remove_background",
    "generate": "generate",
}
UNKNOWN_RETRY_SECONDS = 300  # a control plane that did not answer is asked again soon
_cache: dict[str, tuple[float, Lifecycle]] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class Lifecycle:
    """ACTIVE or LEGACY (as Bedrock says), RETIRED (past its end of life), INACCESSIBLE (the account
    cannot see it), or UNKNOWN (the control plane did not answer: the model is tried as usual)."""

    status: str
    end_of_life: str | None = None  # ISO date, where Bedrock gives one

    @property
    def usable(self) -> bool:
        return self.status not in ("RETIRED", "INACCESSIBLE")

    def describe(self) -> dict:
        return {"status": self.status, "end_of_life": self.end_of_life}


def model_lifecycle(model_id: str) -> Lifecycle:
    """The model's lifecycle: the control plane's answer (from the cache while it is fresh), dated from
    BEDROCK_END_OF_LIFE when the answer has no date of its own."""
    base = base_model_id(model_id)
    now = time.monotonic()
    with _lock:
        cached = _cache.get(base)
    if cached and cached[0] > now:
        return _published_end_apply(base, cached[1])
    lifecycle, ttl = _ask(base)
    with _lock:
        _cache[base] = (now + ttl, lifecycle)
    return _published_end_apply(base, lifecycle)


def _published_end_apply(base: str, lifecycle: Lifecycle) -> Lifecycle:
    """A published end of life, for a control plane that states none (Nova Canvas's LEGACY came without
    one): retired from that day on (UTC), whatever else the answer said; before it, the date is shown."""
    published = settings.BEDROCK_END_OF_LIFE.get(base)
    if lifecycle.end_of_life is not None or not published:
        return lifecycle
    if dt.date.fromisoformat(published) <= dt.datetime.now(dt.UTC).date():
        return Lifecycle("RETIRED", published)
    return Lifecycle(lifecycle.status, published)


def lifecycle_cache_clear() -> None:
    with _lock:
        _cache.clear()


def _ask(base: str) -> tuple[Lifecycle, float]:
    ttl = float(settings.BEDROCK_LIFECYCLE_CACHE_SECONDS)
    try:
        details = aws_client("bedrock").get_foundation_model(modelIdentifier=base)["modelDetails"]
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in ("ResourceNotFoundException", "AccessDeniedException", "ValidationException"):
            return Lifecycle("INACCESSIBLE"), ttl
        logger.warning("model lifecycle unknown", extra={"model_id": base, "error": code})
        return Lifecycle("UNKNOWN"), UNKNOWN_RETRY_SECONDS
    except BotoCoreError as exc:
        logger.warning("model lifecycle unknown", extra={"model_id": base, "error": str(exc)})
        return Lifecycle("UNKNOWN"), UNKNOWN_RETRY_SECONDS
    lifecycle = details.get("modelLifecycle") or {}
    status = lifecycle.get("status") or "ACTIVE"
    end = lifecycle.get("endOfLifeTime")
    if isinstance(end, dt.datetime):
        end = end if end.tzinfo else end.replace(tzinfo=dt.UTC)
        left = (end - dt.datetime.now(dt.UTC)).total_seconds()
        if left <= 0:
            status = "RETIRED"
        else:
            ttl = min(ttl, left)  # ask again when it retires
        return Lifecycle(status, end.date().isoformat()), ttl
    return Lifecycle(status), ttl


def _why(adapter: ModelAdapter, model_id: str, lifecycle: Lifecycle) -> str:
    if lifecycle.status == "RETIRED":
        return (
            f"{adapter.label} ({base_model_id(model_id)}) reached its end of life on {lifecycle.end_of_life}"
        )
    return f"{adapter.label} ({base_model_id(model_id)}) is not available to this AWS account"


def lifecycle_route(
    adapter: ModelAdapter, spec: EditSpec, successor: ModelAdapter
) -> tuple[ModelAdapter, str | None]:
    """The adapter to run the spec with, and why it is not the one asked for (None when it is).

    A retired or inaccessible model's task goes to its Stability equivalent; without one, a 4xx names the
    successor to use. `successor` is the SUCCESSOR_FAMILY's adapter.
    """
    model_id = adapter.model_id(spec.task, spec)
    lifecycle = model_lifecycle(model_id)
    if lifecycle.usable:
        return adapter, None
    why = _why(adapter, model_id, lifecycle)
    status = 410 if lifecycle.status == "RETIRED" else 422
    code = "model_retired" if lifecycle.status == "RETIRED" else "model_inaccessible"
    if adapter.family == SUCCESSOR_FAMILY:
        raise ServiceError(code, f"{why}; no other model here does '{spec.task}'.", status=status)
    task = ROUTES.get(spec.task)
    if task is None:
        raise ServiceError(
            code,
            f"{why}. Use its successor, {successor.label} (model '{SUCCESSOR_FAMILY}'), for '{spec.task}'.",
            status=status,
        )
    if not model_lifecycle(successor.model_id(task, spec)).usable:
        raise ServiceError(code, f"{why}, and its successor is not available either.", status=status)
    return successor, f"{why}; {successor.label} ran '{task}' instead."

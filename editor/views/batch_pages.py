"""The batch page (live progress and the results as a grid), its cancel form, and the history's batch card."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_POST

from editor.errors import ServiceError
from editor.selectors.batches import batch_get_owned, batch_items_page
from editor.services.batches.lifecycle import batch_cancel
from editor.services.bedrock.tasks import TASK_RULES
from editor.views.batches import batch_present
from editor.views.pages import _history_card, signin_required

GRID_SIZE = 100
BATCH_STATUS_LABELS = {"RUNNING": "Running", "COMPLETED": "Done", "CANCELLED": "Cancelled"}
COUNT_LABELS = {
    "QUEUED": "Queued",
    "PENDING": "Starting",
    "RUNNING": "Running",
    "SUCCEEDED": "Done",
    "FAILED": "Failed",
    "CANCELLED": "Cancelled",
}


def _task_label(task: str) -> str:
    rule = TASK_RULES.get(task)
    return rule.label if rule else task


def _batch_for_page(batch) -> dict:
    body = batch_present(batch)
    body["task_label"] = _task_label(body["task"])
    body["status_label"] = BATCH_STATUS_LABELS.get(body["status"], body["status"])
    body["percent"] = round(body["progress"] * 100)
    body["created"] = parse_datetime(body["created_at"] or "")
    counts = body["counts"]
    body["count_rows"] = [(label, state, counts.get(state, 0)) for state, label in COUNT_LABELS.items()]
    return body


@signin_required
def batch_page(request, user, batch_id: str):
    try:
        batch = batch_get_owned(user=user, batch_id=batch_id)
        items, next_cursor = batch_items_page(batch=batch, limit=GRID_SIZE, cursor=request.GET.get("cursor"))
    except ServiceError as exc:
        if exc.status == 404:
            raise Http404(exc.message) from exc
        return render(request, "editor/error.html", {"message": exc.message}, status=exc.status)
    results = sorted(
        (_history_card(item) | {"index": int(item.batch_index or 0)} for item in items), key=_index
    )
    return render(
        request,
        "editor/batch.html",
        {"batch": _batch_for_page(batch), "results": results, "next_cursor": next_cursor},
    )


def _index(card: dict) -> int:
    return card["index"]


@require_POST
@signin_required
def batch_cancel_page(request, user, batch_id: str):
    try:
        batch_cancel(user=user, batch_id=batch_id)
    except ServiceError as exc:
        if exc.status == 404:
            raise Http404(exc.message) from exc
        return render(request, "editor/error.html", {"message": exc.message}, status=exc.status)
    return redirect("pages:batch", batch_id=batch_id)

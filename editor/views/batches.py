"""The batches API: create (202), list newest first, progress of one, its edits (the results grid),
cancel (DELETE)."""

from __future__ import annotations

from django.urls import reverse
from rest_framework import serializers as drf_serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from editor.errors import ServiceError
from editor.models import Batch
from editor.openapi import OpenApiParameter, extend_schema
from editor.parsers import JSONParser
from editor.presenters import edit_present
from editor.selectors.batches import batch_get_owned, batch_items_page, batch_progress, batches_list
from editor.serializers_batches import BatchCreateInput
from editor.services.batches.creation import batch_create
from editor.services.batches.lifecycle import batch_cancel, batch_finish_if_done
from editor.views.edits import IDEMPOTENCY_KEY_MAX_LENGTH


class _ListQuery(drf_serializers.Serializer):
    limit = drf_serializers.IntegerField(min_value=1, max_value=100, default=20)
    cursor = drf_serializers.CharField(required=False, max_length=2048)


def batch_present(batch: Batch, *, with_progress: bool = True) -> dict:
    """The batch as JSON-ready data: what it does, to how many items, how far it is and what it cost."""
    batch_id = batch.id.split("#", 1)[1]
    body = {
        "id": batch_id,
        "status": batch.status,
        "task": batch.task,
        "parameters": {
            key: value for key, value in (batch.parameters or {}).items() if value not in ("", None)
        },
        "total": int(batch.total),
        "charged_usd": round(float(batch.item_cost_usd) * int(batch.total), 6),
        "created_at": batch.request_timestamp,
        "cancelled_at": batch.cancelled_at,
        "finished_at": batch.finished_at,
        "edits_url": reverse("api:batch-edits", kwargs={"batch_id": batch_id}),
    }
    if with_progress:
        progress = batch_progress(batch=batch)
        batch_finish_if_done(batch=batch, progress=progress)
        counts = {key: int(value) for key, value in progress.counts.items() if key != "cost_usd"}
        finished = counts.get("SUCCEEDED", 0) + counts.get("FAILED", 0) + counts.get("CANCELLED", 0)
        body.update(
            status=batch.status,
            finished_at=batch.finished_at,
            counts=counts,
            progress=round(finished / max(1, int(batch.total)), 4),
            cost_so_far_usd=progress.cost_usd,
            eta_seconds=progress.eta_seconds,
        )
    return body


class BatchCreateApi(APIView):
    parser_classes = [JSONParser]

    @extend_schema(
        request={"application/json": BatchCreateInput},
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=False)],
        responses={202: dict, 200: dict},
        description="Queue one edit per item (up to 10,000). The whole batch is charged against today's "
        "quota and budget now, or refused with 429 saying how many items fit; items that never reach a "
        "model (cancelled, or their upload failed its checks) are given back. A repeated Idempotency-Key "
        "answers 200 with the batch the key made.",
    )
    def post(self, request):
        data = BatchCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        idempotency_key = request.headers.get("Idempotency-Key", "")
        if len(idempotency_key) > IDEMPOTENCY_KEY_MAX_LENGTH:
            raise ServiceError(
                "invalid_idempotency_key",
                f"The Idempotency-Key header is {len(idempotency_key)} characters long; the limit is "
                f"{IDEMPOTENCY_KEY_MAX_LENGTH} (a UUID is 36).",
            )
        batch, created = batch_create(
            user=request.user,
            spec=values["spec"],
            items=values["items"],
            idempotency_key=idempotency_key or None,
        )
        location = reverse("api:batch-detail", kwargs={"batch_id": batch.id.split("#", 1)[1]})
        if not created:  # the key's first request made it: its state now, nothing charged again
            return Response(batch_present(batch), status=200, headers={"Location": location})
        body = batch_present(batch, with_progress=False)
        body.update(counts={"QUEUED": int(batch.total)}, progress=0.0)
        return Response(body, status=202, headers={"Location": location, "Retry-After": "5"})


class BatchListApi(APIView):
    @extend_schema(operation_id="batches_list", parameters=[_ListQuery], responses={200: dict})
    def get(self, request):
        query = _ListQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        batches, next_cursor = batches_list(user=request.user, **query.validated_data)
        # Finished batches carry their counts; a running one is counted here (its edits, by index).
        return Response({"results": [batch_present(batch) for batch in batches], "next_cursor": next_cursor})


class BatchDetailApi(APIView):
    @extend_schema(responses={200: dict})
    def get(self, request, batch_id: str):
        return Response(batch_present(batch_get_owned(user=request.user, batch_id=batch_id)))


class BatchCancelApi(APIView):
    @extend_schema(
        responses={200: dict},
        description="Cancel: items not started never start (and are not charged); running ones finish.",
    )
    def delete(self, request, batch_id: str):
        return Response(batch_present(batch_cancel(user=request.user, batch_id=batch_id)))


class BatchEditsApi(APIView):
    @extend_schema(operation_id="batch_edits_list", parameters=[_ListQuery], responses={200: dict})
    def get(self, request, batch_id: str):
        query = _ListQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        batch = batch_get_owned(user=request.user, batch_id=batch_id)
        edits, next_cursor = batch_items_page(batch=batch, **query.validated_data)
        return Response(
            {"results": [edit_present(edit, for_list=True) for edit in edits], "next_cursor": next_cursor}
        )


class BatchCollectionApi(BatchCreateApi, BatchListApi):
    """/api/v1/batches: POST creates, GET lists."""


class BatchItemApi(BatchDetailApi, BatchCancelApi):
    """/api/v1/batches/<id>: GET reads its progress, DELETE cancels what has not started."""

"""The edits API, one view per operation: create (and wait a bounded time), list, get (optionally wait),
delete; and the models and task rules the editor reads."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from rest_framework import serializers as drf_serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from editor.errors import ServiceError
from editor.flags import query_flag_read
from editor.models import ACTIVE_STATUSES
from editor.openapi import OpenApiParameter, extend_schema
from editor.parsers import FormParser, JSONParser, MultiPartParser
from editor.presenters import edit_present
from editor.selectors.edits import edit_get_owned
from editor.selectors.history import edits_list
from editor.serializers import EditCreateInput, EditListOutput, EditOutput
from editor.services.bedrock.catalog import engine_describe, models_describe, tasks_describe
from editor.services.edits.creation import EditInputs, edit_create
from editor.services.edits.deletion import edit_delete
from editor.services.edits.dry_run import edit_dry_run
from editor.services.edits.expiry import edit_expire_if_stale
from editor.services.jobs import edit_wait
from editor.services.spend import usage_read

IDEMPOTENCY_KEY_MAX_LENGTH = 255


def _edit_response(edit, *, created: bool) -> Response:
    body = edit_present(edit)
    location = reverse("api:edit-detail", kwargs={"edit_id": edit.id})
    if edit.status in ACTIVE_STATUSES:
        return Response(body, status=202, headers={"Location": location, "Retry-After": "2"})
    return Response(body, status=201 if created else 200, headers={"Location": location})


class _ListQuery(drf_serializers.Serializer):
    limit = drf_serializers.IntegerField(min_value=1, max_value=100, default=20)
    cursor = drf_serializers.CharField(required=False, max_length=2048)


class _WaitQuery(drf_serializers.Serializer):
    wait = drf_serializers.FloatField(min_value=0, max_value=25, default=0)


class EditCreateApi(APIView):
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(
        request={"multipart/form-data": EditCreateInput, "application/json": EditCreateInput},
        parameters=[
            OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=False),
            OpenApiParameter(
                "dry_run",
                bool,
                OpenApiParameter.QUERY,
                required=False,
                description="1 or true: only check the request; answer 200 with the model, size and "
                "estimated cost. Nothing is recorded or counted. 0 or false (or absent): run it. Any other "
                "value is a 400.",
            ),
        ],
        responses={201: EditOutput, 202: EditOutput, 200: EditOutput},
        description="Start an edit. Waits up to `wait` seconds (default 20) for the result: 201 with the "
        "finished edit (SUCCEEDED or FAILED), or 202 with its status and a Location to poll. With "
        "`?dry_run=1`: the checks only, 200 with what would run and its estimated cost.",
    )
    def post(self, request):
        # Read first: a misspelt dry run must be refused before anything could run (and bill) an edit.
        dry_run = query_flag_read(query=request.query_params, name="dry_run")
        idempotency_key = request.headers.get("Idempotency-Key", "")
        if len(idempotency_key) > IDEMPOTENCY_KEY_MAX_LENGTH:
            # Cutting it would make two different keys one: refuse instead.
            raise ServiceError(
                "invalid_idempotency_key",
                f"The Idempotency-Key header is {len(idempotency_key)} characters long; the limit is "
                f"{IDEMPOTENCY_KEY_MAX_LENGTH} (a UUID is 36).",
            )
        data = EditCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        inputs = EditInputs(
            image=values["image"].read() if "image" in values else None,
            mask=values["mask"].read() if "mask" in values else None,
            upload_id=str(values["upload_id"]) if "upload_id" in values else None,
            mask_upload_id=str(values["mask_upload_id"]) if "mask_upload_id" in values else None,
            style_image=values["style_image"].read() if "style_image" in values else None,
            parent_id=str(values["parent_id"]) if "parent_id" in values else None,
            parent_output=values.get("parent_output", 0),
        )
        if "dry_run" in values:
            if "dry_run" in request.query_params and values["dry_run"] != dry_run:
                raise ServiceError(
                    "invalid_flag", "dry_run is in the query string and in the body with different values."
                )
            dry_run = values["dry_run"]
        if dry_run:
            return Response(edit_dry_run(user=request.user, spec=values["spec"], inputs=inputs))
        edit, created = edit_create(
            user=request.user, spec=values["spec"], inputs=inputs, idempotency_key=idempotency_key or None
        )
        wait = values.get("wait", settings.EDIT_WAIT_DEFAULT_SECONDS)
        edit = edit_wait(edit=edit, timeout=min(wait, settings.EDIT_WAIT_MAX_SECONDS))
        return _edit_response(edit, created=created)


class EditListApi(APIView):
    @extend_schema(operation_id="edits_list", parameters=[_ListQuery], responses={200: EditListOutput})
    def get(self, request):
        query = _ListQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        items, next_cursor = edits_list(user=request.user, **query.validated_data)
        results = [edit_present(edit_expire_if_stale(item), for_list=True) for item in items]
        return Response({"results": results, "next_cursor": next_cursor})


class EditDetailApi(APIView):
    @extend_schema(parameters=[_WaitQuery], responses={200: EditOutput, 202: EditOutput})
    def get(self, request, edit_id: str):
        query = _WaitQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        edit = edit_expire_if_stale(edit_get_owned(user=request.user, edit_id=edit_id))
        edit = edit_wait(edit=edit, timeout=query.validated_data["wait"])
        response = _edit_response(edit, created=False)
        if response.status_code == 202:
            response.status_code = 200  # a GET of a running edit is a plain 200 with its status
        return response


class EditDeleteApi(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request, edit_id: str):
        edit_delete(user=request.user, edit_id=edit_id)
        return Response(status=204)


# One URL serves two operations; these bind each path's operations together for the router.
class EditCollectionApi(EditCreateApi, EditListApi):
    """/api/v1/edits: POST creates, GET lists."""


class EditItemApi(EditDetailApi, EditDeleteApi):
    """/api/v1/edits/<id>: GET reads (optionally waiting), DELETE deletes."""


class ModelsApi(APIView):
    @extend_schema(responses={200: dict})
    def get(self, request):
        return Response(
            {
                "default": settings.BEDROCK_DEFAULT_FAMILY,
                "models": models_describe(),
                "tasks": tasks_describe(),
                "engine": engine_describe(),
                "url_lifetime_seconds": settings.PRESIGNED_URL_TTL_SECONDS,
            }
        )


class UsageApi(APIView):
    @extend_schema(
        responses={200: dict},
        description="Today's edits, images and estimated spend (USD), the limits, and when they reset (UTC).",
    )
    def get(self, request):
        return Response(usage_read(request.user))

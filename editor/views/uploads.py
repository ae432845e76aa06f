"""The uploads API: a presigned POST so a photo of up to 50 MB goes from the browser straight to S3."""

from __future__ import annotations

from rest_framework.response import Response
from rest_framework.views import APIView

from editor.openapi import extend_schema
from editor.serializers import UploadCreateInput, UploadOutput, UploadPreviewOutput
from editor.services.uploads import upload_create, upload_preview


class UploadsApi(APIView):
    @extend_schema(
        request=UploadCreateInput,
        responses={201: UploadOutput},
        description="Offer a direct upload: POST the returned fields and the file to `url` within "
        "`expires_in` seconds, then pass `upload_id` (or `mask_upload_id`) to POST /api/v1/edits.",
    )
    def post(self, request):
        data = UploadCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(upload_create(user=request.user, **data.validated_data), status=201)


class UploadPreviewApi(APIView):
    @extend_schema(
        request=None,
        responses={200: UploadPreviewOutput},
        description="A JPEG preview of an upload the browser cannot show itself (HEIC outside Safari).",
    )
    def post(self, request, upload_id: str):
        return Response(upload_preview(user=request.user, upload_id=upload_id))

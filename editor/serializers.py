"""Small input and output serializers for the API; no model serializers (there is no ORM)."""

from __future__ import annotations

from django.conf import settings
from rest_framework import serializers

from editor.errors import ServiceError
from editor.flags import StrictBooleanField
from editor.services.bedrock.catalog import ADAPTERS
from editor.services.bedrock.tasks import (
    ASPECT_RATIOS,
    PARAMETER_FIELDS,
    STRENGTH_FIELDS,
    TASK_RULES,
    TASKS,
    EditSpec,
)

# The input fields the typed request (EditSpec) carries besides the task and the model.
SPEC_FIELDS = ("prompt", "negative_prompt", *PARAMETER_FIELDS)


class SignInInput(serializers.Serializer):
    username = serializers.CharField(max_length=128)
    password = serializers.CharField(max_length=256, trim_whitespace=False, style={"input_type": "password"})


class RefreshInput(serializers.Serializer):
    refresh_token = serializers.CharField(max_length=8192)


class TokensOutput(serializers.Serializer):
    access_token = serializers.CharField()
    id_token = serializers.CharField()
    refresh_token = serializers.CharField(required=False)
    expires_in = serializers.IntegerField()
    token_type = serializers.CharField()


class MeOutput(serializers.Serializer):
    sub = serializers.CharField()
    username = serializers.CharField()
    groups = serializers.ListField(child=serializers.CharField())


class EditCreateInput(serializers.Serializer):
    """POST /api/v1/edits: multipart (image and mask files) or JSON (generate, continue from parent_id, or
    name direct uploads by upload_id and mask_upload_id)."""

    task = serializers.ChoiceField(choices=TASKS)
    image = serializers.FileField(required=False)
    mask = serializers.FileField(required=False)
    upload_id = serializers.UUIDField(
        required=False,
        help_text="A photo sent straight to storage (POST /api/v1/uploads), in place of image.",
    )
    mask_upload_id = serializers.UUIDField(
        required=False, help_text="A mask sent straight to storage, in place of mask."
    )
    style_image = serializers.FileField(required=False, help_text="Style transfer's second image: the style.")
    prompt = serializers.CharField(required=False, allow_blank=True, max_length=10_000, trim_whitespace=False)
    negative_prompt = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    model = serializers.ChoiceField(choices=list(ADAPTERS), required=False)
    seed = serializers.IntegerField(required=False, min_value=0, max_value=4_294_967_294)
    count = serializers.IntegerField(required=False, min_value=1, max_value=5, default=1)
    left = serializers.IntegerField(required=False, min_value=0, max_value=2000, default=0)
    right = serializers.IntegerField(required=False, min_value=0, max_value=2000, default=0)
    up = serializers.IntegerField(required=False, min_value=0, max_value=2000, default=0)
    down = serializers.IntegerField(required=False, min_value=0, max_value=2000, default=0)
    search_prompt = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    select_prompt = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    creativity = serializers.FloatField(required=False, min_value=0.1, max_value=1.0)
    grow_mask = serializers.IntegerField(required=False, min_value=0, max_value=20)
    control_strength = serializers.FloatField(required=False, min_value=0, max_value=1)
    fidelity = serializers.FloatField(required=False, min_value=0, max_value=1)
    style_strength = serializers.FloatField(required=False, min_value=0, max_value=1)
    composition_fidelity = serializers.FloatField(required=False, min_value=0, max_value=1)
    change_strength = serializers.FloatField(required=False, min_value=0, max_value=1)
    output_format = serializers.ChoiceField(choices=["png", "jpeg", "webp"], required=False, default="png")
    aspect_ratio = serializers.ChoiceField(choices=ASPECT_RATIOS, required=False, default="1:1")
    parent_id = serializers.UUIDField(required=False)
    parent_output = serializers.IntegerField(
        required=False, min_value=0, max_value=4, help_text="Which result of parent_id to edit (from 0)."
    )
    dry_run = StrictBooleanField(
        required=False,
        help_text="true: only check the request (as ?dry_run=1). Also 1/0 or false; anything else is a 400.",
    )
    wait = serializers.FloatField(
        required=False,
        min_value=0,
        max_value=25,
        help_text="Seconds to wait for the result before answering 202 (at most 25).",
    )

    def validate(self, attrs):
        """Check what the task needs (the task rules say), and the total upload; add the typed request as
        attrs["spec"]."""
        task = attrs["task"]
        rule = TASK_RULES[task]
        # An image (sent, or uploaded) with a parent_id edits that image and records the parent.
        sources = [name for name in ("image", "upload_id", "parent_id") if name in attrs]
        if "image" in attrs and "upload_id" in attrs:
            raise serializers.ValidationError({"upload_id": "Send one image: image or upload_id, not both."})
        if "mask" in attrs and "mask_upload_id" in attrs:
            raise serializers.ValidationError({"mask_upload_id": "Send one mask: mask or mask_upload_id."})
        if rule.image and not sources:
            raise serializers.ValidationError(
                {"image": f"The '{task}' task needs an image (or an upload_id, or a parent_id)."}
            )
        if rule.mask and "mask" not in attrs and "mask_upload_id" not in attrs:
            raise serializers.ValidationError(
                {"mask": f"The '{task}' task needs a mask: paint the area to change."}
            )
        if not rule.image and any(name in attrs for name in ("image", "mask", "upload_id", "mask_upload_id")):
            raise serializers.ValidationError(
                {"image": f"The '{task}' task makes an image from the prompt alone."}
            )
        for name in ("image", "mask", "style_image"):
            if name in attrs and attrs[name].size > settings.MAX_UPLOAD_BYTES:
                raise ServiceError(
                    "image_too_large",
                    f"The {name} is {attrs[name].size / 1e6:.1f} MB; files over "
                    f"{settings.MAX_UPLOAD_BYTES / 1e6:.1f} MB go straight to storage: POST /api/v1/uploads, "
                    f"then send its upload_id.",
                    status=413,
                )
        if rule.second_image and "style_image" not in attrs:
            raise serializers.ValidationError(
                {"style_image": f"The '{task}' task needs a second image: the style to apply."}
            )
        if not rule.second_image and "style_image" in attrs:
            raise serializers.ValidationError({"style_image": f"The '{task}' task takes one image only."})
        for name in STRENGTH_FIELDS:
            if name in attrs and name not in rule.fields:
                raise serializers.ValidationError({name: f"The '{task}' task takes no {name}."})
        uploaded = sum(attrs[name].size for name in ("image", "mask", "style_image") if name in attrs)
        if uploaded > settings.MAX_REQUEST_UPLOAD_BYTES:
            # Lambda takes 6 MB per request after API Gateway's base64: refuse clearly before it does.
            raise ServiceError(
                "request_too_large",
                f"The files together are {uploaded / 1e6:.1f} MB; the limit is "
                f"{settings.MAX_REQUEST_UPLOAD_BYTES / 1e6:.1f} MB.",
                status=413,
            )
        attrs["spec"] = EditSpec(
            task=task,
            model=attrs.get("model", ""),
            **{name: attrs[name] for name in SPEC_FIELDS if name in attrs},
        )
        return attrs


class EditErrorOutput(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class EditImageOutput(serializers.Serializer):
    url = serializers.URLField()
    download_url = serializers.URLField(allow_null=True, help_text="Only on a single edit, not in lists.")
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    content_type = serializers.CharField()
    seed = serializers.IntegerField(allow_null=True)
    content_credentials = serializers.ChoiceField(
        choices=["signed", "development", "unsigned"],
        allow_null=True,
        help_text="The image's C2PA manifest: signed, development (signed with the local stack's "
        "certificate) or unsigned (signing failed and C2PA_ON_SIGNING_FAILURE=unsigned); null on older "
        "results.",
    )
    jpeg_quality = serializers.IntegerField(
        allow_null=True, help_text="The JPEG quality the app re-encoded a photo's result at, if it did."
    )


class ModelSizeOutput(serializers.Serializer):
    width = serializers.IntegerField()
    height = serializers.IntegerField()


class EditOutput(serializers.Serializer):
    id = serializers.CharField()
    status = serializers.ChoiceField(choices=["PENDING", "RUNNING", "SUCCEEDED", "FAILED"])
    task = serializers.CharField()
    model = serializers.CharField()
    model_id = serializers.CharField()
    prompt = serializers.CharField(allow_blank=True)
    negative_prompt = serializers.CharField(allow_null=True)
    parameters = serializers.DictField()
    created_at = serializers.CharField()
    started_at = serializers.CharField(allow_null=True)
    finished_at = serializers.CharField(allow_null=True)
    latency_ms = serializers.IntegerField(allow_null=True)
    image_reference = serializers.CharField(allow_null=True)
    mask_reference = serializers.CharField(allow_null=True)
    input_url = serializers.URLField(allow_null=True)
    mask_url = serializers.URLField(allow_null=True, help_text="Only on a single edit, not in lists.")
    input_width = serializers.IntegerField(allow_null=True)
    input_height = serializers.IntegerField(allow_null=True)
    model_size = ModelSizeOutput(
        allow_null=True, help_text="The size the model worked at, when it saw the photo scaled down."
    )
    outputs = EditImageOutput(many=True)
    filtered_count = serializers.IntegerField()
    parent_id = serializers.CharField(allow_null=True)
    batch_id = serializers.CharField(allow_null=True, help_text="The batch this edit is an item of.")
    batch_index = serializers.IntegerField(allow_null=True, help_text="Its place in the batch's items.")
    error = EditErrorOutput(allow_null=True)
    engine = serializers.CharField(allow_null=True)
    engine_note = serializers.CharField(allow_null=True)
    route_note = serializers.CharField(
        allow_null=True, help_text="Why another model ran than the one asked for."
    )
    estimated_cost_usd = serializers.FloatField(allow_null=True)


class EditListOutput(serializers.Serializer):
    results = EditOutput(many=True)
    next_cursor = serializers.CharField(allow_null=True)


class UploadCreateInput(serializers.Serializer):
    """POST /api/v1/uploads: what the browser is about to send straight to S3."""

    content_type = serializers.CharField(
        max_length=100, help_text="image/jpeg, image/png, image/webp or image/heic"
    )
    size = serializers.IntegerField(min_value=1, help_text="The file's size in bytes.")
    filename = serializers.CharField(max_length=255, required=False, allow_blank=True)


class UploadOutput(serializers.Serializer):
    upload_id = serializers.CharField()
    url = serializers.URLField(help_text="POST the fields, then the file as the last part named 'file'.")
    fields = serializers.DictField(child=serializers.CharField())
    expires_in = serializers.IntegerField(help_text="Seconds the POST may start within.")
    max_bytes = serializers.IntegerField()
    size = serializers.IntegerField(
        help_text="The declared size: S3 takes a file of exactly this many bytes."
    )


class UploadPreviewOutput(serializers.Serializer):
    url = serializers.URLField(help_text="A JPEG of the photo, at most 2,048 pixels a side; lives minutes.")
    width = serializers.IntegerField(help_text="The photo's own width (upright), which a mask must match.")
    height = serializers.IntegerField()

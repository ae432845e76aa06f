"""Input of the batches API: a task and its options once, and the uploads to apply them to."""

from __future__ import annotations

import uuid

from django.conf import settings
from rest_framework import serializers

from editor.serializers import EditCreateInput
from editor.services.bedrock.tasks import TASK_RULES, TASKS

# What each item names itself, or what a batch cannot carry (no waiting, no files in a JSON body).
ITEM_FIELDS = ("upload_id", "mask_upload_id")
NOT_PARAMETERS = ("task", "image", "mask", "style_image", "parent_id", "parent_output", "wait", *ITEM_FIELDS)


def _item_check(index: int, item) -> dict:
    if not isinstance(item, dict):
        raise serializers.ValidationError({"items": f"Item {index} must be an object with an upload_id."})
    unknown = sorted(set(item) - set(ITEM_FIELDS))
    if unknown:
        raise serializers.ValidationError(
            {
                "items": f"Item {index} has unknown field(s) {', '.join(unknown)}; an item has "
                f"{' and '.join(ITEM_FIELDS)}."
            }
        )
    checked = {}
    for name in ITEM_FIELDS:
        if name not in item or item[name] in (None, ""):
            continue
        try:
            checked[name] = str(uuid.UUID(str(item[name])))
        except ValueError:
            raise serializers.ValidationError(
                {"items": f"Item {index}: {name} is not an upload id (POST /api/v1/uploads gives one)."}
            ) from None
    if "upload_id" not in checked:
        raise serializers.ValidationError({"items": f"Item {index} needs an upload_id."})
    return checked


class BatchCreateInput(serializers.Serializer):
    """POST /api/v1/batches (JSON): {task, parameters: {...the edit's options}, items: [{upload_id,
    mask_upload_id?}]}. Each item becomes one edit, as if POSTed to /api/v1/edits with these options."""

    task = serializers.ChoiceField(choices=TASKS)
    parameters = serializers.DictField(required=False, default=dict)
    items = serializers.ListField(child=serializers.JSONField(), allow_empty=False)

    def validate(self, attrs):
        task, parameters, raw_items = attrs["task"], attrs["parameters"], attrs["items"]
        if len(raw_items) > settings.BATCH_MAX_ITEMS:
            raise serializers.ValidationError(
                {
                    "items": f"A batch holds at most {settings.BATCH_MAX_ITEMS} items; this one has "
                    f"{len(raw_items)}. Split it."
                }
            )
        refused = sorted(set(parameters) & set(NOT_PARAMETERS))
        if refused:
            raise serializers.ValidationError(
                {
                    "parameters": f"parameters cannot hold {', '.join(refused)}: each item names its own "
                    "uploads."
                }
            )
        items = [_item_check(index, item) for index, item in enumerate(raw_items)]
        rule = TASK_RULES[task]
        if not rule.image or rule.second_image:
            raise serializers.ValidationError(
                {"task": f"The '{task}' task cannot run as a batch: a batch applies one edit to each upload."}
            )
        for index, item in enumerate(items):
            if rule.mask and "mask_upload_id" not in item:
                raise serializers.ValidationError(
                    {"items": f"Item {index} needs a mask_upload_id: the '{task}' task edits a painted area."}
                )
        # The options are checked once, exactly as a single edit's (the first item stands for all).
        single = EditCreateInput(data={"task": task, **parameters, **items[0]})
        if not single.is_valid():
            raise serializers.ValidationError({"parameters": single.errors})
        attrs["spec"] = single.validated_data["spec"]
        attrs["items"] = items
        return attrs

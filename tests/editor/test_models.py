"""The edits table: created with its history index, items round-trip, history is a newest-first Query."""

from __future__ import annotations

import uuid

import pytest

from editor.models import FAILED, Batch, ImageEdit, OutputImage, model_from_item, tables_create

pytestmark = pytest.mark.usefixtures("local_stack")


def make_edit(user_id: str, timestamp: str, **fields) -> ImageEdit:
    edit = ImageEdit(
        id=str(uuid.uuid4()),
        user_id=user_id,
        request_timestamp=timestamp,
        prompt="a cat",
        image_reference=f"users/{user_id}/edits/x/input.png",
        **fields,
    )
    edit.save()
    return edit


def test_table_has_the_history_index_on_demand_with_ttl_and_pitr():
    client = ImageEdit._get_connection().connection.client
    table = client.describe_table(TableName=ImageEdit.Meta.table_name)["Table"]
    assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    indexes = {index["IndexName"]: index for index in table["GlobalSecondaryIndexes"]}
    index = indexes["user_id-request_timestamp-index"]
    assert index["KeySchema"] == [
        {"AttributeName": "user_id", "KeyType": "HASH"},
        {"AttributeName": "request_timestamp", "KeyType": "RANGE"},
    ]
    active = indexes["active-request_timestamp-index"]
    assert active["Projection"]["ProjectionType"] == "KEYS_ONLY"
    assert index["Projection"]["ProjectionType"] == "ALL"
    ttl = client.describe_time_to_live(TableName=ImageEdit.Meta.table_name)["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "expires_at"
    backups = client.describe_continuous_backups(TableName=ImageEdit.Meta.table_name)
    assert (
        backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"]
        == "ENABLED"
    )


def test_create_tables_is_idempotent():
    assert tables_create() == []


def test_item_round_trips_every_field():
    edit = make_edit(
        "user-rt",
        "2026-11-24T10:00:00.000000Z",
        task="inpaint",
        model_id="stability.stable-image-inpaint-v1:0",
        negative_prompt="blurry",
        mask_reference="users/user-rt/edits/x/mask.png",
        parent_id="parent-1",
        parameters={"seed": 7, "grow_mask": 5},
        status=FAILED,
        error_code="throttled",
        error_message="slow down",
        latency_ms=1234,
        estimated_cost_usd=0.07,
        outputs=[
            OutputImage(
                key="users/user-rt/edits/x/output-0.png",
                content_type="image/png",
                width=64,
                height=48,
                seed=7,
            )
        ],
    )
    loaded = ImageEdit.get(edit.id, consistent_read=True)
    assert loaded.attribute_values.keys() == edit.attribute_values.keys()
    assert loaded.parameters == {"seed": 7, "grow_mask": 5}
    assert loaded.outputs[0].key == "users/user-rt/edits/x/output-0.png"
    assert (loaded.outputs[0].width, loaded.outputs[0].height, loaded.outputs[0].seed) == (64, 48, 7)
    assert (loaded.status, loaded.error_code, loaded.latency_ms) == (FAILED, "throttled", 1234)


def _every_attribute_set(model_class) -> dict:
    """A value for every attribute of the model (numbers, JSON, text), as a full item would carry."""
    values = {}
    for name, attribute in model_class.get_attributes().items():
        kind = type(attribute).__name__
        if kind == "NumberAttribute":
            values[name] = 7
        elif kind == "JSONAttribute":
            values[name] = {"seed": 7, "nested": {"a": [1, 2]}}
        elif kind == "OutputImagesAttribute":
            values[name] = [OutputImage(key="k/output-0.png", content_type="image/png", width=3, height=2)]
        elif kind == "TTLAttribute":
            continue  # set by the model's own save where it has one
        else:
            values[name] = f"{name}-value"
    return values


@pytest.mark.parametrize("model_class", [ImageEdit, Batch])
@pytest.mark.parametrize("full", [True, False], ids=["every attribute", "keys only"])
def test_an_item_built_for_a_page_equals_pynamodbs_own_from_raw_data(model_class, full):
    keys = {"id": "an-id", "request_timestamp": "2026-11-24T10:00:00.000000Z"}
    model = model_class(**(_every_attribute_set(model_class) | keys if full else keys))
    item = model.serialize(null_check=False)
    built, reference = model_from_item(model_class, item), model_class.from_raw_data(item)
    assert type(built) is model_class
    assert built.attribute_values == reference.attribute_values
    assert built.attribute_values  # not vacuously equal: the item's values (and the defaults) are there
    assert built.id == "an-id"


def test_history_is_newest_first_and_only_queries():
    user_id = f"user-{uuid.uuid4().hex[:6]}"
    stamps = ["2026-11-24T10:00:00.000000Z", "2026-11-24T12:00:00.000000Z", "2026-11-24T11:00:00.000000Z"]
    for stamp in stamps:
        make_edit(user_id, stamp)
    make_edit("someone-else", "2026-11-24T13:00:00.000000Z")

    operations = []

    def record(model, **kwargs):
        operations.append(model.name)

    client = ImageEdit._get_connection().connection.client
    client.meta.events.register("before-call.dynamodb.*", record)
    try:
        items = list(ImageEdit.by_user.query(user_id, scan_index_forward=False))
    finally:
        client.meta.events.unregister("before-call.dynamodb.*", record)
    assert [item.request_timestamp for item in items] == sorted(stamps, reverse=True)
    assert {item.user_id for item in items} == {user_id}
    assert operations and set(operations) == {"Query"}

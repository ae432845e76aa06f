"""PynamoDB models: one per table, with its indexes beside it; names and host come from settings."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, fields

from django.conf import settings
from pynamodb.attributes import (
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

PENDING, RUNNING, SUCCEEDED, FAILED = "PENDING", "RUNNING", "SUCCEEDED", "FAILED"
ACTIVE_STATUSES = (PENDING, RUNNING)
# ISO-8601 UTC with microseconds: sorts as text, which the history index relies on.
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def timestamp_now() -> str:
    return dt.datetime.now(dt.UTC).strftime(TIMESTAMP_FORMAT)


def timestamp_format(moment: dt.datetime) -> str:
    return moment.strftime(TIMESTAMP_FORMAT)


def timestamp_parse(value: str) -> dt.datetime:
    return dt.datetime.strptime(value, TIMESTAMP_FORMAT).replace(tzinfo=dt.UTC)


def table_client(model_class):
    """The botocore DynamoDB client PynamoDB holds for the model's table (its endpoint, region, timeouts)."""
    return model_class._get_connection().connection.client


def model_from_item(model_class, item: dict):
    """A model instance from a raw DynamoDB item, as PynamoDB's `from_raw_data` makes it, built straight
    into its attribute values: a page of 20 edits is built ~5 x faster than through the descriptors that
    `from_raw_data` sets every attribute (and every default) with. tests/editor/test_models.py holds the
    two equal for every model read in pages."""
    values = {}
    for name, attribute in model_class.get_attributes().items():
        raw = item.get(attribute.attr_name)
        if raw and "NULL" not in raw:
            values[name] = attribute.deserialize(attribute.get_value(raw))
        elif attribute.default is not None:
            values[name] = attribute.default() if callable(attribute.default) else attribute.default
    instance = model_class.__new__(model_class)
    instance.attribute_values = values
    return instance


def condition_failed(exc: Exception) -> bool:
    """Whether a PynamoDB write failed on its condition (not on DynamoDB being unavailable)."""
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"


class UserHistoryIndex(GlobalSecondaryIndex):
    """A person's edits, newest first: query by user_id, sorted by request_timestamp."""

    class Meta:
        index_name = "user_id-request_timestamp-index"
        projection = AllProjection()
        billing_mode = "PAY_PER_REQUEST"

    user_id = UnicodeAttribute(hash_key=True)
    request_timestamp = UnicodeAttribute(range_key=True)


class ActiveEditsIndex(GlobalSecondaryIndex):
    """Sparse: only PENDING/RUNNING edits carry `active`, so finding stuck ones is a Query, not a Scan."""

    class Meta:
        index_name = "active-request_timestamp-index"
        projection = KeysOnlyProjection()
        billing_mode = "PAY_PER_REQUEST"

    active = UnicodeAttribute(hash_key=True)
    request_timestamp = UnicodeAttribute(range_key=True)


ACTIVE_MARK = "ACTIVE"


class VersionTreeIndex(GlobalSecondaryIndex):
    """One photo's versions, newest first: query by tree_key (<user sub>#<root edit id>)."""

    class Meta:
        index_name = "tree_key-request_timestamp-index"
        projection = AllProjection()
        billing_mode = "PAY_PER_REQUEST"

    tree_key = UnicodeAttribute(hash_key=True)
    request_timestamp = UnicodeAttribute(range_key=True)


class BatchIndex(GlobalSecondaryIndex):
    """Batches: a batch's edits (batch_key = the batch id) and a person's batches (batch_key =
    owner#<sub>), each newest first. Sparse: only batch records and the edits of a batch carry it."""

    class Meta:
        index_name = "batch_key-request_timestamp-index"
        projection = AllProjection()
        billing_mode = "PAY_PER_REQUEST"

    batch_key = UnicodeAttribute(hash_key=True)
    request_timestamp = UnicodeAttribute(range_key=True)


class JSONAttribute(UnicodeAttribute):
    """A small dict stored as a JSON string: far cheaper to read than a DynamoDB map in PynamoDB."""

    def serialize(self, value):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))

    def deserialize(self, value):
        return json.loads(value)


@dataclass(frozen=True)
class OutputImage:
    """One generated image: where it lives in S3 and what it is."""

    key: str
    content_type: str
    width: int
    height: int
    size_bytes: int | None = None
    seed: int | None = None
    # Content Credentials: "signed", "development" (signed with the local stack's certificate), "unsigned".
    credentials: str | None = None
    jpeg_quality: int | None = None  # set when the app re-encoded a photo's result as JPEG


class OutputImagesAttribute(UnicodeAttribute):
    """The edit's output images, as JSON: a page of history reads them ~10x faster than DynamoDB maps."""

    def serialize(self, value):
        return json.dumps([asdict(output) for output in value], separators=(",", ":"))

    def deserialize(self, value):
        known = {field.name for field in fields(OutputImage)}  # tolerate fields a later version adds
        return [
            OutputImage(**{k: v for k, v in output.items() if k in known}) for output in json.loads(value)
        ]


class ImageEdit(Model):
    """One edit request (ImageGenerationTable): metadata only, the bytes live in S3."""

    class Meta:
        table_name = "ImageGenerationTable"
        billing_mode = "PAY_PER_REQUEST"

    id = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()
    request_timestamp = UnicodeAttribute()
    prompt = UnicodeAttribute(default="")
    image_reference = UnicodeAttribute(null=True)
    status = UnicodeAttribute(default=PENDING)

    task = UnicodeAttribute(default="inpaint")
    model_family = UnicodeAttribute(null=True)
    model_id = UnicodeAttribute(null=True)
    negative_prompt = UnicodeAttribute(null=True)
    mask_reference = UnicodeAttribute(null=True)
    style_reference = UnicodeAttribute(null=True)  # style transfer's second image
    route_note = UnicodeAttribute(null=True)  # why another model ran than the one asked for (lifecycle)
    input_content_type = UnicodeAttribute(null=True)
    input_width = NumberAttribute(null=True)
    input_height = NumberAttribute(null=True)
    # The size the model worked at, when it saw the photo (or a crop of it) scaled down.
    model_width = NumberAttribute(null=True)
    model_height = NumberAttribute(null=True)
    outputs = OutputImagesAttribute(default=list)
    parameters = JSONAttribute(default=dict)
    parent_id = UnicodeAttribute(null=True)
    idempotency_key = UnicodeAttribute(null=True)
    engine = UnicodeAttribute(null=True)
    engine_note = UnicodeAttribute(null=True)
    filtered_count = NumberAttribute(default=0)
    error_code = UnicodeAttribute(null=True)
    error_message = UnicodeAttribute(null=True)
    started_at = UnicodeAttribute(null=True)
    finished_at = UnicodeAttribute(null=True)
    latency_ms = NumberAttribute(null=True)
    estimated_cost_usd = NumberAttribute(null=True)
    # ACTIVE_MARK while PENDING or RUNNING, removed at the terminal state (see ActiveEditsIndex).
    active = UnicodeAttribute(null=True)
    # The version tree: the first edit of the photo (itself for a first edit), and <user>#<root> to query.
    root_id = UnicodeAttribute(null=True)
    tree_key = UnicodeAttribute(null=True)
    # An item of a batch: the batch's id (also batch_key, for BatchIndex) and the item's place in it.
    batch_id = UnicodeAttribute(null=True)
    batch_key = UnicodeAttribute(null=True)
    batch_index = NumberAttribute(null=True)
    # On a root: how many versions its tree has, itself included. Each new version adds 1 in the
    # transaction that writes it; version_counted marks a count that is whole (set on new roots; on a root
    # from before the counter when the history first counts its tree, editor/selectors/versions.py).
    version_count = NumberAttribute(null=True)
    version_counted = NumberAttribute(null=True)
    # What each output's Content Credentials said when it was stored (editor/services/c2pa/reading.py),
    # with when that was: the detail page shows it, and reads the image again only when asked to.
    credentials_panels = JSONAttribute(null=True)

    by_user = UserHistoryIndex()
    active_edits = ActiveEditsIndex()
    by_tree = VersionTreeIndex()
    by_batch = BatchIndex()


BATCH_RUNNING, BATCH_COMPLETED, BATCH_CANCELLED = "RUNNING", "COMPLETED", "CANCELLED"
# Marks a batch that still has work in the sparse active index (the local stack requeues it on start).
ACTIVE_BATCH_MARK = "ACTIVE_BATCH"


def batch_record_id(batch_id: str) -> str:
    """A batch's item id in the edits table (its own prefix: never mistaken for an edit's UUID)."""
    return f"batch#{batch_id}"


class Batch(Model):
    """Many edits asked at once (id batch#<uuid>, in the edits table): what to do, to how many uploads,
    and what was charged. Its items (upload ids) are a JSON manifest in S3; each becomes an edit."""

    class Meta:
        table_name = "ImageGenerationTable"
        billing_mode = "PAY_PER_REQUEST"

    id = UnicodeAttribute(hash_key=True)
    owner = UnicodeAttribute()  # the Cognito sub; not user_id, so batches stay out of the edit history
    username = UnicodeAttribute()
    batch_key = UnicodeAttribute()  # owner#<sub>, for the person's list of batches
    request_timestamp = UnicodeAttribute()
    status = UnicodeAttribute(default=BATCH_RUNNING)
    task = UnicodeAttribute()
    parameters = JSONAttribute(default=dict)  # as asked (validated), applied to every item
    total = NumberAttribute()
    item_cost_usd = NumberAttribute(default=0)  # charged per item up front
    item_images = NumberAttribute(default=1)
    charged_day = UnicodeAttribute()  # the UTC day (YYYY-MM-DD) whose quota counter took the batch
    manifest_key = UnicodeAttribute()
    active = UnicodeAttribute(null=True)
    cancelled_at = UnicodeAttribute(null=True)
    finished_at = UnicodeAttribute(null=True)
    counts = JSONAttribute(null=True)  # per state, recorded once every item ended

    active_batches = ActiveEditsIndex()
    by_batch = BatchIndex()


class IdempotencyRecord(Model):
    """Maps (user, Idempotency-Key) to the edit it created; lives in the edits table, outside the index.

    It has no user_id attribute, so the sparse history index never sees it; expires_at lets DynamoDB's
    TTL delete it after a day.
    """

    class Meta:
        table_name = "ImageGenerationTable"
        billing_mode = "PAY_PER_REQUEST"

    id = UnicodeAttribute(hash_key=True)
    edit_id = UnicodeAttribute()
    request_fingerprint = UnicodeAttribute()
    expires_at = TTLAttribute()


class QuotaCounter(Model):
    """Edits a person made on one UTC day (id quota#<sub>#<date>), counted atomically; expires by TTL.

    The deployment's spend in one UTC month uses the same shape (id spend#<yyyy-mm>)."""

    class Meta:
        table_name = "ImageGenerationTable"
        billing_mode = "PAY_PER_REQUEST"

    id = UnicodeAttribute(hash_key=True)
    used = NumberAttribute(null=True)
    images = NumberAttribute(null=True)  # images asked for (a candidate each)
    spent_micro_usd = NumberAttribute(null=True)  # estimated spend admitted, in millionths of a dollar
    expires_at = TTLAttribute(null=True)


class FailureCounter(Model):
    """Failed sign-in or recovery steps of one client address, or of one username from one address, in one
    time window (id authfail#<signin|recovery>#<scope>#<hash>#<window>), counted atomically; TTL after it."""

    class Meta:
        table_name = "ImageGenerationTable"
        billing_mode = "PAY_PER_REQUEST"

    id = UnicodeAttribute(hash_key=True)
    failures = NumberAttribute(null=True)
    expires_at = TTLAttribute(null=True)


class WebSession(Model):
    """A browser session (ImageEditSessionTable): the Cognito tokens stay server-side, never in a cookie."""

    class Meta:
        table_name = "ImageEditSessionTable"
        billing_mode = "PAY_PER_REQUEST"

    session_key = UnicodeAttribute(hash_key=True)
    session_data = UnicodeAttribute()
    expires_at = TTLAttribute()


def bind_tables() -> None:
    """Point every model at the configured table, region and endpoint; drop cached connections."""
    for model, table_name in (
        (ImageEdit, settings.DYNAMODB_TABLE),
        (Batch, settings.DYNAMODB_TABLE),
        (IdempotencyRecord, settings.DYNAMODB_TABLE),
        (QuotaCounter, settings.DYNAMODB_TABLE),
        (FailureCounter, settings.DYNAMODB_TABLE),
        (WebSession, settings.SESSION_TABLE),
    ):
        model.Meta.table_name = table_name
        model.Meta.region = settings.AWS_REGION
        model.Meta.host = settings.AWS_ENDPOINT_URL
        # Fail fast instead of PynamoDB's default of long retries; the Lambda timeout is short.
        model.Meta.connect_timeout_seconds = 3
        model.Meta.read_timeout_seconds = 10
        model.Meta.max_retry_attempts = 3
        model._connection = None


def tables_create(*, wait: bool = True) -> list[str]:
    """Create the tables that do not exist yet, with TTL on expires_at and PITR; return those created.

    Tables that exist are left alone: in AWS the CloudFormation stack made and configured them, and the
    Lambda role may describe them but not reconfigure them.
    """
    created = []
    for model in (ImageEdit, WebSession):
        if model.exists():
            indexes_add_missing(model)
            continue
        model.create_table(wait=wait)
        client = table_client(model)
        client.update_time_to_live(
            TableName=model.Meta.table_name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"},
        )
        # Point-in-time recovery: a bad deploy or a mistaken delete must be recoverable.
        client.update_continuous_backups(
            TableName=model.Meta.table_name,
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
        )
        created.append(model.Meta.table_name)
    return created


def indexes_add_missing(model) -> list[str]:
    """Add the model's global indexes that an existing table lacks (local state from an older version);
    in AWS the stack adds them, and this finds none missing."""
    client = table_client(model)
    table = client.describe_table(TableName=model.Meta.table_name)["Table"]
    present = {index["IndexName"] for index in table.get("GlobalSecondaryIndexes", [])}
    schema = model._get_schema()
    added = []
    for index in schema.get("global_secondary_indexes", []):
        if index["index_name"] in present:
            continue
        names = {key["AttributeName"] for key in index["key_schema"]}
        client.update_table(
            TableName=model.Meta.table_name,
            AttributeDefinitions=[a for a in schema["attribute_definitions"] if a["AttributeName"] in names],
            GlobalSecondaryIndexUpdates=[
                {
                    "Create": {
                        "IndexName": index["index_name"],
                        "KeySchema": index["key_schema"],
                        "Projection": index["projection"],
                    }
                }
            ],
        )
        added.append(index["index_name"])
    return added

"""Pages of one index partition, newest first, behind an opaque cursor that only resumes that partition."""

from __future__ import annotations

import base64
import binascii
import json

from botocore.exceptions import BotoCoreError, ClientError

from editor.errors import ServiceError
from editor.models import model_from_item, table_client

MAX_KEY = 160  # characters of one key attribute


def cursor_encode(last_key: dict | None) -> str | None:
    if not last_key:
        return None
    return base64.urlsafe_b64encode(json.dumps(last_key, separators=(",", ":")).encode()).decode().rstrip("=")


def _invalid_cursor() -> ServiceError:
    return ServiceError("invalid_cursor", "The cursor is not valid; start from the first page.")


def cursor_decode(cursor: str, *, names: set[str], partition: tuple[str, str]) -> dict:
    """A cursor is a position in one partition of one index: exactly its key's names, and that partition's
    value (a cursor made for someone else's list, or edited by hand, is refused)."""
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError) as exc:
        raise _invalid_cursor() from exc
    well_formed = (
        isinstance(key, dict)
        and set(key) == names
        and all(isinstance(key[name], dict) and set(key[name]) == {"S"} for name in names)
        and all(isinstance(key[name]["S"], str) and 0 < len(key[name]["S"]) <= MAX_KEY for name in names)
    )
    partition_name, partition_value = partition
    if not well_formed or key[partition_name]["S"] != partition_value:
        raise _invalid_cursor()
    return key


def page_query(
    index,
    *,
    partition: tuple[str, str],
    names: set[str],
    limit: int,
    cursor: str | None,
    unavailable: ServiceError,
) -> tuple[list, str | None]:
    """One page of `index`'s partition, newest first, and the next page's cursor (None at the end).

    One Query on the model's own botocore client, its items built straight into models: PynamoDB's
    result iterator and per-attribute descriptors cost as much as the Query's own client side.
    """
    model = index._model  # PynamoDB keeps the model its index was declared on here
    request = {
        "TableName": model.Meta.table_name,
        "IndexName": index.Meta.index_name,
        "KeyConditionExpression": "#partition = :partition",
        "ExpressionAttributeNames": {"#partition": partition[0]},
        "ExpressionAttributeValues": {":partition": {"S": partition[1]}},
        "ScanIndexForward": False,
        "Limit": limit,
    }
    if cursor:
        request["ExclusiveStartKey"] = cursor_decode(cursor, names=names, partition=partition)
    try:
        response = table_client(model).query(**request)
    except (BotoCoreError, ClientError) as exc:
        raise unavailable from exc
    items = [model_from_item(model, item) for item in response.get("Items", [])]
    return items, cursor_encode(response.get("LastEvaluatedKey"))

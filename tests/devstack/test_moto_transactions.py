"""The local stack's TransactWriteItems: all or nothing, without copying whole tables to roll back."""

from __future__ import annotations

import time
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError
from django.conf import settings


@pytest.fixture
def dynamodb(local_stack):
    return boto3.client("dynamodb", region_name="us-east-1", endpoint_url=local_stack.moto_url)


def _get(dynamodb, key: str) -> dict | None:
    return dynamodb.get_item(
        TableName=settings.DYNAMODB_TABLE, Key={"id": {"S": key}}, ConsistentRead=True
    ).get("Item")


def test_a_cancelled_transaction_leaves_every_item_as_it_was(dynamodb):
    table = settings.DYNAMODB_TABLE
    counter, new, existing = (f"tx-{name}-{uuid.uuid4()}" for name in ("counter", "new", "existing"))
    dynamodb.put_item(TableName=table, Item={"id": {"S": existing}, "n": {"N": "1"}})
    dynamodb.put_item(TableName=table, Item={"id": {"S": counter}, "used": {"N": "5"}})
    with pytest.raises(ClientError) as cancelled:
        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": {"id": {"S": new}}}},
                {
                    "Update": {
                        "TableName": table,
                        "Key": {"id": {"S": existing}},
                        "UpdateExpression": "SET n = :two",
                        "ExpressionAttributeValues": {":two": {"N": "2"}},
                    }
                },
                {
                    "Update": {
                        "TableName": table,
                        "Key": {"id": {"S": counter}},
                        "UpdateExpression": "ADD used :one",
                        "ConditionExpression": "used < :limit",
                        "ExpressionAttributeValues": {":one": {"N": "1"}, ":limit": {"N": "5"}},
                    }
                },
            ]
        )
    reasons = [reason["Code"] for reason in cancelled.value.response["CancellationReasons"]]
    assert reasons == ["None", "None", "ConditionalCheckFailed"]
    assert _get(dynamodb, new) is None  # the put was undone
    assert _get(dynamodb, existing)["n"] == {"N": "1"}  # the update was undone
    assert _get(dynamodb, counter)["used"] == {"N": "5"}


def test_a_transaction_costs_the_same_in_a_big_table(dynamodb):
    table = settings.DYNAMODB_TABLE

    def timed_transaction() -> float:
        started = time.perf_counter()
        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": {"id": {"S": f"tx-{uuid.uuid4()}"}}}} for _ in range(4)
            ]
        )
        return time.perf_counter() - started

    small = min(timed_transaction() for _ in range(3))
    for start in range(0, 3000, 25):  # moto used to deep-copy all of these for every transaction item
        dynamodb.batch_write_item(
            RequestItems={
                table: [
                    {"PutRequest": {"Item": {"id": {"S": f"filler-{start + index}-{uuid.uuid4()}"}}}}
                    for index in range(25)
                ]
            }
        )
    big = min(timed_transaction() for _ in range(3))
    print(f"4-item transaction: {small * 1000:.1f} ms, then {big * 1000:.1f} ms with 3,000 more items")
    assert big < max(3 * small, 0.05), (small, big)

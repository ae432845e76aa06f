"""moto's TransactWriteItems, rolled back item by item instead of by copying whole tables.

moto 5 deep-copies every table a transaction touches, once per item in it, before it starts (its
rollback): O(table size) per edit, seconds per admission once the local state holds thousands of edits,
and timeouts under concurrent requests. This snapshot keeps the items the transaction names and puts them
back if it is cancelled, which is all the rollback needs. It runs under the stack's write lock
(devstack/persistence.py), like every write to moto, so nothing else sees the tables meanwhile.
"""

from __future__ import annotations

import copy
import functools


def _key_of(table, op: dict):
    from moto.dynamodb.models.dynamo_type import DynamoType

    raw = op.get("Key") or op.get("Item") or {}
    hash_value = raw.get(table.hash_key_attr)
    range_value = raw.get(table.range_key_attr) if table.range_key_attr else None
    return (
        DynamoType(hash_value) if hash_value is not None else None,
        DynamoType(range_value) if range_value is not None else None,
    )


def _snapshot(backend, transact_items: list[dict]) -> list[tuple]:
    saved = []
    for entry in transact_items:
        for operation in entry.values():
            table = backend.tables.get(operation.get("TableName"))
            if table is None:
                continue
            hash_key, range_key = _key_of(table, operation)
            if hash_key is None:
                continue
            item = table.get_item(hash_key, range_key) if (range_key or not table.has_range_key) else None
            saved.append((table, hash_key, range_key, copy.deepcopy(item)))
    return saved


def _restore(saved: list[tuple]) -> None:
    for table, hash_key, range_key, item in reversed(saved):
        if range_key is not None:
            rows = table.items.setdefault(hash_key, {})
            if item is None:
                rows.pop(range_key, None)
            else:
                rows[range_key] = item
        elif item is None:
            table.items.pop(hash_key, None)
        else:
            table.items[hash_key] = item


def _table_as_is(table, memo):
    return table  # moto's own rollback copy: made a no-op; _restore puts the named items back


def moto_transactions_patch() -> None:
    """Install the item-level rollback (idempotent)."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    original = DynamoDBBackend.transact_write_items
    if getattr(original, "_item_level_rollback", False):
        return

    @functools.wraps(original)
    def transact_write_items(self, transact_items):
        saved = _snapshot(self, transact_items)
        Table.__deepcopy__ = _table_as_is
        try:
            return original(self, transact_items)
        except Exception:
            _restore(saved)
            raise
        finally:
            del Table.__deepcopy__

    transact_write_items._item_level_rollback = True
    DynamoDBBackend.transact_write_items = transact_write_items

"""Damaged local state is contained: the stack starts, says what it skipped, keeps everything before it."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from devstack.journal import HEADER, encode, journal_read
from devstack.persistence import StateStore
from tests.devstack.running import script_run

pytestmark = pytest.mark.slow  # starts `make run` on damaged state

ROOT = Path(__file__).resolve().parent.parent.parent

# A fresh process per run: moto's backends are process-wide.
SCRIPT = r"""
import json, sys
from pathlib import Path

from devstack.journal import HEADER, encode, journal_read
from devstack.persistence import StateStore
import boto3
from devstack.stack import LocalStack, REGION

stack = LocalStack(state_dir=Path(sys.argv[1])).start()
client = lambda service: boto3.client(service, region_name=REGION, endpoint_url=stack.moto_url,
                                      aws_access_key_id="testing", aws_secret_access_key="testing")
dynamodb, s3 = client("dynamodb"), client("s3")
bucket = stack.app_environment()["S3_BUCKET"]
if sys.argv[2] == "write":
    dynamodb.create_table(TableName="Things", BillingMode="PAY_PER_REQUEST",
                          AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                          KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
    for number in range(40):
        dynamodb.put_item(TableName="Things", Item={"id": {"S": f"thing-{number}"}, "n": {"N": str(number)}})
        if number % 8 == 0:
            s3.put_object(Bucket=bucket, Key=f"objects/{number}", Body=f"bytes of {number}".encode())
tables = dynamodb.list_tables()["TableNames"]
items = {}
if "Things" in tables:
    items = {i["id"]["S"]: i["n"]["N"] for i in dynamodb.scan(TableName="Things")["Items"]}
objects = {o["Key"]: s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read().decode()
           for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}
print(json.dumps({"warnings": stack.warnings, "items": items, "objects": objects}))
stack.stop()
"""


def run(state_dir: Path, mode: str) -> dict:
    return script_run(SCRIPT, str(state_dir), mode)


def records_before(journal: bytes, cut: int) -> tuple[dict, dict]:
    """The items and objects whose journal lines lie wholly before byte `cut`."""
    items, objects, offset = {}, {}, 0
    for line in journal.split(b"\n"):
        end = offset + len(line)
        if end > cut:
            break
        record = json.loads(line[9:]) if line else {}
        if record.get("t") == "item" and record.get("table") == "Things":
            items[record["key"]["id"]["S"]] = record["item"]["n"]["N"]
        if record.get("t") == "object":
            objects[record["key"]] = None
        offset = end + 1
    return items, objects


def test_truncated_at_a_random_byte_keeps_everything_before(tmp_path):
    written = run(tmp_path, "write")
    assert len(written["items"]) == 40 and len(written["objects"]) == 5
    journal = (tmp_path / "journal").read_bytes()
    first_item = journal.index(b'"t":"item"')
    seed = random.randrange(1 << 30)
    cut = random.Random(seed).randrange(first_item, len(journal) - 1)
    (tmp_path / "journal").write_bytes(journal[:cut])

    after = run(tmp_path, "read")
    items, objects = records_before(journal, cut)
    assert after["items"] == items, f"seed {seed}, cut at {cut}"
    assert set(after["objects"]) == set(objects), f"seed {seed}, cut at {cut}"
    assert all(after["objects"][key] == written["objects"][key] for key in objects)
    damaged = [warning for warning in after["warnings"] if "damaged at byte" in warning]
    if journal[cut - 1 : cut + 1] != b"}\n":  # a cut exactly at a line's end leaves nothing damaged
        assert len(damaged) == 1, after["warnings"]
        assert list(tmp_path.glob("journal.damaged-*")), "the damaged file must be kept"
    # The next start finds a clean journal, with the same data.
    again = run(tmp_path, "read")
    assert again["items"] == after["items"] and again["warnings"] == []


def test_a_damaged_line_in_the_middle_is_skipped_and_named(tmp_path):
    path = tmp_path / "journal"
    lines = [encode(HEADER)] + [
        encode(
            {"t": "item", "table": "Things", "key": {"id": {"S": f"thing-{n}"}}, "item": {"n": {"N": str(n)}}}
        )
        for n in range(10)
    ]
    lines[8] = lines[8].replace(b'"N":"7"', b'"N":"8"')  # the checksum no longer matches
    path.write_bytes(b"".join(lines))

    loaded = journal_read(path)
    assert [record["key"]["id"]["S"] for record in loaded.records] == [
        f"thing-{n}" for n in range(10) if n != 7
    ]
    assert len(loaded.damaged) == 1 and '{"id":{"S":"thing-7"}}' in loaded.damaged[0]
    assert "Things" in loaded.damaged[0] and not loaded.unreadable


def test_unreadable_state_is_moved_aside_not_deleted(tmp_path):
    (tmp_path / "journal").write_bytes(b"\x00\xffnot a journal at all\n" * 50)
    store = StateStore(tmp_path)
    try:
        warnings = store.open(app=None)
    finally:
        store.close()
    assert len(warnings) == 1 and "could not be read at all" in warnings[0]
    kept = list(tmp_path.glob("journal.unreadable-*"))
    assert kept and kept[0].read_bytes().startswith(b"\x00\xffnot a journal")
    assert journal_read(tmp_path / "journal").records == []

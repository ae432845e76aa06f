"""What the infrastructure costs per 1,000 edits at list prices, beside what Bedrock charges for them.

From one benchmark run: each AWS operation an edit made (counted by bench.stages), the size of the
edit's item, and the wall time of the request. On Lambda two invocations run for an edit (the request,
which waits, and the job), both billed while Bedrock works; the local engine answers at once, so Bedrock's
own time is an assumption here, stated in the row.

Prices: us-east-1 list prices, read 2026-12-04, not retrieved from AWS's price list API (no network
here): Lambda x86 $0.0000166667 per GB-second and $0.20 per million requests; API Gateway REST $3.50 per
million; DynamoDB on demand $0.625 per million write and $0.125 per million read request units (after the
November 2024 cut; third-party confirmation: airbyte.com/data-engineering-resources/dynamodb-pricing,
2025-07-21); S3 Standard $0.005 per 1,000 PUT/COPY/POST and $0.0004 per 1,000 GET; KMS $0.15 per 10,000
asymmetric (ECC) requests. Bedrock's per-image prices: editor/services/bedrock/pricing.py.
"""

from __future__ import annotations

import math

LAMBDA_GB_SECOND = 0.0000166667
LAMBDA_REQUEST = 0.20 / 1e6
API_GATEWAY_REQUEST = 3.50 / 1e6
DYNAMODB_WRU = 0.625 / 1e6
DYNAMODB_RRU = 0.125 / 1e6
S3_PUT = 0.005 / 1000
S3_GET = 0.0004 / 1000
KMS_ASYMMETRIC = 0.15 / 10_000
BEDROCK_SECONDS_ASSUMED = 6.0  # Stability's image services answer in seconds; not measurable here

_WRITES = {"PutItem", "UpdateItem", "DeleteItem"}
_READS = {"GetItem", "Query", "BatchGetItem"}


def edit_cost(*, calls: dict[str, float], item_bytes: int, wall_ms: float, memory_mb: int) -> dict:
    """Dollars per edit by service, from the operations counted ("dynamodb UpdateItem": n, ...)."""
    write_units = math.ceil(item_bytes / 1024)
    read_units = math.ceil(item_bytes / 4096)
    dynamodb = s3 = kms = 0.0
    for label, count in calls.items():
        service, _, operation = label.partition(" ")
        if service == "dynamodb" and operation == "TransactWriteItems":
            # Two write units per item (per KB); the counters and claims are far under 1 KB each.
            dynamodb += count * 2 * (write_units + 3) * DYNAMODB_WRU
        elif service == "dynamodb" and operation in _WRITES:
            dynamodb += count * write_units * DYNAMODB_WRU
        elif service == "dynamodb" and operation in _READS:
            dynamodb += count * read_units * DYNAMODB_RRU
        elif service == "s3":
            s3 += count * (S3_GET if operation.startswith("Get") else S3_PUT)
        elif service == "kms":
            kms += count * KMS_ASYMMETRIC
    seconds = 2 * (wall_ms / 1000 + BEDROCK_SECONDS_ASSUMED)  # the request and the job, side by side
    lambda_ = seconds * memory_mb / 1024 * LAMBDA_GB_SECOND + 2 * LAMBDA_REQUEST
    return {
        "lambda": lambda_,
        "api_gateway": API_GATEWAY_REQUEST,
        "dynamodb": dynamodb,
        "s3": s3,
        "kms": kms,
        "gb_seconds": seconds * memory_mb / 1024,
    }


def cost_row(*, calls: dict[str, float], item_bytes: int, wall_ms: float, memory_mb: int, bedrock_usd: float):
    """The table row: infrastructure $ per 1,000 edits, its parts, and its share of Bedrock's price."""
    from bench.common import figure

    parts = edit_cost(calls=calls, item_bytes=item_bytes, wall_ms=wall_ms, memory_mb=memory_mb)
    infrastructure = sum(value for name, value in parts.items() if name != "gb_seconds")
    per_thousand = {name: value * 1000 for name, value in parts.items()}
    note = (
        f"per 1,000 edits: Lambda ${per_thousand['lambda']:.3f} ({per_thousand['gb_seconds']:,.0f} GB-s, "
        f"Bedrock assumed {BEDROCK_SECONDS_ASSUMED:g} s), API Gateway ${per_thousand['api_gateway']:.4f}, "
        f"DynamoDB ${per_thousand['dynamodb']:.4f}, S3 ${per_thousand['s3']:.4f}, KMS "
        f"${per_thousand['kms']:.4f}; Bedrock ${bedrock_usd * 1000:.2f}: infrastructure = "
        f"{infrastructure / bedrock_usd * 100:.2f} % of Bedrock"
    )
    return figure(
        "cost: infrastructure per 1,000 edits (USD)", [infrastructure * 1000], unit="USD", note=note
    )

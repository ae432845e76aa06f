"""CloudWatch metrics without API calls: Embedded Metric Format lines on stdout, shipped to Logs."""

from __future__ import annotations

import json
import os
import sys
import time

NAMESPACE = "ImageEdit"


def service_name() -> str:
    return os.environ.get("IMAGEEDIT_SERVICE", f"imageedit-{os.environ.get('IMAGEEDIT_STAGE', 'local')}")


def emf_document(
    metrics: dict[str, tuple[float, str]], dimensions: dict[str, str], properties: dict | None = None
) -> dict:
    """One EMF object: {"_aws": {Timestamp, CloudWatchMetrics}}, the dimension values and metric values.

    Two dimension sets: the service alone (for alarms) and the service with the task (for the dashboard).
    """
    dimension_sets = [["Service"]] + ([["Service", "Task"]] if "Task" in dimensions else [])
    return {
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": NAMESPACE,
                    "Dimensions": dimension_sets,
                    "Metrics": [{"Name": name, "Unit": unit} for name, (_, unit) in metrics.items()],
                }
            ],
        },
        **dimensions,
        **{name: value for name, (value, _) in metrics.items()},
        **(properties or {}),
    }


def emit(
    metrics: dict[str, tuple[float, str]], *, task: str | None = None, properties: dict | None = None
) -> None:
    dimensions = {"Service": service_name(), **({"Task": task} if task else {})}
    # A bare line on stdout: CloudWatch parses EMF from the raw log line, whatever the log formatter does.
    sys.stdout.write(json.dumps(emf_document(metrics, dimensions, properties)) + "\n")
    sys.stdout.flush()


def metrics_edit_finished(
    edit,
    *,
    latency_ms: int | None,
    images: int,
    filtered: int,
    bedrock_latency_ms: int | None = None,
    error_code: str | None = None,
) -> None:
    metrics: dict[str, tuple[float, str]] = {
        "EditsSucceeded" if error_code is None else "EditsFailed": (1, "Count"),
        "ImagesGenerated": (images, "Count"),
        "ContentFiltered": (filtered + (1 if error_code == "content_filtered" else 0), "Count"),
    }
    if latency_ms is not None:
        metrics["EditLatency"] = (latency_ms, "Milliseconds")
    if bedrock_latency_ms is not None:
        metrics["BedrockLatency"] = (bedrock_latency_ms, "Milliseconds")
    emit(
        metrics,
        task=edit.task,
        properties={
            "edit_id": edit.id,
            "model_id": edit.model_id,
            **({"error_code": error_code} if error_code else {}),
        },
    )


def metrics_quota_refused() -> None:
    emit({"QuotaRefused": (1, "Count")})

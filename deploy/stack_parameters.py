"""The stack's parameters that zappa_settings.json already decides, so each value is written once."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SNAPSTART_ALIAS = "snapstart"  # the alias Zappa 0.63 keeps on the newest version when snap_start is on
# AWS's advice for a queue a function polls: visibility timeout >= 6 x the function's timeout, so a
# message is not handed out again while an invocation (and its retries) may still hold it.
VISIBILITY_TIMEOUT_FACTOR = 6


def stage_settings(stage: str, path: Path = ROOT / "zappa_settings.json") -> dict:
    """A stage's settings with `extends` applied, the way Zappa merges them."""
    settings = json.loads(path.read_text())
    config = dict(settings[stage])
    parent = config.pop("extends", None)
    return {**stage_settings(parent, path), **config} if parent else config


def function_name(stage: str, config: dict) -> str:
    """Zappa's function name: <project_name>-<stage>, slugified (lowercase, '-' for anything else)."""
    return re.sub(r"[^a-z0-9]+", "-", f"{config['project_name']}-{stage}".lower()).strip("-")


def stack_parameters(stage: str, path: Path = ROOT / "zappa_settings.json") -> dict[str, str]:
    config = stage_settings(stage, path)
    snap_start = config.get("snap_start") not in (None, "None")
    return {
        "Stage": stage,
        "LambdaFunctionName": function_name(stage, config),
        "LambdaTimeoutSeconds": str(config["timeout_seconds"]),
        "LambdaAlias": SNAPSTART_ALIAS if snap_start else "",
        "ZappaBucketName": config["s3_bucket"],
        "BatchVisibilityTimeoutSeconds": str(VISIBILITY_TIMEOUT_FACTOR * int(config["timeout_seconds"])),
        "BatchSize": str(batch_event(config)["event_source"]["batch_size"]),
    }


def batch_event(config: dict) -> dict:
    """The stage's entry for the batch queue in "events" (it gives Zappa's handler the queue's ARN)."""
    return next(
        event
        for event in config.get("events", [])
        if event.get("event_source", {}).get("arn", "").startswith("arn:aws:sqs:")
    )


def main(argv: list[str] | None = None) -> int:
    """Print Key=Value pairs for `aws cloudformation deploy --parameter-overrides`."""
    args = sys.argv[1:] if argv is None else argv
    stage = args[0] if args else "production"
    print(" ".join(f"{key}={value}" for key, value in stack_parameters(stage).items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())

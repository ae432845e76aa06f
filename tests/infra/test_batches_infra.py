"""The batch queue in infra/template.yaml agrees with zappa_settings.json and the app's settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from deploy.stack_parameters import VISIBILITY_TIMEOUT_FACTOR, batch_event, stack_parameters, stage_settings

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "infra" / "template.yaml"


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    from cfnlint.decode import decode

    decoded, matches = decode(str(TEMPLATE))
    assert not matches
    return decoded


def _default(template, name: str) -> int:
    return int(template["Parameters"][name]["Default"])


@pytest.mark.parametrize("stage", ["dev", "production"])
def test_visibility_timeout_is_six_times_the_function_timeout(template, stage):
    timeout = int(stage_settings(stage)["timeout_seconds"])
    assert VISIBILITY_TIMEOUT_FACTOR == 6
    assert int(stack_parameters(stage)["BatchVisibilityTimeoutSeconds"]) == 6 * timeout
    assert _default(template, "BatchVisibilityTimeoutSeconds") >= 6 * _default(
        template, "LambdaTimeoutSeconds"
    )
    queue = template["Resources"]["BatchQueue"]["Properties"]
    assert queue["VisibilityTimeout"] == {"Ref": "BatchVisibilityTimeoutSeconds"}


@pytest.mark.parametrize("stage", ["dev", "production"])
def test_zappa_routes_the_stages_queue_to_the_worker_with_the_stacks_batch_size(template, stage):
    config = stage_settings(stage)
    event = batch_event(config)
    assert event["function"] == "editor.services.batches.worker.batch_items_work"
    assert event["event_source"]["arn"].endswith(f":imageedit-{stage}-batch-items")
    assert template["Resources"]["BatchQueue"]["Properties"]["QueueName"] == {
        "Fn::Sub": "imageedit-${Stage}-batch-items"
    }
    # Zappa's update rewrites BatchSize, Enabled and the window of a mapping it finds: the same values.
    assert event["event_source"]["batch_size"] == _default(template, "BatchSize")
    assert event["event_source"]["batch_window"] == 0
    # Where the stack's mapping is on the alias, Zappa's own (on the function) must never consume.
    has_alias = stack_parameters(stage)["LambdaAlias"] != ""
    assert event["event_source"]["enabled"] is (not has_alias)
    assert config["environment_variables"]["BATCH_MAX_RECEIVES"] == str(
        _default(template, "BatchMaxReceiveCount")
    )


def test_the_mapping_reports_partial_failures_and_bounds_concurrency(template):
    mapping = template["Resources"]["BatchWorkerMapping"]
    properties = mapping["Properties"]
    assert mapping["Condition"] == "BatchWorker"
    assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert properties["ScalingConfig"] == {"MaximumConcurrency": {"Ref": "BatchMaxConcurrency"}}
    assert properties["EventSourceArn"] == {"Fn::GetAtt": ["BatchQueue", "Arn"]}
    redrive = template["Resources"]["BatchQueue"]["Properties"]["RedrivePolicy"]
    assert redrive == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["BatchDeadLetterQueue", "Arn"]},
        "maxReceiveCount": {"Ref": "BatchMaxReceiveCount"},
    }


def test_alarms_watch_the_dead_letters_and_the_oldest_message(template):
    alarms = {
        resource["Properties"]["MetricName"]: resource["Properties"]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
        and resource["Properties"].get("Namespace") == "AWS/SQS"
    }
    assert alarms["ApproximateNumberOfMessagesVisible"]["Dimensions"][0]["Value"] == {
        "Fn::GetAtt": ["BatchDeadLetterQueue", "QueueName"]
    }
    assert alarms["ApproximateAgeOfOldestMessage"]["Dimensions"][0]["Value"] == {
        "Fn::GetAtt": ["BatchQueue", "QueueName"]
    }


def test_the_function_may_send_to_and_work_the_queue_and_nothing_more(template):
    statements = {
        statement.get("Sid", ""): statement
        for statement in template["Resources"]["LambdaPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    }
    assert statements["BatchQueueSend"]["Action"] == "sqs:SendMessage"
    assert statements["BatchQueueWork"]["Resource"] == {"Fn::GetAtt": ["BatchQueue", "Arn"]}
    assert set(statements["BatchQueueWork"]["Action"]) == {
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "sqs:ChangeMessageVisibility",
    }

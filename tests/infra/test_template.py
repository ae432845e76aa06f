"""Check infra/template.yaml: cfn-lint clean, tables that match the PynamoDB models, least privilege."""

from __future__ import annotations

import inspect
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

TEMPLATE = Path(__file__).resolve().parents[2] / "infra" / "template.yaml"

# Bedrock's image models live in us-west-2 (and us-east-1 via profiles); lint against both.
LINT_REGIONS = ["us-east-1", "us-west-2"]

NO_VALUE = {"Ref": "AWS::NoValue"}

# The contract with editor.models, written out so it is checked even when Django is not installed.
EDITS_KEYS = {
    "AttributeDefinitions": {
        ("id", "S"),
        ("user_id", "S"),
        ("request_timestamp", "S"),
        ("active", "S"),
        ("tree_key", "S"),
        ("batch_key", "S"),
    },
    "KeySchema": {("id", "HASH")},
    "GlobalSecondaryIndexes": {
        "user_id-request_timestamp-index": ({("user_id", "HASH"), ("request_timestamp", "RANGE")}, "ALL"),
        "tree_key-request_timestamp-index": ({("tree_key", "HASH"), ("request_timestamp", "RANGE")}, "ALL"),
        "active-request_timestamp-index": ({("active", "HASH"), ("request_timestamp", "RANGE")}, "KEYS_ONLY"),
        "batch_key-request_timestamp-index": ({("batch_key", "HASH"), ("request_timestamp", "RANGE")}, "ALL"),
    },
}
SESSION_KEYS = {
    "AttributeDefinitions": {("session_key", "S")},
    "KeySchema": {("session_key", "HASH")},
    "GlobalSecondaryIndexes": {},
}
TTL_ATTRIBUTE = "expires_at"

# Everything the Lambda role may do. Adding an action means changing this list on purpose.
EXPECTED_LAMBDA_ACTIONS = {
    "bedrock:InvokeModel",
    "bedrock:GetFoundationModel",  # each model's lifecycle (editor/services/bedrock/lifecycle.py)
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:Query",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
    "s3:GetObject",
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:PutObjectTagging",
    "s3:GetObjectTagging",
    "s3:ListBucket",
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "lambda:InvokeFunction",
    "sqs:SendMessage",  # batches: the API queues items, the worker hands poison ones to the DLQ
    "sqs:ReceiveMessage",  # and Lambda's poller works the queue with the function's role
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "sqs:ChangeMessageVisibility",
    "cognito-idp:InitiateAuth",
    "cognito-idp:RespondToAuthChallenge",
    "cognito-idp:SignUp",
    "cognito-idp:ConfirmSignUp",
    "cognito-idp:ResendConfirmationCode",
    "cognito-idp:ForgotPassword",
    "cognito-idp:ConfirmForgotPassword",
    "cognito-idp:ChangePassword",
    "cognito-idp:GetUser",
    "cognito-idp:AssociateSoftwareToken",
    "cognito-idp:VerifySoftwareToken",
    "cognito-idp:SetUserMFAPreference",
    "cognito-idp:RevokeToken",
    "cognito-idp:GlobalSignOut",
    "cognito-idp:DescribeUserPool",
    "cognito-idp:AdminCreateUser",
    "cognito-idp:AdminSetUserPassword",
    "cognito-idp:AdminGetUser",
    "cognito-idp:AdminUserGlobalSignOut",
    "cognito-idp:AdminAddUserToGroup",
    "kms:Sign",
}

# (policy resource, statement Sid) pairs allowed to use "Resource": "*" because the action has no
# resource-level permissions. Empty: nothing the app calls needs it. Add an entry with a reason.
STAR_RESOURCE_ALLOWED: set[tuple[str, str]] = set()

DEFAULT_MODEL_IDS = [
    "stability.stable-image-inpaint-v1:0",
    "stability.stable-image-erase-object-v1:0",
    "stability.stable-outpaint-v1:0",
    "stability.stable-image-remove-background-v1:0",
    "stability.stable-image-search-replace-v1:0",
    "stability.stable-conservative-upscale-v1:0",
    "stability.stable-fast-upscale-v1:0",
    "stability.stable-image-core-v1:1",
    "stability.stable-image-search-recolor-v1:0",
    "stability.stable-creative-upscale-v1:0",
    "stability.stable-image-control-sketch-v1:0",
    "stability.stable-image-control-structure-v1:0",
    "stability.stable-image-style-guide-v1:0",
    "stability.stable-style-transfer-v1:0",
    "amazon.nova-canvas-v1:0",
    "amazon.titan-image-generator-v2:0",
]


def _require_cfnlint() -> None:
    try:
        import cfnlint  # noqa: F401
    except ImportError as exc:  # a dev requirement: missing means a broken environment, not a skip
        pytest.fail(f"cfn-lint is not installed (pip install -r requirements-dev.txt): {exc}")


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    """The template as cfn-lint decodes it: short-form tags (!Sub, !GetAtt, ...) become Fn:: dicts."""
    _require_cfnlint()
    from cfnlint.decode import decode

    decoded, matches = decode(str(TEMPLATE))
    assert not matches, "\n".join(str(match) for match in matches)
    assert decoded is not None
    return decoded


def _of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {name: res for name, res in template["Resources"].items() if res["Type"] == resource_type}


def _branches(value: Any) -> Iterator[Any]:
    """Yield every value an Fn::If could produce (both branches), skipping AWS::NoValue."""
    if isinstance(value, dict) and list(value) == ["Fn::If"]:
        _, when_true, when_false = value["Fn::If"]
        yield from _branches(when_true)
        yield from _branches(when_false)
    elif value != NO_VALUE:
        yield value


def _items(value: Any) -> Iterator[Any]:
    """Yield the members of a value that may be a scalar, a list, or an Fn::If of either."""
    for branch in _branches(value):
        if isinstance(branch, list):
            for item in branch:
                yield from _branches(item)
        else:
            yield branch


def _statements(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from _items(document["Statement"])


def _policy_documents(template: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every permission policy in the template (trust policies are not permissions)."""
    for kind in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy", "AWS::S3::BucketPolicy"):
        for name, res in _of_type(template, kind).items():
            yield name, res["Properties"]["PolicyDocument"]
    for name, res in _of_type(template, "AWS::IAM::Role").items():
        for policy in res["Properties"].get("Policies", []):
            yield name, policy["PolicyDocument"]


def _pairs(entries: list[dict[str, Any]], value: str) -> set[tuple[str, str]]:
    """{(AttributeName, entry[value])}: the order-free form of AttributeDefinitions or a KeySchema."""
    return {(entry["AttributeName"], entry[value]) for entry in entries}


def _table_keys(properties: dict[str, Any]) -> dict[str, Any]:
    """The key schema of an AWS::DynamoDB::Table in the comparable shape of EDITS_KEYS."""
    return {
        "AttributeDefinitions": _pairs(properties["AttributeDefinitions"], "AttributeType"),
        "KeySchema": _pairs(properties["KeySchema"], "KeyType"),
        "GlobalSecondaryIndexes": {
            gsi["IndexName"]: (_pairs(gsi["KeySchema"], "KeyType"), gsi["Projection"]["ProjectionType"])
            for gsi in properties.get("GlobalSecondaryIndexes", [])
        },
    }


def _substitute_placeholders(text: str) -> str:
    """Replace ${Name} references of an Fn::Sub string with plain text so the result can be parsed."""
    return re.sub(r"\$\{([^}!]+)\}", lambda m: "X" + re.sub(r"\W", "", m.group(1)), text)


# --- lint ---------------------------------------------------------------------------------------------


def test_cfn_lint_passes() -> None:
    _require_cfnlint()
    from cfnlint.api import lint_file
    from cfnlint.config import ManualArgs

    # Informational checks too: the template is kept free of them.
    matches = lint_file(TEMPLATE, config=ManualArgs(regions=LINT_REGIONS, include_checks=["I"]))
    assert not matches, "cfn-lint found problems:\n" + "\n".join(str(match) for match in matches)


# --- DynamoDB -------------------------------------------------------------------------------------------


def test_edits_table_keys_are_the_models_keys(template: dict[str, Any]) -> None:
    table = template["Resources"]["EditsTable"]
    assert _table_keys(table["Properties"]) == EDITS_KEYS


def test_session_table_keys_are_the_models_keys(template: dict[str, Any]) -> None:
    table = template["Resources"]["SessionTable"]
    assert _table_keys(table["Properties"]) == SESSION_KEYS


def test_table_name_defaults_are_the_settings_defaults(template: dict[str, Any]) -> None:
    assert template["Parameters"]["TableName"]["Default"] == "ImageGenerationTable"
    assert template["Parameters"]["SessionTableName"]["Default"] == "ImageEditSessionTable"
    assert template["Resources"]["EditsTable"]["Properties"]["TableName"] == {"Ref": "TableName"}
    assert template["Resources"]["SessionTable"]["Properties"]["TableName"] == {"Ref": "SessionTableName"}


@pytest.mark.parametrize("name", ["EditsTable", "SessionTable"])
def test_tables_are_on_demand_recoverable_encrypted_with_ttl(template: dict[str, Any], name: str) -> None:
    props = template["Resources"][name]["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"] == {"SSEEnabled": True}
    assert props["TimeToLiveSpecification"] == {"AttributeName": TTL_ATTRIBUTE, "Enabled": True}


def test_edits_table_survives_deletes_and_is_protected_in_production(template: dict[str, Any]) -> None:
    table = template["Resources"]["EditsTable"]
    assert table["DeletionPolicy"] == "Retain"
    assert table["UpdateReplacePolicy"] == "Retain"
    assert table["Properties"]["DeletionProtectionEnabled"] == {"Fn::If": ["IsProduction", True, False]}
    assert template["Conditions"]["IsProduction"] == {"Fn::Equals": [{"Ref": "Stage"}, "production"]}
    assert template["Parameters"]["Stage"]["AllowedValues"] == ["dev", "production"]


def test_pynamodb_models_match_template_tables(template: dict[str, Any]) -> None:
    """editor.models and the template describe the same keys, index and TTL attribute."""
    pytest.importorskip("django")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imageedit.settings")
    import django

    django.setup()
    from pynamodb.attributes import TTLAttribute
    from pynamodb.models import Model

    from editor import models

    def keys_of(model: type[Model]) -> dict[str, Any]:
        schema = model._get_schema()
        return {
            "AttributeDefinitions": _pairs(schema["attribute_definitions"], "AttributeType"),
            "KeySchema": _pairs(schema["key_schema"], "KeyType"),
            "GlobalSecondaryIndexes": {
                gsi["index_name"]: (_pairs(gsi["key_schema"], "KeyType"), gsi["projection"]["ProjectionType"])
                for gsi in schema["global_secondary_indexes"]
            },
        }

    edits, sessions = models.ImageEdit, models.WebSession
    assert edits._hash_keyname == "id"
    assert edits._range_keyname is None
    index = edits._indexes["user_id-request_timestamp-index"]
    assert index.Meta.index_name == "user_id-request_timestamp-index"
    assert index._hash_key_attribute().attr_name == "user_id"
    assert sessions._hash_keyname == "session_key"
    assert sessions._range_keyname is None

    assert keys_of(edits) == _table_keys(template["Resources"]["EditsTable"]["Properties"])
    assert keys_of(sessions) == _table_keys(template["Resources"]["SessionTable"]["Properties"])

    # Other models may share a table (idempotency records live in the edits table): same primary key,
    # and any TTL attribute must be the one DynamoDB's TTL watches.
    all_models = [
        obj
        for _, obj in inspect.getmembers(models, inspect.isclass)
        if issubclass(obj, Model) and obj is not Model and obj.__module__ == models.__name__
    ]
    tables = {edits.Meta.table_name: edits, sessions.Meta.table_name: sessions}
    for model in all_models:
        owner = tables.get(model.Meta.table_name)
        assert owner is not None, (
            f"{model.__name__} uses table {model.Meta.table_name!r}, not in the template"
        )
        assert keys_of(model)["KeySchema"] == keys_of(owner)["KeySchema"], model.__name__
        ttl_names = {a.attr_name for a in model.get_attributes().values() if isinstance(a, TTLAttribute)}
        assert ttl_names <= {TTL_ATTRIBUTE}, f"{model.__name__} TTL attribute {ttl_names} is not expires_at"


# --- S3 ---------------------------------------------------------------------------------------------------


def test_bucket_is_private_and_encrypted(template: dict[str, Any]) -> None:
    props = template["Resources"]["Bucket"]["Properties"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    [rule] = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert "AccessControl" not in props


def test_bucket_policy_denies_plain_http(template: dict[str, Any]) -> None:
    [policy] = _of_type(template, "AWS::S3::BucketPolicy").values()
    assert policy["Properties"]["Bucket"] == {"Ref": "Bucket"}
    denies = [
        s
        for s in _statements(policy["Properties"]["PolicyDocument"])
        if s["Effect"] == "Deny"
        and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
    ]
    assert denies, "no Deny on aws:SecureTransport = false"
    [deny] = denies
    assert deny["Principal"] == "*"
    assert deny["Action"] == "s3:*"
    assert {json.dumps(r, sort_keys=True) for r in _items(deny["Resource"])} == {
        json.dumps({"Fn::GetAtt": ["Bucket", "Arn"]}, sort_keys=True),
        json.dumps({"Fn::Sub": "${Bucket.Arn}/*"}, sort_keys=True),
    }


def test_bucket_lifecycle_keeps_current_objects_unless_asked(template: dict[str, Any]) -> None:
    rules = template["Resources"]["Bucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    uploads = [rule for rule in rules if rule.get("Id") == "uploads-expire"]
    # Unused direct uploads go after a day, found by the tag their presigned POST requires.
    assert uploads == [
        {
            "Id": "uploads-expire",
            "Status": "Enabled",
            "Prefix": "users/",
            "TagFilters": [{"Key": "imageedit-kind", "Value": "upload"}],
            "ExpirationInDays": 1,
        }
    ]
    unconditional = [rule for rule in rules if "Fn::If" not in rule and rule not in uploads]
    assert all(rule["Prefix"] == "users/" and rule["Status"] == "Enabled" for rule in unconditional)
    assert any(
        rule.get("AbortIncompleteMultipartUpload") == {"DaysAfterInitiation": 1} for rule in unconditional
    )
    assert any("NoncurrentVersionExpiration" in rule for rule in unconditional)
    # Expiring current objects only behind the HasExpiry condition (ExpireAfterDays > 0).
    assert not any("ExpirationInDays" in rule or "ExpirationDate" in rule for rule in unconditional)
    conditional = [rule["Fn::If"] for rule in rules if "Fn::If" in rule]
    assert [(cond, branch["ExpirationInDays"], otherwise) for cond, branch, otherwise in conditional] == [
        ("HasExpiry", {"Ref": "ExpireAfterDays"}, NO_VALUE)
    ]
    assert template["Parameters"]["ExpireAfterDays"]["Default"] == 0


def test_bucket_cors_allows_reads_and_upload_posts_from_the_allowed_origin(template: dict[str, Any]) -> None:
    cors = template["Resources"]["Bucket"]["Properties"]["CorsConfiguration"]
    condition, config, otherwise = cors["Fn::If"]
    assert (condition, otherwise) == ("HasAllowedOrigin", NO_VALUE)
    [rule] = config["CorsRules"]
    assert set(rule["AllowedMethods"]) == {"GET", "HEAD", "POST"}  # never PUT or DELETE
    assert rule["AllowedOrigins"] == [{"Ref": "AllowedOrigin"}]


# --- IAM --------------------------------------------------------------------------------------------------


def test_allow_statements_name_every_action(template: dict[str, Any]) -> None:
    documents = list(_policy_documents(template))
    assert documents, "no IAM policy documents in the template"
    for name, document in documents:
        for statement in _statements(document):
            if statement["Effect"] != "Allow":
                continue  # a Deny with s3:* only takes access away
            assert "NotAction" not in statement, f"{name}: Allow with NotAction"
            assert "NotResource" not in statement, f"{name}: Allow with NotResource"
            for action in _items(statement["Action"]):
                assert isinstance(action, str), f"{name}: computed action {action!r}"
                assert "*" not in action and "?" not in action, f"{name} {statement.get('Sid')}: {action}"


def test_no_star_resources_outside_the_allow_list(template: dict[str, Any]) -> None:
    documents = list(_policy_documents(template))
    assert documents, "no IAM policy documents in the template"
    for name, document in documents:
        for statement in _statements(document):
            if statement["Effect"] != "Allow":
                continue
            resources = list(_items(statement["Resource"]))
            assert resources, f"{name} {statement.get('Sid')}: no resources"
            for resource in resources:
                literal = resource.get("Fn::Sub") if isinstance(resource, dict) else resource
                if literal == "*":
                    assert (name, statement.get("Sid")) in STAR_RESOURCE_ALLOWED, (
                        f'{name} {statement.get("Sid")}: "Resource": "*" is not in STAR_RESOURCE_ALLOWED'
                    )


def test_lambda_policy_grants_exactly_what_the_app_uses(template: dict[str, Any]) -> None:
    document = template["Resources"]["LambdaPolicy"]["Properties"]["PolicyDocument"]
    granted = {action for s in _statements(document) for action in _items(s["Action"])}
    assert granted == EXPECTED_LAMBDA_ACTIONS
    assert all(s["Effect"] == "Allow" for s in _statements(document))


def test_lambda_policy_resources_are_this_stacks(template: dict[str, Any]) -> None:
    document = template["Resources"]["LambdaPolicy"]["Properties"]["PolicyDocument"]
    by_sid = {s["Sid"]: s for s in _statements(document)}

    dynamodb = [json.dumps(r, sort_keys=True) for r in _items(by_sid["DynamoDBItems"]["Resource"])]
    assert sorted(dynamodb) == sorted(
        json.dumps(r, sort_keys=True)
        for r in (
            {"Fn::GetAtt": ["EditsTable", "Arn"]},
            {"Fn::Sub": "${EditsTable.Arn}/index/*"},
            {"Fn::GetAtt": ["SessionTable", "Arn"]},
        )
    )
    assert by_sid["S3UserObjects"]["Resource"] == {"Fn::Sub": "${Bucket.Arn}/users/*"}
    assert by_sid["S3ListUserPrefix"]["Resource"] == {"Fn::GetAtt": ["Bucket", "Arn"]}
    assert by_sid["S3ListUserPrefix"]["Condition"] == {"StringLike": {"s3:prefix": "users/*"}}
    assert by_sid["OwnLogs"]["Resource"] == {"Fn::GetAtt": ["LambdaLogGroup", "Arn"]}
    assert by_sid["CognitoSignIn"]["Resource"] == {"Fn::GetAtt": ["UserPool", "Arn"]}
    invoke = [r["Fn::Sub"] for r in _items(by_sid["ZappaAsyncSelfInvoke"]["Resource"])]
    assert all(r.startswith("arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:") for r in invoke)
    assert all(":function:${LambdaFunctionName}" in r for r in invoke)


def test_content_credentials_key_signs_es256_and_only_the_function_may_sign(template: dict[str, Any]) -> None:
    key = template["Resources"]["ContentCredentialsKey"]
    assert key["Properties"]["KeySpec"] == "ECC_NIST_P256"
    assert key["Properties"]["KeyUsage"] == "SIGN_VERIFY"
    assert key["DeletionPolicy"] == "Retain"  # earlier results' certificates name this key's public key
    document = template["Resources"]["LambdaPolicy"]["Properties"]["PolicyDocument"]
    [statement] = [s for s in _statements(document) if "kms:Sign" in _items(s["Action"])]
    assert list(_items(statement["Action"])) == ["kms:Sign"]
    assert statement["Resource"] == {"Fn::GetAtt": ["ContentCredentialsKey", "Arn"]}
    assert "ContentCredentialsKeyArn" in template["Outputs"]


def test_bedrock_default_models_are_foundation_models_in_the_stack_region(template: dict[str, Any]) -> None:
    document = template["Resources"]["LambdaPolicy"]["Properties"]["PolicyDocument"]
    [statement] = [s for s in _statements(document) if s["Sid"] == "BedrockInvoke"]
    condition, defaults, given = statement["Resource"]["Fn::If"]
    assert (condition, given) == ("UseDefaultModels", {"Ref": "BedrockModelArns"})
    prefix = "arn:${AWS::Partition}:bedrock:${AWS::Region}::foundation-model/"
    assert [arn["Fn::Sub"] for arn in defaults] == [prefix + model_id for model_id in DEFAULT_MODEL_IDS]
    assert template["Parameters"]["BedrockModelArns"]["Type"] == "CommaDelimitedList"


def test_lambda_role_uses_the_policy_and_nothing_else(template: dict[str, Any]) -> None:
    role = template["Resources"]["LambdaRole"]["Properties"]
    assert role["ManagedPolicyArns"] == [{"Ref": "LambdaPolicy"}]
    assert "Policies" not in role
    [trust] = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Action"] == "sts:AssumeRole"
    assert "lambda.amazonaws.com" in trust["Principal"]["Service"]


# --- Cognito ------------------------------------------------------------------------------------------------


def test_administrators_group_is_declared_in_the_pool(template: dict[str, Any]) -> None:
    group = template["Resources"]["AdministratorsGroup"]
    assert group["Type"] == "AWS::Cognito::UserPoolGroup"
    assert group["Properties"]["GroupName"] == "administrators"
    assert group["Properties"]["UserPoolId"] == {"Ref": "UserPool"}


def test_user_pool_and_client_settings(template: dict[str, Any]) -> None:
    pool = template["Resources"]["UserPool"]["Properties"]
    assert pool["UsernameConfiguration"] == {"CaseSensitive": False}
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] == {
        "Fn::If": ["SelfSignUp", False, True]
    }
    assert template["Parameters"]["AllowSelfSignUp"]["Default"] == "false"
    assert pool["Policies"]["PasswordPolicy"]["MinimumLength"] >= 12

    client = template["Resources"]["UserPoolClient"]["Properties"]
    assert client["GenerateSecret"] is False
    assert client["ExplicitAuthFlows"] == ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    assert client["EnableTokenRevocation"] is True
    assert client["PreventUserExistenceErrors"] == "ENABLED"
    assert (client["AccessTokenValidity"], client["IdTokenValidity"], client["RefreshTokenValidity"]) == (
        60,
        60,
        30,
    )
    assert client["TokenValidityUnits"] == {
        "AccessToken": "minutes",
        "IdToken": "minutes",
        "RefreshToken": "days",
    }


# --- Logs, alarms, dashboard ------------------------------------------------------------------------------


def test_log_groups_have_retention(template: dict[str, Any]) -> None:
    groups = _of_type(template, "AWS::Logs::LogGroup")
    assert {g["Properties"]["LogGroupName"]["Fn::Sub"] for g in groups.values()} == {
        "/aws/lambda/${LambdaFunctionName}",
        "/aws/apigateway/${ApiName}",
    }
    for name, group in groups.items():
        assert group["Properties"].get("RetentionInDays") == {"Ref": "LogRetentionDays"}, name
    assert template["Parameters"]["LogRetentionDays"]["Default"] == 30


def test_alarms_ignore_missing_data_and_notify_only_with_an_email(template: dict[str, Any]) -> None:
    alarms = _of_type(template, "AWS::CloudWatch::Alarm")
    assert len(alarms) == 9  # 7, and the batch queue's dead letters and oldest message
    notify = {"Fn::If": ["HasAlarmEmail", [{"Ref": "AlarmTopic"}], NO_VALUE]}
    for name, alarm in alarms.items():
        assert alarm["Properties"]["TreatMissingData"] == "notBreaching", name
        assert alarm["Properties"]["AlarmActions"] == notify, name
    assert template["Resources"]["AlarmTopic"]["Condition"] == "HasAlarmEmail"
    assert template["Resources"]["AlarmEmailSubscription"]["Condition"] == "HasAlarmEmail"
    assert template["Parameters"]["AlarmEmail"]["Default"] == ""


def test_app_alarms_watch_the_service_dimension_set(template: dict[str, Any]) -> None:
    alarms = _of_type(template, "AWS::CloudWatch::Alarm")
    app = {
        a["Properties"]["MetricName"]: a["Properties"]
        for a in alarms.values()
        if "MetricName" in a["Properties"]
    }
    service = [{"Name": "Service", "Value": {"Fn::Sub": "imageedit-${Stage}"}}]
    for metric in ("EditsFailed", "BedrockLatency"):
        assert app[metric]["Namespace"] == "ImageEdit"
        assert app[metric]["Dimensions"] == service
    assert (app["EditsFailed"]["Statistic"], app["EditsFailed"]["Threshold"]) == ("Sum", 5)
    assert (app["BedrockLatency"]["ExtendedStatistic"], app["BedrockLatency"]["Threshold"]) == ("p90", 20000)
    assert (app["5XXError"]["Statistic"], app["5XXError"]["Threshold"]) == ("Average", 0.05)
    assert (app["4XXError"]["Statistic"], app["4XXError"]["Threshold"]) == ("Average", 0.25)
    assert app["5XXError"]["Dimensions"] == [{"Name": "ApiName", "Value": {"Ref": "ApiName"}}]


def test_duration_alarm_fires_at_90_percent_of_the_timeout(template: dict[str, Any]) -> None:
    props = template["Resources"]["LambdaDurationAlarm"]["Properties"]
    metrics = {m["Id"]: m for m in props["Metrics"]}
    assert metrics["duration"]["MetricStat"]["Stat"] == "p99"
    assert metrics["timeoutfraction"]["Expression"] == {
        "Fn::Sub": "duration / (${LambdaTimeoutSeconds} * 1000)"
    }
    assert props["Threshold"] == 0.9
    # The default is zappa_settings.json's timeout_seconds: tests/infra/test_api.py compares them.


def test_dashboard_is_json_with_the_expected_metrics(template: dict[str, Any]) -> None:
    body = template["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    dashboard = json.loads(_substitute_placeholders(body))
    shown = {
        (metric[0], metric[1])
        for widget in dashboard["widgets"]
        for metric in widget["properties"]["metrics"]
        if metric[0] != "."
    }
    lambda_metrics = {("AWS/Lambda", m) for m in ("Invocations", "Errors", "Duration", "Throttles")}
    api_metrics = {("AWS/ApiGateway", m) for m in ("Count", "4XXError", "5XXError", "Latency")}
    app_metrics = {
        ("ImageEdit", m)
        for m in (
            "EditsSucceeded",
            "EditsFailed",
            "ContentFiltered",
            "ImagesGenerated",
            "QuotaRefused",
            "BedrockLatency",
            "EstimatedSpendUSD",  # spend per day: emitted per admitted edit (editor/services/spend.py)
            "ImagesAdmitted",
        )
    }
    assert lambda_metrics | api_metrics | app_metrics <= shown


# --- Outputs --------------------------------------------------------------------------------------------


def test_outputs_are_exported_with_the_stack_name(template: dict[str, Any]) -> None:
    outputs = template["Outputs"]
    required = {
        "EditsTableName",
        "EditsTableArn",
        "SessionTableName",
        "SessionTableArn",
        "BucketName",
        "UserPoolId",
        "UserPoolClientId",
        "CognitoIssuer",
        "CognitoJwksUrl",
        "LambdaPolicyArn",
    }
    assert required <= set(outputs)
    for name, output in outputs.items():
        assert output["Export"]["Name"] == {"Fn::Sub": "${AWS::StackName}-" + name}, name
    assert outputs["CognitoIssuer"]["Value"] == {
        "Fn::Sub": "https://cognito-idp.${AWS::Region}.${AWS::URLSuffix}/${UserPool}"
    }
    assert outputs["CognitoJwksUrl"]["Value"]["Fn::Sub"].endswith("/${UserPool}/.well-known/jwks.json")

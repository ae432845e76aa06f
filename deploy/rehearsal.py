"""`make deploy-rehearsal`: the deploy of docs/deploy.md, played against a local moto server instead of AWS.

Steps, as a maintainer runs them: create the CloudFormation stack from infra/template.yaml, fill in
zappa_settings.json from its outputs, `zappa deploy` the package `make package` built, `zappa update`,
`zappa rollback -n 1`, `zappa undeploy`, delete the stack. After each step it compares what exists with
the settings. Where moto cannot do something, it prints `MOTO CANNOT: ...` and goes on; the exit status
is non-zero only for a real mismatch.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from deploy.rehearsal_api import integration_uri, rest_api_complete
from deploy.rehearsal_template import HOW_SKIPPED, template_strip
from deploy.stack_parameters import stage_settings

ROOT = Path(__file__).resolve().parent.parent
STACK = "imageedit-{stage}"
REGION = "us-east-1"


class Rehearsal:
    def __init__(self, stage: str, package: Path) -> None:
        self.stage = stage
        self.package = package
        self.failures: list[str] = []
        self.moto_cannot: list[str] = []
        self.outputs: dict[str, str] = {}

    # -- reporting ------------------------------------------------------------------------------------
    def step(self, title: str) -> None:
        print(f"\n== {title}", flush=True)

    def check(self, what: str, ok: bool, detail: str = "") -> None:
        print(f"  {'ok  ' if ok else 'FAIL'} {what}{'' if ok else ': ' + detail}", flush=True)
        if not ok:
            self.failures.append(f"{what}: {detail}")

    def cannot(self, what: str) -> None:
        print(f"  MOTO CANNOT: {what}", flush=True)
        self.moto_cannot.append(what)

    # -- AWS, pointed at moto -------------------------------------------------------------------------
    def client(self, service: str):
        import boto3

        return boto3.client(service, region_name=REGION)

    # -- 1. the stack ---------------------------------------------------------------------------------
    def create_stack(self) -> None:
        from cfnlint.decode import decode
        from moto.cloudformation.parsing import get_model_map

        from deploy.stack_parameters import stack_parameters

        self.step("aws cloudformation deploy --template-file infra/template.yaml --s3-bucket ... (moto)")
        template, _ = decode(str(ROOT / "infra" / "template.yaml"))
        template = json.loads(json.dumps(template))
        parameters = {**stack_parameters(self.stage), "AllowUsInferenceProfiles": "true"}
        self.parameters = {name: spec.get("Default") for name, spec in template["Parameters"].items()}
        self.parameters.update(parameters)
        supported = get_model_map()
        skipped = {
            name: res["Type"] for name, res in template["Resources"].items() if res["Type"] not in supported
        }
        # What moto's CloudFormation cannot create, the rehearsal creates with the service's own API where
        # moto has one (below); references to the rest get placeholders so the stack can still be made.
        cognito = self.client("cognito-idp")
        pool = cognito.create_user_pool(PoolName=f"imageedit-{self.stage}")["UserPool"]
        client = cognito.create_user_pool_client(
            UserPoolId=pool["Id"], ClientName=f"imageedit-{self.stage}-app"
        )
        real = {
            "UserPool": (pool["Id"], {"Arn": pool["Arn"]}),
            "UserPoolClient": (client["UserPoolClient"]["ClientId"], {}),
        }
        by_type: dict[str, list[str]] = {}
        for name, kind in sorted(skipped.items()):
            by_type.setdefault(kind, []).append(name)
        for kind, names in sorted(by_type.items()):
            self.cannot(f"CloudFormation {kind} ({', '.join(names)}): {HOW_SKIPPED.get(kind, 'not created')}")
        self.pool = pool
        self.template = template
        body = template_strip(template, skipped, real)
        # As `--s3-bucket` makes the CLI do (docs/deploy.md): the template goes to a bucket of the
        # deployer's and the stack is made from its URL (CloudFormation takes 51,200 bytes inline; the
        # template is larger).
        s3 = self.client("s3")
        templates = f"imageedit-{self.stage}-deploy-templates"
        s3.create_bucket(Bucket=templates)
        s3.put_object(Bucket=templates, Key="template.json", Body=json.dumps(body).encode())
        cfn = self.client("cloudformation")
        cfn.create_stack(
            StackName=STACK.format(stage=self.stage),
            TemplateURL=f"https://{templates}.s3.amazonaws.com/template.json",
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
            Capabilities=["CAPABILITY_NAMED_IAM"],
        )
        stack = cfn.describe_stacks(StackName=STACK.format(stage=self.stage))["Stacks"][0]
        self.check("stack created", stack["StackStatus"] == "CREATE_COMPLETE", stack["StackStatus"])
        self.outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        self.outputs.update(UserPoolId=pool["Id"], UserPoolClientId=client["UserPoolClient"]["ClientId"])
        self.resources = {
            r["LogicalResourceId"]: r["PhysicalResourceId"]
            for r in cfn.list_stack_resources(StackName=STACK.format(stage=self.stage))[
                "StackResourceSummaries"
            ]
        }
        self.apply_api()
        self.check_stack()

    def apply_api(self) -> None:
        self.api_id = self.resources["Api"]
        role = self.client("iam").get_role(RoleName=self.resources["ApiInvokeRole"])["Role"]["Arn"]
        rest_api_complete(
            apigw=self.client("apigateway"),
            api_id=self.api_id,
            pool_arn=self.pool["Arn"],
            invoke_role_arn=role,
            uri=integration_uri(
                region=REGION,
                function_name=self.parameters["LambdaFunctionName"],
                alias=self.parameters.get("LambdaAlias"),
            ),
            stage=self.stage,
            check=self.check,
            cannot=self.cannot,
        )

    def check_stack(self) -> None:
        from devstack.apigateway_routes import api_definition

        dynamodb, logs, iam, apigw = (self.client(s) for s in ("dynamodb", "logs", "iam", "apigateway"))
        for table in ("TableName", "SessionTableName"):
            name = self.parameters[table]
            try:
                dynamodb.describe_table(TableName=name)
                self.check(f"table {name}", True)
            except Exception as exc:  # noqa: BLE001 (reported, not hidden)
                self.check(f"table {name}", False, str(exc))
        groups = {g["logGroupName"]: g for g in logs.describe_log_groups()["logGroups"]}
        for group in (
            f"/aws/lambda/{self.parameters['LambdaFunctionName']}",
            f"/aws/apigateway/{self.parameters['ApiName']}",
        ):
            found = groups.get(group, {})
            self.check(
                f"log group {group} with retention",
                found.get("retentionInDays") == int(self.parameters["LogRetentionDays"]),
                str(found),
            )
        role = iam.get_role(RoleName=f"imageedit-{self.stage}-{REGION}-lambda")["Role"]
        self.check(
            "Lambda role output",
            self.outputs.get("LambdaRoleArn") == role["Arn"],
            str(self.outputs.get("LambdaRoleArn")),
        )
        # The API as deployed: every template route with its authorization and scopes, nothing else.
        api_name = apigw.get_rest_api(restApiId=self.api_id)["name"]
        self.check("REST API name", api_name == self.parameters["ApiName"], api_name)
        deployed = set()
        authorizers = {a["id"]: a for a in apigw.get_authorizers(restApiId=self.api_id)["items"]}
        for resource in apigw.get_resources(restApiId=self.api_id, limit=500)["items"]:
            for method in resource.get("resourceMethods") or {}:
                detail = apigw.get_method(restApiId=self.api_id, resourceId=resource["id"], httpMethod=method)
                authorizer = authorizers.get(detail.get("authorizerId") or "", {})
                deployed.add(
                    (
                        method,
                        resource["path"],
                        detail["authorizationType"],
                        tuple(detail.get("authorizationScopes") or ()),
                        tuple(authorizer.get("providerARNs") or ()),
                    )
                )
        expected = {
            (r.method, r.path, r.authorization, r.scopes, (self.pool["Arn"],) if r.scopes else ())
            for r in api_definition().routes
        }
        self.check(
            "API routes, authorizer and scopes as in the template",
            deployed == expected,
            f"missing {sorted(expected - deployed)}, extra {sorted(deployed - expected)}",
        )

    # -- 2. Zappa ---------------------------------------------------------------------------------------
    def settings_file(self, directory: Path) -> Path:
        """zappa_settings.json with the stack's outputs filled in (docs/deploy.md step 3)."""
        settings = json.loads((ROOT / "zappa_settings.json").read_text())
        for stage in settings.values():
            env = stage.get("environment_variables")
            if env:
                env["S3_BUCKET"] = self.outputs.get("BucketName", env["S3_BUCKET"])
                env["COGNITO_USER_POOL_ID"] = self.outputs["UserPoolId"]
                env["COGNITO_APP_CLIENT_ID"] = self.outputs["UserPoolClientId"]
                for name, output in (
                    ("BATCH_QUEUE_URL", "BatchQueueUrl"),
                    ("BATCH_DLQ_URL", "BatchDeadLetterQueueUrl"),
                ):
                    if name in env:
                        env[name] = self.outputs.get(output, env[name])
        for event in settings[self.stage].get("events", []):
            source = event.get("event_source", {})
            if source.get("arn", "").startswith("arn:aws:sqs:") and "BatchQueueArn" in self.outputs:
                source["arn"] = self.outputs["BatchQueueArn"]  # the README's step: the stack's queue
        path = directory / "zappa_settings.json"
        path.write_text(json.dumps(settings, indent=4))
        return path

    def zappa(self, *args: str) -> bool:
        """Run Zappa's CLI; True if it succeeded. A failure inside moto is reported as moto's, not a FAIL."""
        print(f"  $ zappa {' '.join(args)}", flush=True)
        result = subprocess.run(
            [sys.executable, "-m", "zappa.cli", *args, "-s", str(self.settings)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
        output = (result.stdout + result.stderr).strip().splitlines()
        for line in [line for line in output if line.startswith(("ERROR", "WARNING"))] + output[-3:]:
            print(f"    | {line}", flush=True)
        if result.returncode == 0:
            return True
        gap = re.search(r"\((404|500|501)\) when calling the (\w+) operation", "\n".join(output))
        if gap:
            status, operation = gap.groups()
            self.cannot(f"zappa {args[0]}: moto answers {status} to Lambda {operation}, so Zappa stops there")
        else:
            self.check(f"zappa {args[0]}", False, "see the output above")
        return False

    def check_function(self) -> None:

        config = stage_settings(self.stage)
        awslambda, events = self.client("lambda"), self.client("events")
        name = self.parameters["LambdaFunctionName"]
        try:
            function = awslambda.get_function_configuration(FunctionName=name)
        except Exception as exc:  # noqa: BLE001
            self.check("function exists", False, str(exc))
            return
        self.check("runtime", function["Runtime"] == config["runtime"], function["Runtime"])
        self.check("memory", function["MemorySize"] == config["memory_size"], str(function["MemorySize"]))
        self.check("timeout", function["Timeout"] == config["timeout_seconds"], str(function["Timeout"]))
        self.check(
            "role is the stack's", function["Role"] == self.outputs.get("LambdaRoleArn"), function["Role"]
        )
        variables = function.get("Environment", {}).get("Variables", {})
        wanted = config.get("aws_environment_variables", {})
        self.check("environment", all(variables.get(k) == v for k, v in wanted.items()), str(variables))
        snap = (function.get("SnapStart") or {}).get("ApplyOn", "None")
        if config.get("snap_start") not in (None, "None") and snap != config["snap_start"]:
            self.cannot(f"SnapStart: accepted, reported back as {snap!r}")
        aliases = {a["Name"]: a for a in awslambda.list_aliases(FunctionName=name)["Aliases"]}
        alias = self.parameters.get("LambdaAlias")
        if alias:
            self.check(f"alias {alias} (API Gateway invokes it)", alias in aliases, str(sorted(aliases)))
        versions = [
            v["Version"]
            for v in awslambda.list_versions_by_function(FunctionName=name)["Versions"]
            if v["Version"] != "$LATEST"
        ]
        if alias and alias in aliases:
            newest = max(versions, key=int) if versions else None
            self.check(
                f"alias {alias} on the newest version",
                aliases[alias]["FunctionVersion"] == newest,
                f"{aliases[alias]['FunctionVersion']} of {versions}",
            )
        rules = events.list_rules()["Rules"]
        for event in [event for event in config.get("events", []) if "expression" in event]:
            # Zappa names the rule "<function>-<handler path>", or "<hash>-<handler path>" when that is
            # over EventBridge's 64 characters; the target check below ties it to this function.
            matching = [r for r in rules if r["Name"].endswith(event["function"])]
            ok = bool(matching) and matching[0].get("ScheduleExpression") == event["expression"]
            self.check(
                f"schedule {event['expression']} -> {event['function']}", ok, str([r["Name"] for r in rules])
            )
            if matching:
                targets = events.list_targets_by_rule(Rule=matching[0]["Name"])["Targets"]
                self.check(
                    "schedule targets the function", any(name in t["Arn"] for t in targets), str(targets)
                )
                # moto answers AddPermission 200 where AWS answers 201, so Zappa logs "Problem creating
                # permission": check that the permission is there all the same.
                policy = json.loads(awslambda.get_policy(FunctionName=name)["Policy"])
                allowed = any(
                    s.get("Principal", {}).get("Service") == "events.amazonaws.com"
                    and matching[0]["Arn"] in json.dumps(s.get("Condition", {}))
                    for s in policy["Statement"]
                )
                self.check(
                    "EventBridge may invoke the function for the schedule", allowed, json.dumps(policy)
                )

    def run(self) -> int:
        with tempfile.TemporaryDirectory(prefix="imageedit-rehearsal-") as directory:
            try:
                self.create_stack()
            except Exception as exc:  # noqa: BLE001
                self.check("create the stack", False, repr(exc))
                return self.summary()
            self.settings = self.settings_file(Path(directory))
            self.step(f"zappa deploy {self.stage} -z {self.package.name}")
            if self.zappa("deploy", self.stage, "-z", str(self.package)):
                self.check_function()
            self.step(f"zappa update {self.stage} -z {self.package.name}")
            if self.zappa("update", self.stage, "-z", str(self.package)):
                self.check_function()
            self.step(f"zappa rollback {self.stage} -n 1")
            if self.zappa("rollback", self.stage, "-n", "1"):
                self.check_function()
            self.step(f"zappa undeploy {self.stage} --yes")
            if self.zappa("undeploy", self.stage, "--yes"):
                self.check("function removed", self._function_gone())
                rules = self.client("events").list_rules()["Rules"]
                handlers = [
                    event["function"]
                    for event in stage_settings(self.stage).get("events", [])
                    if "expression" in event
                ]
                left = [r["Name"] for r in rules if any(r["Name"].endswith(h) for h in handlers)]
                self.check("schedule removed", not left, str(left))
            self.step("aws cloudformation delete-stack")
            self.client("cloudformation").delete_stack(StackName=STACK.format(stage=self.stage))
            self.check("stack deleted", True)
        return self.summary()

    def _function_gone(self) -> bool:
        try:
            self.client("lambda").get_function(FunctionName=self.parameters["LambdaFunctionName"])
        except Exception:  # noqa: BLE001 (ResourceNotFoundException)
            return True
        return False

    def summary(self) -> int:
        print("\n== summary")
        for item in self.moto_cannot:
            print(f"  moto cannot: {item}")
        for item in self.failures:
            print(f"  FAILED: {item}")
        print(
            f"  {len(self.failures)} failure(s), {len(self.moto_cannot)} step(s) moto cannot do", flush=True
        )
        return 1 if self.failures else 0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stage", nargs="?", default="production")
    parser.add_argument("--package", type=Path, default=None, help="default: dist/imageedit-<stage>.zip")
    args = parser.parse_args(argv)
    package = args.package or ROOT / "dist" / f"imageedit-{args.stage}.zip"
    if not package.exists():
        print(f"{package} does not exist: run `make package` first", file=sys.stderr)
        return 2
    from moto.server import ThreadedMotoServer

    # moto's request log and its tracebacks: its gaps are reported as MOTO CANNOT lines instead.
    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    # Everything below, Zappa's CLI included, talks to moto: never to AWS.
    os.environ.update(
        AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",  # noqa: S106 (moto's dummy credentials)
        AWS_DEFAULT_REGION=REGION,
        AWS_REGION=REGION,
    )
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        os.environ.pop(name, None)
    try:
        return Rehearsal(args.stage, package).run()
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())

"""The REST API in infra/template.yaml: two doors, the authorizer's scope, validation, limits and logs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from deploy.stack_parameters import stack_parameters, stage_settings
from devstack.apigateway_routes import api_routes

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "infra" / "template.yaml"
SCOPE = "aws.cognito.signin.user.admin"
# The routes that must work signed out (everything else under /api/ needs an access token).
SIGNED_OUT_API = {
    ("POST", f"/api/v1/auth/{name}")
    for name in ("token", "refresh", "challenge", "signup", "confirm", "resend", "forgot", "reset", "signout")
} | {("GET", "/api/v1/auth/password-policy")}
PUBLIC_DOCS = {("GET", "/api/schema"), ("GET", "/api/docs")}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    from cfnlint.decode import decode

    decoded, matches = decode(str(TEMPLATE))
    assert not matches
    return decoded


@pytest.fixture(scope="module")
def routes():
    return api_routes(TEMPLATE)


def _methods(template):
    return {
        n: r["Properties"] for n, r in template["Resources"].items() if r["Type"] == "AWS::ApiGateway::Method"
    }


@pytest.mark.parametrize("stage", ["dev", "production"])
def test_the_lambda_timeout_is_given_once(template, stage):
    config = stage_settings(stage)
    assert template["Parameters"]["LambdaTimeoutSeconds"]["Default"] == config["timeout_seconds"]
    assert stack_parameters(stage)["LambdaTimeoutSeconds"] == str(config["timeout_seconds"])


def test_zappa_deploys_the_function_and_this_stack_the_api(template):
    # Zappa's own API would be a catch-all with one authorizer on every route (design §1.1).
    assert stage_settings("production")["apigateway_enabled"] is False
    [api] = [r for r in template["Resources"].values() if r["Type"] == "AWS::ApiGateway::RestApi"]
    assert api["Properties"]["Name"] == {"Ref": "ApiName"}
    assert template["Parameters"]["ApiName"]["Default"] == "ImageEditingAppBackendAPI"
    assert api["Properties"]["BinaryMediaTypes"] == ["*/*"]


def test_every_api_route_but_the_signed_out_ones_needs_an_access_token(routes):
    seen = set()
    for route in routes:
        key = (route.method, route.path)
        seen.add(key)
        if route.path.startswith("/api/") and key not in SIGNED_OUT_API | PUBLIC_DOCS:
            assert route.authorization == "COGNITO_USER_POOLS", key
            assert route.scopes == (SCOPE,), key
            assert route.required_headers == ("authorization",), key
        else:
            assert route.authorization == "NONE", key
            assert route.scopes == (), key
    assert seen >= SIGNED_OUT_API
    # The pages, their JSON (/web/...) and static files are all behind the unguarded catch-all.
    assert ("ANY", "/{proxy+}") in seen and ("ANY", "/") in seen
    assert ("ANY", "/api/{proxy+}") in seen


def test_every_method_is_a_proxy_to_the_functions_alias(template):
    methods = _methods(template)
    assert methods, "no API Gateway methods in the template"
    for name, method in methods.items():
        integration = method["Integration"]
        assert integration["Type"] == "AWS_PROXY", name
        assert integration["IntegrationHttpMethod"] == "POST", name
        condition, with_alias, without = integration["Uri"]["Fn::If"]
        assert condition == "HasLambdaAlias"
        assert with_alias["Fn::Sub"].endswith(":function:${LambdaFunctionName}:${LambdaAlias}/invocations")
        assert without["Fn::Sub"].endswith(":function:${LambdaFunctionName}/invocations")
        assert integration["TimeoutInMillis"] == 29000
        assert integration["Credentials"] == {"Fn::GetAtt": ["ApiInvokeRole", "Arn"]}


def test_the_authorizer_is_the_pools(template):
    [authorizer] = [
        r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::ApiGateway::Authorizer"
    ]
    assert authorizer["Type"] == "COGNITO_USER_POOLS"
    assert authorizer["ProviderARNs"] == [{"Fn::GetAtt": ["UserPool", "Arn"]}]
    assert authorizer["IdentitySource"] == "method.request.header.Authorization"


def test_sign_in_routes_are_throttled_tighter_than_the_stage(template):
    stage = template["Resources"]["ApiStage"]["Properties"]
    settings = {(s["ResourcePath"], s["HttpMethod"]): s for s in stage["MethodSettings"]}
    assert settings[("/*", "*")]["ThrottlingRateLimit"] == {"Ref": "ThrottlingRateLimit"}
    signed_out = ("/~1api~1v1~1auth~1token", "/~1api~1v1~1auth~1refresh", "/~1api~1v1~1auth~1forgot")
    for path in (*signed_out, "/~1signin"):
        assert settings[(path, "POST")]["ThrottlingRateLimit"] == {"Ref": "SignInRateLimit"}
    parameters = template["Parameters"]
    assert parameters["SignInRateLimit"]["Default"] < parameters["ThrottlingRateLimit"]["Default"]
    assert parameters["SignInBurstLimit"]["Default"] < parameters["ThrottlingBurstLimit"]["Default"]


def test_access_logs_are_json_lines_in_the_api_log_group(template):
    stage = template["Resources"]["ApiStage"]["Properties"]
    assert stage["AccessLogSetting"]["DestinationArn"] == {"Fn::GetAtt": ["ApiLogGroup", "Arn"]}
    group = template["Resources"]["ApiLogGroup"]["Properties"]
    assert group["LogGroupName"] == {"Fn::Sub": "/aws/apigateway/${ApiName}"}
    line = json.loads(stage["AccessLogSetting"]["Format"])
    assert line["requestId"] == "$context.requestId"
    assert line["ip"] == "$context.identity.sourceIp"
    assert line["sub"] == "$context.authorizer.claims.sub"
    assert {"httpMethod", "path", "status", "responseLatency"} <= set(line)


def test_gateway_responses_carry_the_allowed_origin(template):
    responses = {
        r["Properties"]["ResponseType"]: r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::ApiGateway::GatewayResponse"
    }
    assert set(responses) == {"DEFAULT_4XX", "DEFAULT_5XX"}
    for response in responses.values():
        condition, headers, _ = response["ResponseParameters"]["Fn::If"]
        assert condition == "HasAllowedOrigin"
        assert headers["gatewayresponse.header.Access-Control-Allow-Origin"] == {
            "Fn::Sub": "'${AllowedOrigin}'"
        }


def test_api_gateway_may_invoke_only_the_function(template):
    role = template["Resources"]["ApiInvokeRole"]["Properties"]
    [policy] = role["Policies"]
    [statement] = policy["PolicyDocument"]["Statement"]
    assert statement["Action"] == "lambda:InvokeFunction"
    assert all(":function:${LambdaFunctionName}" in r["Fn::Sub"] for r in statement["Resource"])

"""What the rehearsal does with the template where moto's CloudFormation cannot create a resource."""

from __future__ import annotations

import copy

# What the rehearsal does about each resource type moto's CloudFormation (5.2.5) cannot create.
HOW_SKIPPED = {
    "AWS::Cognito::UserPool": "created with the Cognito API instead",
    "AWS::Cognito::UserPoolClient": "created with the Cognito API instead",
    "AWS::ApiGateway::Authorizer": "created with the API Gateway API",
    "AWS::ApiGateway::RequestValidator": "created with the API Gateway API",
    "AWS::ApiGateway::Stage": "created with the API Gateway API (without access-log and throttling settings)",
    "AWS::ApiGateway::GatewayResponse": "put with the API Gateway API (without the CORS header)",
    "AWS::ApiGateway::Model": "not created (the local gateway applies the models)",
    "AWS::ApiGateway::Account": "not created (an account-wide setting)",
    "AWS::S3::BucketPolicy": "not created",
    "AWS::CloudWatch::Alarm": "not created (cfn-lint and tests/infra check them)",
    "AWS::SNS::Subscription": "not created (only with AlarmEmail)",
}


def template_strip(template: dict, skipped: dict[str, str], real: dict[str, tuple[str, dict]]) -> dict:
    """The template without `skipped` resources; references to them get real or placeholder values."""
    body = copy.deepcopy(template)
    for name in skipped:
        body["Resources"].pop(name)

    def value(name: str, attribute: str | None = None) -> str:
        if name in real:
            ref, attributes = real[name]
            return attributes.get(attribute, ref) if attribute else ref
        return f"rehearsal-{name}-{attribute or 'ref'}"

    def walk(node):
        if isinstance(node, dict):
            if list(node) == ["Ref"] and node["Ref"] in skipped:
                return value(node["Ref"])
            if list(node) == ["Fn::GetAtt"] and node["Fn::GetAtt"][0] in skipped:
                return value(*node["Fn::GetAtt"][:2])
            if list(node) == ["Fn::Sub"] and isinstance(node["Fn::Sub"], str):
                text = node["Fn::Sub"]
                for name in skipped:
                    text = text.replace("${" + name + ".Arn}", value(name, "Arn")).replace(
                        "${" + name + "}", value(name)
                    )
                return {"Fn::Sub": text}
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(item) for item in node]
        return node

    body = walk(body)
    for resource in body["Resources"].values():
        depends = resource.get("DependsOn")
        if isinstance(depends, list):
            resource["DependsOn"] = [d for d in depends if d not in skipped]
    body["Outputs"] = {k: v for k, v in body.get("Outputs", {}).items() if "Condition" not in v}
    return body

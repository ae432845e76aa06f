"""The REST API's methods as the template declares them, put with the API Gateway API (moto drops them)."""

from __future__ import annotations

from collections.abc import Callable


def integration_uri(*, region: str, function_name: str, alias: str | None) -> str:
    """The Lambda proxy integration's URI for the function (and its alias, when the stage has one)."""
    account = "123456789012"
    qualifier = f":{alias}" if alias else ""
    return (
        f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/"
        f"arn:aws:lambda:{region}:{account}:function:{function_name}{qualifier}/invocations"
    )


def rest_api_complete(
    *,
    apigw,
    api_id: str,
    pool_arn: str,
    invoke_role_arn: str,
    uri: str,
    stage: str,
    check: Callable[[str, bool, str], None],
    cannot: Callable[[str], None],
) -> None:
    """What moto's CloudFormation leaves out of the REST API, made with the API Gateway API."""
    from devstack.apigateway_routes import api_definition

    cannot(
        "CloudFormation AWS::ApiGateway::Method drops AuthorizerId, AuthorizationScopes, "
        "RequestParameters and the integration's Credentials/TimeoutInMillis: put again with the API"
    )
    authorizer = apigw.create_authorizer(
        restApiId=api_id,
        name="cognito-access-token",
        type="COGNITO_USER_POOLS",
        providerARNs=[pool_arn],
        identitySource="method.request.header.Authorization",
    )
    validator = apigw.create_request_validator(
        restApiId=api_id, name="parameters", validateRequestParameters=True
    )
    apigw.create_request_validator(
        restApiId=api_id,
        name="parameters-and-body",
        validateRequestParameters=True,
        validateRequestBody=True,
    )
    resources = {r["path"]: r["id"] for r in apigw.get_resources(restApiId=api_id, limit=500)["items"]}
    for route in api_definition().routes:
        resource_id = resources.get(route.path)
        if resource_id is None:
            check(f"resource {route.path} exists", False, "missing")
            continue
        kwargs = {}
        if route.authorization == "COGNITO_USER_POOLS":
            kwargs = {
                "authorizerId": authorizer["id"],
                "authorizationScopes": list(route.scopes),
                "requestParameters": {
                    f"method.request.header.{h.title()}": True for h in route.required_headers
                },
                "requestValidatorId": validator["id"],
            }
        apigw.delete_method(restApiId=api_id, resourceId=resource_id, httpMethod=route.method)
        apigw.put_method(
            restApiId=api_id,
            resourceId=resource_id,
            httpMethod=route.method,
            authorizationType=route.authorization,
            **kwargs,
        )
        apigw.put_integration(
            restApiId=api_id,
            resourceId=resource_id,
            httpMethod=route.method,
            type="AWS_PROXY",
            integrationHttpMethod="POST",
            uri=uri,
            timeoutInMillis=route.timeout_ms,
            credentials=invoke_role_arn,
        )
    deployment = apigw.create_deployment(restApiId=api_id, description="rehearsal")
    apigw.create_stage(restApiId=api_id, stageName=stage, deploymentId=deployment["id"])
    for kind in ("DEFAULT_4XX", "DEFAULT_5XX"):
        apigw.put_gateway_response(restApiId=api_id, responseType=kind)

"""The REST API as infra/template.yaml declares it: routes, authorization, validation, limits and logging."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from devstack.gateway_answers import HTTP_METHODS

TEMPLATE = Path(__file__).resolve().parent.parent / "infra" / "template.yaml"


@dataclass(frozen=True)
class Route:
    """One method on one resource, with what API Gateway checks before it calls the function."""

    method: str  # GET, POST, ..., or ANY
    path: str  # the resource path, e.g. /api/v1/edits/{edit_id}
    authorization: str  # NONE or COGNITO_USER_POOLS
    scopes: tuple[str, ...] = ()
    required_headers: tuple[str, ...] = ()  # lower-case names
    body_schema: dict | None = None  # the application/json model, when a body validator is on
    timeout_ms: int = 29000

    @property
    def segments(self) -> tuple[str, ...]:
        return tuple(part for part in self.path.split("/") if part)


@dataclass(frozen=True)
class Throttle:
    rate: float
    burst: int


@dataclass(frozen=True)
class ApiDefinition:
    routes: tuple[Route, ...]
    binary_media_types: tuple[str, ...]
    access_log_format: str
    stage_throttle: Throttle
    # (resource path, method) -> a tighter limit
    method_throttles: dict[tuple[str, str], Throttle] = field(default_factory=dict)


def _value(value, parameters: dict):
    """A literal, or a Ref to a parameter (resolved to its default, or an override)."""
    if isinstance(value, dict) and list(value) == ["Ref"]:
        return parameters[value["Ref"]]
    return value


def _decode(path: Path) -> dict:
    from cfnlint.decode import decode

    template, matches = decode(str(path))
    if matches or template is None:
        raise ValueError(f"{path} does not parse: {matches}")
    return template


@lru_cache(maxsize=4)
def api_definition(path: Path = TEMPLATE, overrides: tuple[tuple[str, str], ...] = ()) -> ApiDefinition:
    """Read the API from the template; `overrides` are stack parameters, like --parameter-overrides."""
    template = _decode(path)
    parameters = {name: spec.get("Default") for name, spec in template["Parameters"].items()}
    parameters.update(dict(overrides))
    resources = template["Resources"]

    def resource_path(ref) -> str:
        if ref == {"Fn::GetAtt": ["Api", "RootResourceId"]}:
            return "/"
        resource = resources[ref["Ref"]]["Properties"]
        parent = resource_path(resource["ParentId"])
        return parent.rstrip("/") + "/" + resource["PathPart"]

    models = {
        name: res["Properties"]["Schema"]
        for name, res in resources.items()
        if res["Type"] == "AWS::ApiGateway::Model"
    }
    validators = {
        name: res["Properties"]
        for name, res in resources.items()
        if res["Type"] == "AWS::ApiGateway::RequestValidator"
    }
    routes = []
    for res in resources.values():
        if res["Type"] != "AWS::ApiGateway::Method":
            continue
        method = res["Properties"]
        validator = validators.get((method.get("RequestValidatorId") or {}).get("Ref"), {})
        required = ()
        if validator.get("ValidateRequestParameters"):
            required = tuple(
                sorted(
                    name.removeprefix("method.request.header.").lower()
                    for name, needed in (method.get("RequestParameters") or {}).items()
                    if needed and name.startswith("method.request.header.")
                )
            )
        schema = None
        if validator.get("ValidateRequestBody"):
            model = (method.get("RequestModels") or {}).get("application/json")
            schema = models[model["Ref"]] if model else None
        routes.append(
            Route(
                method=method["HttpMethod"],
                path=resource_path(method["ResourceId"]),
                authorization=method["AuthorizationType"],
                scopes=tuple(method.get("AuthorizationScopes") or ()),
                required_headers=required,
                body_schema=schema,
                timeout_ms=int(method["Integration"].get("TimeoutInMillis", 29000)),
            )
        )

    [api] = [res["Properties"] for res in resources.values() if res["Type"] == "AWS::ApiGateway::RestApi"]
    [stage] = [res["Properties"] for res in resources.values() if res["Type"] == "AWS::ApiGateway::Stage"]
    stage_throttle = None
    method_throttles = {}
    for setting in stage.get("MethodSettings", []):
        throttle = Throttle(
            rate=float(_value(setting["ThrottlingRateLimit"], parameters)),
            burst=int(_value(setting["ThrottlingBurstLimit"], parameters)),
        )
        if setting["ResourcePath"] == "/*" and setting["HttpMethod"] == "*":
            stage_throttle = throttle
        else:
            # "/~1api~1v1~1auth~1token": API Gateway's JSON-pointer escaping of the resource path.
            path = setting["ResourcePath"].replace("~1", "/")
            method_throttles[(re.sub("^//", "/", path), setting["HttpMethod"])] = throttle
    return ApiDefinition(
        routes=tuple(routes),
        binary_media_types=tuple(api.get("BinaryMediaTypes") or ()),
        access_log_format=stage["AccessLogSetting"]["Format"],
        stage_throttle=stage_throttle or Throttle(rate=10000, burst=5000),
        method_throttles=method_throttles,
    )


def api_routes(path: Path = TEMPLATE) -> tuple[Route, ...]:
    return api_definition(path).routes


def route_match(routes, method: str, path: str) -> tuple[Route | None, bool, dict[str, str]]:
    """API Gateway's resource selection: literal segments before {param} before {proxy+}.

    Returns (route, resource_found, path parameters). A resource without the method (and without ANY)
    is (None, True, ...): API Gateway answers 403 Missing Authentication Token for both cases.
    """
    # A trailing slash names the same resource (/api/docs/ is /api/docs).
    segments = tuple(part for part in path.split("/") if part)
    by_path: dict[tuple[str, ...], list[Route]] = {}
    for route in routes:
        by_path.setdefault(route.segments, []).append(route)

    def rank(part: str) -> int:
        return 2 if part.endswith("+}") else 1 if part.startswith("{") else 0

    def walk(prefix: tuple[str, ...], rest: tuple[str, ...], params: dict):
        if not rest:
            return (prefix, params) if prefix in by_path else None
        children = {
            key[len(prefix)] for key in by_path if len(key) > len(prefix) and key[: len(prefix)] == prefix
        }
        for child in sorted(children, key=rank):
            if rank(child) == 0 and child == rest[0]:
                found = walk(prefix + (child,), rest[1:], params)
            elif rank(child) == 1:
                found = walk(prefix + (child,), rest[1:], {**params, child[1:-1]: rest[0]})
            elif rank(child) == 2:
                key = prefix + (child,)
                found = (key, {**params, child[1:-2]: "/".join(rest)}) if key in by_path else None
            else:
                continue
            if found:
                return found
        return None

    found = walk((), segments, {})
    if not found:
        return None, False, {}
    key, params = found
    candidates = by_path[key]
    for route in candidates:
        if route.method == method:
            return route, True, params
    for route in candidates:
        # ANY stands for the seven methods a REST API knows, not for TRACE, CONNECT or a made-up token.
        if route.method == "ANY" and method in HTTP_METHODS:
            return route, True, params
    return None, True, params

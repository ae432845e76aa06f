"""One source of truth for routes: the template's API is generated from deploy/api_routes.py, every
Django route is served by the template with the authorization its view expects, and every template
route reaches a view that takes its methods."""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404
from rest_framework.permissions import IsAuthenticated

from deploy.api_routes import COGNITO, PUBLIC, SCOPE
from deploy.api_template import TEMPLATE, main, template_render
from devstack.apigateway_routes import api_definition, route_match

SAMPLE_ID = "00000000-0000-0000-0000-000000000000"


@pytest.fixture(scope="module")
def routes():
    # A fresh read, not api_definition's cache: this test is about the file as it is now.
    api_definition.cache_clear()
    return api_definition(TEMPLATE).routes


def django_routes() -> list[tuple[str, object]]:
    """Every URL pattern as (concrete path, view callback), includes flattened."""
    found = []

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern):
                found.append(("/" + re.sub(r"<[^>]+>", SAMPLE_ID, route), pattern.callback))

    walk(get_resolver().url_patterns, "")
    return found


def view_methods(callback) -> set[str]:
    view = getattr(callback, "cls", None)
    if view is None:
        # A page shows on GET and acts on POST (a form); the schema, its docs and healthz are read only.
        is_page = callback.__module__.endswith(("pages", "account_pages"))
        return {"GET", "POST"} if is_page else {"GET"}
    return {m.upper() for m in view.http_method_names if m not in ("options", "head") and hasattr(view, m)}


def intended_access(path: str, callback) -> str:
    """What the edge must do, from the code: REST views that need a signed-in user sit behind the
    Cognito authorizer; everything else (pages, /web/v1 with its session, signed-out account routes,
    schema, health) is public at the edge."""
    if not path.startswith("/api/v1/"):
        return PUBLIC
    view = callback.cls
    initkwargs = getattr(callback, "initkwargs", {})
    permissions = initkwargs.get("permission_classes", view.permission_classes)
    return COGNITO if any(issubclass(p, IsAuthenticated) for p in permissions) else PUBLIC


def test_the_template_is_generated_from_the_route_table():
    text = TEMPLATE.read_text()
    assert template_render(text) == text, "run: python -m deploy.api_template"
    assert main(["--check"]) == 0


def test_every_django_route_is_served_with_the_authorization_its_view_expects(routes):
    checked = 0
    for path, callback in django_routes():
        expected = intended_access(path, callback)
        for method in sorted(view_methods(callback)):
            route, _, _ = route_match(routes, method, path)
            assert route is not None, f"{method} {path}: API Gateway would answer 403 (no route)"
            assert route.authorization == expected, (
                f"{method} {path} is {route.authorization} at the edge, its view needs {expected}: "
                "fix its line in deploy/api_routes.py"
            )
            if expected == COGNITO:
                assert route.scopes == (SCOPE,) and route.required_headers == ("authorization",)
            else:
                assert route.scopes == ()
            if path.startswith("/api/v1/"):
                # Its own resource, not the /api/{proxy+} catch-all: exact methods, throttles and logs.
                assert "{proxy+}" not in route.path, f"{method} {path}: add a line to deploy/api_routes.py"
            checked += 1
    assert checked > 40  # the walk found the routes (api, web, pages, schema, health)


def test_every_template_route_reaches_a_view_that_takes_its_method(routes):
    for route in routes:
        if "{proxy+}" in route.path or route.path == "/":
            continue  # the catch-alls: Django answers (or 404s) whatever reaches them
        path = re.sub(r"\{[^}]+\}", SAMPLE_ID, route.path)
        try:
            match = resolve(path)
        except Resolver404:
            match = resolve(path + "/")  # /api/schema and /api/docs are Django's "api/schema/"
        assert route.method in view_methods(match.func), (route.method, route.path)


def test_signed_out_account_routes_are_public_and_throttled_like_sign_in(routes):
    definition = api_definition(TEMPLATE)
    sign_in = definition.method_throttles[("/api/v1/auth/token", "POST")]
    for name in ("signup", "confirm", "resend", "forgot", "reset", "challenge", "signout", "refresh"):
        route, _, _ = route_match(routes, "POST", f"/api/v1/auth/{name}")
        assert route.path == f"/api/v1/auth/{name}" and route.authorization == PUBLIC, name
        assert definition.method_throttles[(route.path, "POST")] == sign_in, name
    route, _, _ = route_match(routes, "GET", "/api/v1/auth/password-policy")
    assert route.authorization == PUBLIC
    assert sign_in.rate < definition.stage_throttle.rate

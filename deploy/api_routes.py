"""The REST API's routes, one line each: the one source infra/template.yaml's API resources are made from.

`python -m deploy.api_template` rewrites the template's generated section from this table and
tests/infra/test_routes.py fails when the file is out of date or when a Django route is not served
with the authorization its view expects. Adding an /api/v1 route is one line here plus that command.

PUBLIC: no authorizer (the app authenticates, if at all: pages and /web/v1 by the session with CSRF,
account routes by what they are sent). COGNITO: the Cognito authorizer with the access-token scope; the
app checks the token again. `sign_in` lists the methods under the tighter sign-in throttle (they reach
Cognito with a password, a code or a refresh token). `model` is the JSON body model API Gateway checks.
"""

from __future__ import annotations

from dataclasses import dataclass

PUBLIC = "NONE"
COGNITO = "COGNITO_USER_POOLS"
SCOPE = "aws.cognito.signin.user.admin"


@dataclass(frozen=True)
class ApiRoute:
    path: str
    methods: tuple[str, ...]
    access: str
    sign_in: tuple[str, ...] = ()
    model: str | None = None


def public(path: str, *methods: str, sign_in: tuple[str, ...] = (), model: str | None = None) -> ApiRoute:
    return ApiRoute(path, methods, PUBLIC, sign_in, model)


def cognito(path: str, *methods: str) -> ApiRoute:
    return ApiRoute(path, methods, COGNITO)


POST = ("POST",)

ROUTES: tuple[ApiRoute, ...] = (
    # The pages, their JSON calls (/web/v1, session + CSRF) and static files.
    public("/", "ANY"),
    public("/{proxy+}", "ANY"),
    # Pages that post a password or a code to Cognito: the sign-in throttle on their POST.
    public("/signin", "GET", "POST", sign_in=POST),
    public("/signin/code", "GET", "POST", sign_in=POST),
    public("/signin/new-password", "GET", "POST", sign_in=POST),
    public("/signin/mfa-setup", "GET", "POST", sign_in=POST),
    public("/signup", "GET", "POST", sign_in=POST),
    public("/signup/confirm", "GET", "POST", sign_in=POST),
    public("/password/forgot", "GET", "POST", sign_in=POST),
    public("/password/reset", "GET", "POST", sign_in=POST),
    public("/api/schema", "GET"),
    public("/api/docs", "GET"),
    # Anything else under /api/ needs an access token before the function runs.
    cognito("/api/{proxy+}", "ANY"),
    # Signed-out account routes (sign-out works with only a refresh token).
    public("/api/v1/auth/token", "POST", sign_in=POST, model="SignInModel"),
    public("/api/v1/auth/refresh", "POST", sign_in=POST, model="RefreshModel"),
    public("/api/v1/auth/challenge", "POST", sign_in=POST),
    public("/api/v1/auth/password-policy", "GET"),
    public("/api/v1/auth/signup", "POST", sign_in=POST),
    public("/api/v1/auth/confirm", "POST", sign_in=POST),
    public("/api/v1/auth/resend", "POST", sign_in=POST),
    public("/api/v1/auth/forgot", "POST", sign_in=POST),
    public("/api/v1/auth/reset", "POST", sign_in=POST),
    public("/api/v1/auth/signout", "POST", sign_in=POST),
    # Signed in.
    cognito("/api/v1/auth/password", "POST"),
    cognito("/api/v1/auth/mfa", "GET", "POST", "DELETE"),
    cognito("/api/v1/auth/mfa/setup", "POST"),
    cognito("/api/v1/me", "GET"),
    cognito("/api/v1/edits", "GET", "POST"),
    cognito("/api/v1/edits/{edit_id}", "GET", "DELETE"),
    cognito("/api/v1/edits/{edit_id}/versions", "GET"),
    cognito("/api/v1/models", "GET"),
    cognito("/api/v1/uploads", "POST"),
    cognito("/api/v1/uploads/{upload_id}/preview", "POST"),
    cognito("/api/v1/usage", "GET"),
    cognito("/api/v1/batches", "GET", "POST"),
    cognito("/api/v1/batches/{batch_id}", "GET", "DELETE"),
    cognito("/api/v1/batches/{batch_id}/edits", "GET"),
)

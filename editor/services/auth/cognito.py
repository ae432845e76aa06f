"""The one gateway to Cognito: every call and its error map, sign in, refresh, sign out, creating users."""

from __future__ import annotations

import logging

from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError
from django.conf import settings

from editor.errors import ServiceError
from editor.services.auth.pool_rules import PasswordRefused, password_problems
from editor.services.auth.revocation import token_ended_mark
from editor.services.aws import aws_client

logger = logging.getLogger(__name__)

# Cognito's answers that a person can act on; anything else is the service's problem, not theirs.
_AUTH_ERRORS = {
    # One message for both so a caller cannot learn which usernames exist.
    "NotAuthorizedException": ("invalid_credentials", "Incorrect username or password.", 401),
    "UserNotFoundException": ("invalid_credentials", "Incorrect username or password.", 401),
    "PasswordResetRequiredException": (
        "password_reset_required",
        "This account must reset its password.",
        403,
    ),
    "UserNotConfirmedException": ("user_not_confirmed", "This account is not confirmed yet.", 403),
    "TooManyRequestsException": ("too_many_requests", "Too many sign-in attempts; wait a minute.", 429),
    "LimitExceededException": ("too_many_requests", "Too many sign-in attempts; wait a minute.", 429),
}


_THROTTLING = {"TooManyRequestsException", "LimitExceededException", "TooManyFailedAttemptsException"}
_SIGNED_OUT = ("signed_out", "This sign-in has ended (signed out or password changed); sign in again.", 401)
_THROTTLED = (
    "too_many_requests",
    "Too many attempts for this account; wait a few minutes and try again.",
    429,
)
_UNAVAILABLE = ("auth_unavailable", "Accounts are unavailable right now; try again in a minute.", 503)


def cognito_call(
    operation: str, *, errors: dict | None = None, quiet: tuple[str, ...] = (), **kwargs
) -> dict | None:
    """Call Cognito; map its errors to what a person can act on; `quiet` errors return None."""
    try:
        return getattr(aws_client("cognito-idp"), operation)(**kwargs)
    except ClientError as exc:
        code = exc.response["Error"]["Code"]
        if code in quiet:
            logger.info("cognito refused quietly", extra={"operation": operation, "aws_error": code})
            return None
        if code in (errors or {}):
            error_code, message, status = errors[code]
            raise ServiceError(error_code, message, status=status) from exc
        if code == "NotAuthorizedException" and "AccessToken" in kwargs:
            # The token's sign-in ended after the app last asked (signed out elsewhere, another process).
            token_ended_mark(token=kwargs["AccessToken"])
            raise ServiceError(*_SIGNED_OUT[:2], status=_SIGNED_OUT[2]) from exc
        if code in _THROTTLING:
            raise ServiceError(*_THROTTLED[:2], status=_THROTTLED[2]) from exc
        if code == "InvalidPasswordException":
            raise PasswordRefused(
                password_problems(kwargs.get("Password") or kwargs.get("ProposedPassword") or "")
                or [exc.response["Error"].get("Message", "Cognito refused it.")]
            ) from exc
        logger.exception("cognito call failed", extra={"operation": operation, "aws_error": code})
        raise ServiceError(_UNAVAILABLE[0], _UNAVAILABLE[1], status=_UNAVAILABLE[2]) from exc
    except ParamValidationError as exc:
        # Input that passed our serializers but not Cognito's own shape rules (say a 3-character session).
        raise ServiceError(
            "invalid_request", "A field is not in a form Cognito accepts; check it and try again.", status=400
        ) from exc
    except BotoCoreError as exc:
        logger.exception("cognito unreachable", extra={"operation": operation})
        raise ServiceError(_UNAVAILABLE[0], _UNAVAILABLE[1], status=_UNAVAILABLE[2]) from exc


def tokens_from(result: dict) -> dict:
    """The API's tokens from Cognito's AuthenticationResult (a refresh brings no new refresh token)."""
    tokens = {"access_token": result["AccessToken"], "id_token": result["IdToken"]}
    if "RefreshToken" in result:
        tokens["refresh_token"] = result["RefreshToken"]
    return {**tokens, "expires_in": result["ExpiresIn"], "token_type": "Bearer"}


def _initiate_auth(flow: str, parameters: dict) -> dict:
    response = cognito_call(
        "initiate_auth",
        errors=_AUTH_ERRORS,
        AuthFlow=flow,
        ClientId=settings.COGNITO_APP_CLIENT_ID,
        AuthParameters=parameters,
    )
    if "AuthenticationResult" not in response:
        raise ChallengeRequired(
            challenge=response.get("ChallengeName", ""),
            session=response.get("Session", ""),
            username=(response.get("ChallengeParameters") or {}).get(
                "USERNAME", parameters.get("USERNAME", "")
            ),
        )
    return response["AuthenticationResult"]


class ChallengeRequired(ServiceError):
    """Cognito wants one more step (a new password, a second factor) before it issues tokens."""

    def __init__(self, *, challenge: str, session: str, username: str) -> None:
        super().__init__(
            "challenge_required",
            f"This account must complete {challenge or 'a challenge'} before signing in.",
            status=403,
        )
        self.challenge, self.session, self.username = challenge, session, username


def cognito_sign_in(*, username: str, password: str) -> dict:
    """Exchange a username and password for access, id and refresh tokens."""
    return tokens_from(_initiate_auth("USER_PASSWORD_AUTH", {"USERNAME": username, "PASSWORD": password}))


def cognito_refresh(*, refresh_token: str) -> dict:
    """Exchange a refresh token for new access and id tokens."""
    try:
        result = _initiate_auth("REFRESH_TOKEN_AUTH", {"REFRESH_TOKEN": refresh_token})
    except ServiceError as exc:
        if exc.code == "invalid_credentials":
            raise ServiceError(
                "invalid_refresh_token", "The refresh token is invalid or expired.", status=401
            ) from exc
        raise
    return tokens_from(result)


def cognito_sign_out(*, access_token: str, refresh_token: str) -> None:
    """Revoke the refresh token and the tokens issued from it; best effort, signing out never fails.

    Only this sign-in ends (RevokeToken): other devices stay signed in. The app's check of each token
    (services/revocation.py) refuses the access token within its bound, at once in this process.
    """
    try:
        aws_client("cognito-idp").revoke_token(Token=refresh_token, ClientId=settings.COGNITO_APP_CLIENT_ID)
    except (ClientError, BotoCoreError) as exc:
        logger.warning("sign-out revocation failed", extra={"error": str(exc)})
        return
    token_ended_mark(token=access_token)


def cognito_user_create(*, username: str, password: str, email: str = "", pool_id: str = "") -> str:
    """Create a confirmed user with a permanent password (idempotent); return its sub."""
    client = aws_client("cognito-idp")
    pool_id = pool_id or settings.COGNITO_USER_POOL_ID
    attributes = (
        [{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}] if email else []
    )
    try:
        client.admin_create_user(
            UserPoolId=pool_id, Username=username, UserAttributes=attributes, MessageAction="SUPPRESS"
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "UsernameExistsException":
            raise
    client.admin_set_user_password(UserPoolId=pool_id, Username=username, Password=password, Permanent=True)
    user = client.admin_get_user(UserPoolId=pool_id, Username=username)
    return next(a["Value"] for a in user["UserAttributes"] if a["Name"] == "sub")


def cognito_user_group_add(*, username: str, group: str, pool_id: str = "") -> None:
    """Add a user to a group of the pool (administrators: see the deployment's spend); idempotent.

    The group reaches the app in the next access token's cognito:groups claim (sign in again).
    """
    aws_client("cognito-idp").admin_add_user_to_group(
        UserPoolId=pool_id or settings.COGNITO_USER_POOL_ID, Username=username, GroupName=group
    )

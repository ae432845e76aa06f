"""Cognito calls: sign in, refresh, sign out, and creating users (sign-up may be closed in production)."""

from __future__ import annotations

import logging

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from editor.errors import ServiceError
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


def _initiate_auth(flow: str, parameters: dict) -> dict:
    try:
        response = aws_client("cognito-idp").initiate_auth(
            AuthFlow=flow, ClientId=settings.COGNITO_APP_CLIENT_ID, AuthParameters=parameters
        )
    except ClientError as exc:
        code = exc.response["Error"]["Code"]
        if code in _AUTH_ERRORS:
            error_code, message, status = _AUTH_ERRORS[code]
            raise ServiceError(error_code, message, status=status) from exc
        logger.exception("cognito initiate_auth failed", extra={"aws_error": code})
        raise ServiceError(
            "auth_unavailable", "Sign-in is unavailable right now; try again.", status=503
        ) from exc
    except BotoCoreError as exc:
        logger.exception("cognito unreachable")
        raise ServiceError(
            "auth_unavailable", "Sign-in is unavailable right now; try again.", status=503
        ) from exc
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
    result = _initiate_auth("USER_PASSWORD_AUTH", {"USERNAME": username, "PASSWORD": password})
    return {
        "access_token": result["AccessToken"],
        "id_token": result["IdToken"],
        "refresh_token": result["RefreshToken"],
        "expires_in": result["ExpiresIn"],
        "token_type": "Bearer",
    }


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
    return {
        "access_token": result["AccessToken"],
        "id_token": result["IdToken"],
        "expires_in": result["ExpiresIn"],
        "token_type": "Bearer",
    }


def cognito_sign_out(*, access_token: str, refresh_token: str) -> None:
    """Revoke the refresh token and the tokens issued from it; best effort, signing out never fails.

    Only this sign-in ends (RevokeToken): other devices stay signed in. The app's check of each token
    (services/revocation.py) refuses the access token within its bound, at once in this process.
    """
    from editor.services.auth.revocation import token_ended_mark

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

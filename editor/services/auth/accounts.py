"""The account life cycle with Cognito: sign in and its challenges, sign up, codes, passwords, sign out.

Every answer that could tell whether an account exists (forgot, resend, sign-up, wrong codes) is the same
for existing and missing users. Failures count against the client address and the (username, address)
pair (services/auth/attempts.py). A password change or reset ends every session of the account.
"""

from __future__ import annotations

import logging
import secrets

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from editor.errors import ServiceError
from editor.services.auth.attempts import RECOVERY, failures_limited
from editor.services.auth.cognito import ChallengeRequired, cognito_call, cognito_sign_in, tokens_from
from editor.services.auth.pool_rules import password_check
from editor.services.auth.revocation import token_ended_mark
from editor.services.aws import aws_client

logger = logging.getLogger(__name__)

# The challenges the app can walk a person through.
# MFA_SETUP: the pool requires a second factor and the person has none yet (see services/auth/mfa.py).
SUPPORTED_CHALLENGES = ("NEW_PASSWORD_REQUIRED", "SOFTWARE_TOKEN_MFA", "MFA_SETUP")

_INVALID_CODE = (
    "invalid_code",
    "That code is wrong or has expired. Use the newest code we sent, or ask for a new one.",
    400,
)
_CHALLENGE_EXPIRED = (
    "challenge_expired",
    "This sign-in step has expired (it lasts 3 minutes); sign in again with your temporary password.",
    401,
)
_INVALID_MFA_CODE = (
    "invalid_code",
    "That code is not right. Enter the 6-digit code your authenticator app shows now.",
    400,
)
_WRONG_CURRENT = ("wrong_current_password", "Your current password is not right.", 400)


def _mask(email: str) -> str:
    name, _, domain = email.partition("@")
    return f"{name[:1]}***@{domain[:1]}***" if name and domain else ""


# --- flows ---------------------------------------------------------------------------------------------


def account_sign_in(*, username: str, password: str, address: str) -> dict:
    """Tokens, or {"challenge", "session", "username"} when Cognito wants another step first."""
    with failures_limited(username=username, address=address):
        try:
            return cognito_sign_in(username=username, password=password)
        except ChallengeRequired as step:
            if step.challenge not in SUPPORTED_CHALLENGES:
                raise ServiceError(
                    "challenge_unsupported",
                    f"This account needs a sign-in step the app does not offer ({step.challenge}).",
                    status=403,
                ) from step
            return {"challenge": step.challenge, "session": step.session, "username": step.username}


# What a stale or foreign challenge session answers; the MFA step tells a wrong code apart.
_CHALLENGE_ERRORS = {
    "NotAuthorizedException": _CHALLENGE_EXPIRED,
    "ExpiredCodeException": _CHALLENGE_EXPIRED,
    "CodeMismatchException": _CHALLENGE_EXPIRED,
    "ResourceNotFoundException": _CHALLENGE_EXPIRED,
    "UserNotFoundException": _CHALLENGE_EXPIRED,
}


def _challenge_answer(
    *, challenge: str, username: str, session: str, answer: dict, address: str, errors: dict
) -> dict:
    """RespondToAuthChallenge for one step of a sign-in, counted against the failure limit."""
    with failures_limited(username=username, address=address):
        return cognito_call(
            "respond_to_auth_challenge",
            errors=errors,
            ClientId=settings.COGNITO_APP_CLIENT_ID,
            ChallengeName=challenge,
            Session=session,
            ChallengeResponses={"USERNAME": username, **answer},
        )


def account_new_password(*, username: str, session: str, new_password: str, address: str) -> dict:
    """Answer NEW_PASSWORD_REQUIRED (first sign-in with a temporary password): tokens, or MFA_SETUP."""
    password_check(new_password)
    response = _challenge_answer(
        challenge="NEW_PASSWORD_REQUIRED",
        username=username,
        session=session,
        answer={"NEW_PASSWORD": new_password},
        address=address,
        errors=_CHALLENGE_ERRORS,
    )
    if response.get("ChallengeName") == "MFA_SETUP":
        # The pool requires a second factor and this person has none yet: set it up next.
        return {"challenge": "MFA_SETUP", "session": response["Session"], "username": username}
    if "AuthenticationResult" not in response:
        raise ServiceError(
            "challenge_unsupported",
            f"Your password is set, but the account needs a step the app does not offer "
            f"({response.get('ChallengeName')}).",
            status=403,
        )
    return tokens_from(response["AuthenticationResult"])


def account_mfa_answer(*, username: str, session: str, code: str, address: str) -> dict:
    """Answer SOFTWARE_TOKEN_MFA with the 6-digit code from the person's authenticator app: tokens."""
    response = _challenge_answer(
        challenge="SOFTWARE_TOKEN_MFA",
        username=username,
        session=session,
        answer={"SOFTWARE_TOKEN_MFA_CODE": code},
        address=address,
        errors={**_CHALLENGE_ERRORS, "CodeMismatchException": _INVALID_MFA_CODE},
    )
    return tokens_from(response["AuthenticationResult"])


def account_sign_up(*, username: str, email: str, password: str, address: str) -> dict:
    """Create an unconfirmed account and send a code; the same answer if the username is taken."""
    password_check(password)
    with failures_limited(username=username, address=address, flow=RECOVERY, count_every_call=True):
        cognito_call(
            "sign_up",
            quiet=("UsernameExistsException", "AliasExistsException"),
            errors={"InvalidParameterException": ("invalid_request", "Check the username and email.", 400)},
            ClientId=settings.COGNITO_APP_CLIENT_ID,
            Username=username,
            Password=password,
            UserAttributes=[{"Name": "email", "Value": email}],
        )
    return {"username": username, "status": "confirmation_sent", "destination": _mask(email)}


def account_confirm(*, username: str, code: str, address: str) -> None:
    """Confirm a new account with the emailed code."""
    with failures_limited(username=username, address=address, flow=RECOVERY):
        cognito_call(
            "confirm_sign_up",
            errors={
                name: _INVALID_CODE
                for name in (
                    "CodeMismatchException",
                    "ExpiredCodeException",
                    "UserNotFoundException",
                    "NotAuthorizedException",
                    "InvalidParameterException",
                )
            },
            ClientId=settings.COGNITO_APP_CLIENT_ID,
            Username=username,
            ConfirmationCode=code,
        )


def account_code_resend(*, username: str, address: str) -> None:
    """Send the sign-up code again; the same answer whether or not there is such an unconfirmed account."""
    with failures_limited(username=username, address=address, flow=RECOVERY, count_every_call=True):
        cognito_call(
            "resend_confirmation_code",
            # LimitExceeded only ever hits existing accounts: answering it would tell them apart.
            quiet=(
                "UserNotFoundException",
                "InvalidParameterException",
                "NotAuthorizedException",
                "LimitExceededException",
            ),
            ClientId=settings.COGNITO_APP_CLIENT_ID,
            Username=username,
        )


def account_password_forgot(*, username: str, address: str) -> None:
    """Send a reset code if the account exists; the same answer either way."""
    with failures_limited(username=username, address=address, flow=RECOVERY, count_every_call=True):
        cognito_call(
            "forgot_password",
            quiet=(
                "UserNotFoundException",
                "InvalidParameterException",
                "NotAuthorizedException",
                "CodeDeliveryFailureException",
                "LimitExceededException",  # only ever hits existing accounts
            ),
            ClientId=settings.COGNITO_APP_CLIENT_ID,
            Username=username,
        )


def account_password_reset(*, username: str, code: str, password: str, address: str) -> None:
    """Set a new password with the emailed reset code."""
    password_check(password)
    with failures_limited(username=username, address=address, flow=RECOVERY):
        cognito_call(
            "confirm_forgot_password",
            errors={
                name: _INVALID_CODE
                for name in (
                    "CodeMismatchException",
                    "ExpiredCodeException",
                    "UserNotFoundException",
                    "NotAuthorizedException",
                    "ResourceNotFoundException",
                )
            },
            ClientId=settings.COGNITO_APP_CLIENT_ID,
            Username=username,
            ConfirmationCode=code,
            Password=password,
        )
    # Whoever had the old password may hold sessions: end every one (their access tokens within the bound).
    try:
        aws_client("cognito-idp").admin_user_global_sign_out(
            UserPoolId=settings.COGNITO_USER_POOL_ID, Username=username
        )
    except (ClientError, BotoCoreError) as exc:
        logger.exception("sessions not ended after a password reset", extra={"error": str(exc)})
        raise ServiceError(
            "sessions_not_ended",
            "Your new password is set, but other sign-ins could not be ended: sign in and choose "
            "'Sign out everywhere'.",
            status=503,
        ) from exc


def account_password_change(
    *, access_token: str, username: str, old_password: str, new_password: str, address: str
) -> dict:
    """Change the signed-in person's password and end every sign-in; this one continues with new tokens.

    Returns tokens, the challenge (say SOFTWARE_TOKEN_MFA) a new sign-in asks for first, or {} when that
    sign-in could not be made (the password is changed all the same: the person signs in with it).
    """
    password_check(new_password)
    with failures_limited(username=username, address=address):
        cognito_call(
            "change_password",
            errors={"NotAuthorizedException": _WRONG_CURRENT},
            AccessToken=access_token,
            PreviousPassword=old_password,
            ProposedPassword=new_password,
        )
    # GlobalSignOut ends every refresh token, this one's too; so sign in again after it, not before.
    try:
        account_sign_out_everywhere(access_token=access_token)
    except ServiceError as exc:
        if exc.code != "signed_out":
            raise ServiceError(
                "sessions_not_ended",
                "Your new password is set, but other sign-ins could not be ended: choose 'Sign out "
                "everywhere' in a minute.",
                status=503,
            ) from exc
    try:
        return account_sign_in(username=username, password=new_password, address=address)
    except ServiceError:
        logger.warning("sign-in after a password change failed", exc_info=True)
        return {}


def account_sign_out(*, refresh_token: str) -> None:
    """End one sign-in: revoke its refresh token and the access tokens issued from it (RevokeToken)."""
    cognito_call(
        "revoke_token",
        errors={
            name: ("invalid_refresh_token", "That refresh token is not one this app issued.", 400)
            for name in (
                "UnauthorizedException",
                "UnsupportedTokenTypeException",
                "InvalidParameterException",
                "NotAuthorizedException",
            )
        },
        Token=refresh_token,
        ClientId=settings.COGNITO_APP_CLIENT_ID,
    )


def account_sign_out_everywhere(*, access_token: str) -> None:
    """End every sign-in of this person, on every device (GlobalSignOut)."""
    cognito_call(
        "global_sign_out",
        errors={"NotAuthorizedException": ("signed_out", "This sign-in has already ended.", 401)},
        AccessToken=access_token,
    )
    token_ended_mark(token=access_token)


def account_invite(*, username: str, email: str, pool_id: str = "") -> tuple[str, str]:
    """Create a user with a temporary password that Cognito emails them (AdminCreateUser); (sub, password).

    At first sign-in Cognito asks for a new password (NEW_PASSWORD_REQUIRED). Raises botocore's
    ClientError for the operator to read (the username is taken, the email is malformed).
    """
    temporary = f"{secrets.token_urlsafe(12)}-Aa1"  # meets any policy: 20 characters, all four kinds
    user = aws_client("cognito-idp").admin_create_user(
        UserPoolId=pool_id or settings.COGNITO_USER_POOL_ID,
        Username=username,
        TemporaryPassword=temporary,
        UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
        DesiredDeliveryMediums=["EMAIL"],
    )["User"]
    sub = next(a["Value"] for a in user["Attributes"] if a["Name"] == "sub")
    return sub, temporary

"""The account life cycle with Cognito: sign in and its challenges, sign up, codes, passwords, sign out.

Every answer that could tell whether an account exists (forgot, resend, sign-up, wrong codes) is the same
for existing and missing users. Failures count against the username and the client address
(services/attempts.py).
"""

from __future__ import annotations

import logging
import secrets
from urllib.parse import quote, urlencode

from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError
from django.conf import settings

from editor.errors import ServiceError
from editor.services.auth.attempts import failures_limited
from editor.services.auth.cognito import ChallengeRequired, cognito_sign_in
from editor.services.auth.pool_rules import PasswordRefused, password_check, password_problems, pool_settings
from editor.services.auth.revocation import token_ended_mark
from editor.services.aws import aws_client

logger = logging.getLogger(__name__)

# The challenges the app can walk a person through.
SUPPORTED_CHALLENGES = ("NEW_PASSWORD_REQUIRED", "SOFTWARE_TOKEN_MFA")

_UNAVAILABLE = ("auth_unavailable", "Accounts are unavailable right now; try again in a minute.", 503)
_THROTTLED = (
    "too_many_requests",
    "Too many attempts for this account; wait a few minutes and try again.",
    429,
)
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
_THROTTLING = {"TooManyRequestsException", "LimitExceededException", "TooManyFailedAttemptsException"}


# --- calls to Cognito --------------------------------------------------------------------------------


def _call(
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


def _tokens(result: dict) -> dict:
    return {
        "access_token": result["AccessToken"],
        "id_token": result["IdToken"],
        "refresh_token": result["RefreshToken"],
        "expires_in": result["ExpiresIn"],
        "token_type": "Bearer",
    }


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
        return _call(
            "respond_to_auth_challenge",
            errors=errors,
            ClientId=settings.COGNITO_APP_CLIENT_ID,
            ChallengeName=challenge,
            Session=session,
            ChallengeResponses={"USERNAME": username, **answer},
        )


def account_new_password(*, username: str, session: str, new_password: str, address: str) -> dict:
    """Answer NEW_PASSWORD_REQUIRED (first sign-in with a temporary password): tokens."""
    password_check(new_password)
    response = _challenge_answer(
        challenge="NEW_PASSWORD_REQUIRED",
        username=username,
        session=session,
        answer={"NEW_PASSWORD": new_password},
        address=address,
        errors=_CHALLENGE_ERRORS,
    )
    if "AuthenticationResult" not in response:
        raise ServiceError(
            "challenge_unsupported",
            f"Your password is set, but the account needs a step the app does not offer "
            f"({response.get('ChallengeName')}).",
            status=403,
        )
    return _tokens(response["AuthenticationResult"])


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
    return _tokens(response["AuthenticationResult"])


def account_mfa_enabled(*, access_token: str) -> bool:
    """Whether the signed-in person signs in with a TOTP second factor."""
    user = _call("get_user", AccessToken=access_token)
    return "SOFTWARE_TOKEN_MFA" in (user.get("UserMFASettingList") or [])


def account_mfa_setup_start(*, access_token: str, username: str) -> dict:
    """A new TOTP secret for the person's authenticator app: the secret, its otpauth URI and a QR code."""
    if pool_settings().mfa == "OFF":
        raise ServiceError("mfa_off", "This user pool does not offer a second factor.", status=404)
    secret = _call("associate_software_token", AccessToken=access_token)["SecretCode"]
    uri = totp_uri(secret=secret, username=username)
    return {"secret": secret, "otpauth_uri": uri, "qr_svg": qr_svg(uri)}


def account_mfa_setup_verify(*, access_token: str, username: str, code: str, address: str) -> None:
    """Check a first code from the app, then ask for it at every sign-in."""
    with failures_limited(username=username, address=address):
        _call(
            "verify_software_token",
            errors={
                "EnableSoftwareTokenMFAException": _INVALID_MFA_CODE,
                "CodeMismatchException": _INVALID_MFA_CODE,
            },
            AccessToken=access_token,
            UserCode=code,
            FriendlyDeviceName="imageedit",
        )
    _call(
        "set_user_mfa_preference",
        AccessToken=access_token,
        SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True},
    )


def account_mfa_disable(*, access_token: str) -> None:
    """Stop asking for a second factor (only where the pool makes it optional)."""
    if pool_settings().mfa != "OPTIONAL":
        raise ServiceError("mfa_required", "This user pool requires a second factor.", status=400)
    _call(
        "set_user_mfa_preference",
        AccessToken=access_token,
        SoftwareTokenMfaSettings={"Enabled": False, "PreferredMfa": False},
    )


def totp_uri(*, secret: str, username: str) -> str:
    """The otpauth:// URI authenticator apps read (Google's key URI format)."""
    issuer = "imageedit"
    return f"otpauth://totp/{quote(issuer)}:{quote(username)}?" + urlencode(
        {"secret": secret, "issuer": issuer}
    )


def qr_svg(text: str) -> str:
    """A QR code of `text` as an SVG document, drawn here (no image service sees the secret)."""
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathFillImage, box_size=8, border=2)
    return image.to_string(encoding="unicode")


def account_sign_up(*, username: str, email: str, password: str, address: str) -> dict:
    """Create an unconfirmed account and send a code; the same answer if the username is taken."""
    password_check(password)
    with failures_limited(username=username, address=address, count_every_call=True):
        _call(
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
    with failures_limited(username=username, address=address):
        _call(
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
    with failures_limited(username=username, address=address, count_every_call=True):
        _call(
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
    with failures_limited(username=username, address=address, count_every_call=True):
        _call(
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
    with failures_limited(username=username, address=address):
        _call(
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


def account_password_change(
    *, access_token: str, username: str, old_password: str, new_password: str, address: str
) -> None:
    """Change the signed-in person's password (their other sign-ins stay, as in Cognito)."""
    password_check(new_password)
    with failures_limited(username=username, address=address):
        _call(
            "change_password",
            errors={"NotAuthorizedException": _WRONG_CURRENT},
            AccessToken=access_token,
            PreviousPassword=old_password,
            ProposedPassword=new_password,
        )


def account_sign_out(*, refresh_token: str) -> None:
    """End one sign-in: revoke its refresh token and the access tokens issued from it (RevokeToken)."""
    _call(
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
    _call(
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

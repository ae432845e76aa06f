"""The TOTP second factor: set it up (signed in, or at first sign-in when the pool requires it), turn it off.

Changing the factor asks for proof first: the password, and the current code while a factor is on. An
access token alone (a stolen one, an unlocked laptop) must not replace or remove it. Cognito has no call
that checks a TOTP code by itself, so the proof is a sign-in (InitiateAuth, then the code's challenge)
whose tokens are revoked at once.
"""

from __future__ import annotations

import logging
from urllib.parse import quote, urlencode

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from editor.errors import ServiceError
from editor.services.auth.attempts import failures_limited
from editor.services.auth.cognito import cognito_call, tokens_from
from editor.services.auth.pool_rules import pool_settings
from editor.services.aws import aws_client

logger = logging.getLogger(__name__)

_WRONG_PASSWORD = ("wrong_current_password", "Your password is not right.", 400)
_WRONG_CODE = (
    "invalid_code",
    "That code is not right. Enter the 6-digit code your authenticator app shows now.",
    400,
)
_CODE_NEEDED = "Two-step sign-in is on: enter the 6-digit code your authenticator app shows now, too."
_SETUP_EXPIRED = (
    "challenge_expired",
    "This sign-in step has expired (it lasts 3 minutes); sign in again.",
    401,
)


def account_mfa_enabled(*, access_token: str) -> bool:
    """Whether the signed-in person signs in with a TOTP second factor."""
    user = cognito_call("get_user", AccessToken=access_token)
    return "SOFTWARE_TOKEN_MFA" in (user.get("UserMFASettingList") or [])


def account_reauthenticate(*, username: str, password: str, code: str | None, address: str) -> None:
    """Prove the person knows the password (and the current code, if a factor is on); raise if not."""
    with failures_limited(username=username, address=address):
        response = cognito_call(
            "initiate_auth",
            errors={"NotAuthorizedException": _WRONG_PASSWORD, "UserNotFoundException": _WRONG_PASSWORD},
            ClientId=settings.COGNITO_APP_CLIENT_ID,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password},
        )
        if response.get("ChallengeName") == "SOFTWARE_TOKEN_MFA":
            if not code:
                raise ServiceError("code_required", _CODE_NEEDED, status=400)
            response = cognito_call(
                "respond_to_auth_challenge",
                errors={"CodeMismatchException": _WRONG_CODE, "NotAuthorizedException": _SETUP_EXPIRED},
                ClientId=settings.COGNITO_APP_CLIENT_ID,
                ChallengeName="SOFTWARE_TOKEN_MFA",
                Session=response["Session"],
                ChallengeResponses={"USERNAME": username, "SOFTWARE_TOKEN_MFA_CODE": code},
            )
    _proof_tokens_revoke(response)


def _proof_tokens_revoke(response: dict) -> None:
    # The proof's sign-in is not a session anyone asked for: end it at once.
    refresh = (response.get("AuthenticationResult") or {}).get("RefreshToken")
    if not refresh:
        return
    try:
        aws_client("cognito-idp").revoke_token(Token=refresh, ClientId=settings.COGNITO_APP_CLIENT_ID)
    except (ClientError, BotoCoreError) as exc:
        logger.warning("proof sign-in not revoked", extra={"error": str(exc)})


def _secret_answer(secret: str, username: str) -> dict:
    uri = totp_uri(secret=secret, username=username)
    return {"secret": secret, "otpauth_uri": uri, "qr_svg": qr_svg(uri)}


def account_mfa_setup_start(
    *, access_token: str, username: str, password: str, code: str | None, address: str
) -> dict:
    """After proof, a new TOTP secret for the authenticator app: the secret, its otpauth URI, a QR code."""
    if pool_settings().mfa == "OFF":
        raise ServiceError("mfa_off", "This user pool does not offer a second factor.", status=404)
    account_reauthenticate(username=username, password=password, code=code, address=address)
    secret = cognito_call("associate_software_token", AccessToken=access_token)["SecretCode"]
    return _secret_answer(secret, username)


def account_mfa_setup_verify(*, access_token: str, username: str, code: str, address: str) -> None:
    """Check a first code from the app, then ask for it at every sign-in."""
    with failures_limited(username=username, address=address):
        cognito_call(
            "verify_software_token",
            errors={"EnableSoftwareTokenMFAException": _WRONG_CODE, "CodeMismatchException": _WRONG_CODE},
            AccessToken=access_token,
            UserCode=code,
            FriendlyDeviceName="imageedit",
        )
    cognito_call(
        "set_user_mfa_preference",
        AccessToken=access_token,
        SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True},
    )


def account_mfa_disable(
    *, access_token: str, username: str, password: str, code: str | None, address: str
) -> None:
    """After proof (password and current code), stop asking for a second factor where it is optional."""
    if pool_settings().mfa != "OPTIONAL":
        raise ServiceError("mfa_required", "This user pool requires a second factor.", status=400)
    account_reauthenticate(username=username, password=password, code=code, address=address)
    cognito_call(
        "set_user_mfa_preference",
        AccessToken=access_token,
        SoftwareTokenMfaSettings={"Enabled": False, "PreferredMfa": False},
    )


_SESSION_ERRORS = {
    name: _SETUP_EXPIRED
    for name in ("NotAuthorizedException", "ResourceNotFoundException", "ExpiredCodeException")
}


def account_mfa_setup_challenge_start(*, username: str, session: str) -> dict:
    """MFA_SETUP at first sign-in: a secret for the app, and the session that the code must come with."""
    response = cognito_call("associate_software_token", errors=_SESSION_ERRORS, Session=session)
    return {
        "challenge": "MFA_SETUP",
        "session": response["Session"],
        "username": username,
        **_secret_answer(response["SecretCode"], username),
    }


def account_mfa_setup_challenge_finish(*, username: str, session: str, code: str, address: str) -> dict:
    """MFA_SETUP's last step: the app's first code turns the factor on and finishes the sign-in: tokens."""
    with failures_limited(username=username, address=address):
        verified = cognito_call(
            "verify_software_token",
            errors={
                **_SESSION_ERRORS,
                "EnableSoftwareTokenMFAException": _WRONG_CODE,
                "CodeMismatchException": _WRONG_CODE,
            },
            Session=session,
            UserCode=code,
            FriendlyDeviceName="imageedit",
        )
        response = cognito_call(
            "respond_to_auth_challenge",
            errors=_SESSION_ERRORS,
            ClientId=settings.COGNITO_APP_CLIENT_ID,
            ChallengeName="MFA_SETUP",
            Session=verified["Session"],
            ChallengeResponses={"USERNAME": username},
        )
    if "AuthenticationResult" not in response:
        raise ServiceError(*_SETUP_EXPIRED[:2], status=_SETUP_EXPIRED[2])
    return tokens_from(response["AuthenticationResult"])


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

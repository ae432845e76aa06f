"""Make moto's Cognito faithful where the account flows depend on it: codes that are sent and checked.

moto 5.2.5 sends nothing, accepts any sign-up code, accepts any password-reset code that does not start
with its own prefix, has no ResendConfirmationCode and answers RevokeToken with a 500. Here, in the moto
server's process, each of those behaves as Cognito documents it:

- SignUp, ResendConfirmationCode and ForgotPassword send a 6-digit code to the local outbox; a sign-up
  code lives 24 hours, a reset code 1 hour, each dies after 5 wrong tries (ExpiredCodeException);
- ConfirmSignUp and ConfirmForgotPassword refuse a wrong code (CodeMismatchException) or an expired one
  (ExpiredCodeException), and a reset checks the password policy;
- AdminCreateUser without MessageAction=SUPPRESS sends the invitation with the temporary password;
- RevokeToken ends the refresh token and every access token issued from it;
- AssociateSoftwareToken gives each user a secret of their own (moto gives everyone the same one), and
  VerifySoftwareToken and the SOFTWARE_TOKEN_MFA challenge check the 6-digit code against it (RFC 6238:
  SHA-1, 30 s steps, one step of clock drift either way);
- a pool with MFA ON asks a person without a second factor to set one up at sign-in (MFA_SETUP), and
  finishes that sign-in only once VerifySoftwareToken accepted a code in the same session;
- USER_PASSWORD_AUTH costs the same scrypt work whether or not the username exists.

Codes and TOTP secrets live on moto's user objects and are journalled with them: codes as keyed digests,
secrets sealed under a local key (devstack/standin_secrets.py), so both survive a restart.
The app's code is the production code: it never knows whether it talks to this or to Cognito.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import time
import uuid
from pathlib import Path

from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor import InvalidToken
from cryptography.hazmat.primitives.twofactor.totp import TOTP
from moto.cognitoidp import models, responses
from moto.cognitoidp.exceptions import (
    CodeMismatchException,
    ExpiredCodeException,
    InvalidParameterException,
    NotAuthorizedError,
    UserNotFoundError,
)
from moto.core.exceptions import JsonRESTError
from moto.core.responses import ActionResult, EmptyResult

from devstack.outbox import Outbox
from devstack.passwords import PasswordHash
from devstack.standin_secrets import KEY_FILE, SecretBox

SIGN_UP_CODE_SECONDS = 24 * 3600
RESET_CODE_SECONDS = 3600
CODE_ATTEMPTS = 5
__all__ = ["KEY_FILE", "install", "outbox"]

_state = threading.local()
_installed: dict = {"outbox": None, "box": None, "dummy": None}


def outbox() -> Outbox | None:
    """The outbox the installed stand-in delivers to."""
    return _installed["outbox"]


def install(*, outbox_dir: Path, key_file: Path | None = None) -> Outbox:
    """Patch moto's Cognito in this process (idempotent); mail goes to `outbox_dir`, secrets sealed."""
    _installed["outbox"] = Outbox(outbox_dir)
    _installed["box"] = SecretBox(key_file)
    if not getattr(models.CognitoIdpBackend, "_standin", False):
        _patch()
    return _installed["outbox"]


# --- codes -------------------------------------------------------------------------------------------


def _email(user) -> str:
    return user.attribute_lookup.get("email", "")


def _send_code(user, kind: str, seconds: int) -> None:
    code = f"{secrets.randbelow(1_000_000):06d}"
    codes = getattr(user, "standin_codes", {})
    codes[kind] = {"digest": _installed["box"].digest(code), "expires": time.time() + seconds, "attempts": 0}
    user.standin_codes = codes
    _installed["outbox"].deliver(email=_email(user), username=user.username, kind=kind, code=code)


def _check_code(user, kind: str, code: str | None) -> None:
    entry = getattr(user, "standin_codes", {}).get(kind)
    if entry is None or entry["expires"] < time.time() or entry["attempts"] >= CODE_ATTEMPTS:
        raise ExpiredCodeException("Invalid code provided, please request a code again.")
    if not _code_matches(code, entry):
        entry["attempts"] += 1
        raise CodeMismatchException("Invalid verification code provided, please try again.")
    del user.standin_codes[kind]


def _code_matches(code: str | None, entry: dict) -> bool:
    if "digest" in entry:
        return _installed["box"].code_matches(code, entry["digest"])
    # A code kept in clear text by an older version of the stand-in.
    return bool(code) and secrets.compare_digest(str(code), str(entry.get("code", "")))


def _secret_read(user, name: str) -> str | None:
    """A TOTP secret kept on the user, unsealed (None if absent or sealed under a lost key)."""
    value = getattr(user, name, None)
    if not value:
        return None
    if re.fullmatch(r"[A-Z2-7]{16,}=*", value):
        return value  # kept in clear text by an older version of the stand-in
    return _installed["box"].open(value)


def _delivery(user) -> dict:
    email = _email(user)
    first, _, domain = email.partition("@")
    masked = f"{first[:1]}***@{domain[:1]}***" if email else ""
    return {"Destination": masked, "DeliveryMedium": "EMAIL", "AttributeName": "email"}


def _pool_and_user(backend, client_id: str, username: str):
    for pool in backend.user_pools.values():
        if client_id in pool.clients:
            return pool, pool._get_user(username)
    raise NotAuthorizedError("Invalid client id.")


# --- patches -----------------------------------------------------------------------------------------


def _patch() -> None:
    backend_cls = models.CognitoIdpBackend
    response_cls = responses.CognitoIdpResponse
    original_sign_up = backend_cls.sign_up
    original_confirm_sign_up = backend_cls.confirm_sign_up
    original_admin_create_user = backend_cls.admin_create_user
    original_confirm_sign_up_response = response_cls.confirm_sign_up

    def sign_up(self, client_id, username, password, attributes):
        user, details = original_sign_up(self, client_id, username, password, attributes)
        _send_code(user, "signup", SIGN_UP_CODE_SECONDS)
        return user, details or _delivery(user)

    def confirm_sign_up(self, client_id, username):
        _, user = _pool_and_user(self, client_id, username)
        if not user:
            raise UserNotFoundError("Username/client id combination not found.")
        if user.status == models.UserStatus.CONFIRMED:
            raise NotAuthorizedError("User cannot be confirmed. Current status is CONFIRMED")
        _check_code(user, "signup", getattr(_state, "code", None))
        return original_confirm_sign_up(self, client_id, username)

    def confirm_sign_up_response(self):
        # moto's handler does not pass the code on: carry it to the backend call on this thread.
        _state.code = self._get_param("ConfirmationCode")
        try:
            return original_confirm_sign_up_response(self)
        finally:
            _state.code = None

    def resend_confirmation_code_response(self):
        client_id, username = self._get_param("ClientId"), self._get_param("Username")
        backend = self._get_region_agnostic_backend()._find_backend_for_clientid(client_id)
        _, user = _pool_and_user(backend, client_id, username)
        if not user:
            raise UserNotFoundError("Username/client id combination not found.")
        if user.status == models.UserStatus.CONFIRMED:
            raise InvalidParameterException("User is already confirmed.")
        _send_code(user, "signup", SIGN_UP_CODE_SECONDS)
        return ActionResult({"CodeDeliveryDetails": _delivery(user)})

    def forgot_password_response(self):
        # Cognito answers the same whether or not the user exists, and never returns the code.
        client_id, username = self._get_param("ClientId"), self._get_param("Username")
        backend = self._get_region_agnostic_backend()._find_backend_for_clientid(client_id)
        _, user = _pool_and_user(backend, client_id, username)
        if user and user.enabled:
            if not _email(user):
                raise InvalidParameterException(
                    "Cannot reset password for the user as there is no registered/verified email"
                    " or phone_number"
                )
            _send_code(user, "reset", RESET_CODE_SECONDS)
            return ActionResult({"CodeDeliveryDetails": _delivery(user)})
        return ActionResult(
            {"CodeDeliveryDetails": {"Destination": "", "DeliveryMedium": "EMAIL", "AttributeName": "email"}}
        )

    def confirm_forgot_password(self, client_id, username, password, confirmation_code):
        pool, user = _pool_and_user(self, client_id, username)
        if not user:
            raise CodeMismatchException("Invalid verification code provided, please try again.")
        _check_code(user, "reset", confirmation_code)
        self._validate_password(pool.id, password)
        user.password = password
        if user.status in (models.UserStatus.RESET_REQUIRED, models.UserStatus.FORCE_CHANGE_PASSWORD):
            user.status = models.UserStatus.CONFIRMED

    def admin_create_user(self, user_pool_id, username, message_action, temporary_password, attributes):
        user = original_admin_create_user(
            self, user_pool_id, username, message_action, temporary_password, attributes
        )
        if message_action != "SUPPRESS" and user.password:
            _installed["outbox"].deliver(
                email=_email(user),
                username=user.username,
                kind="invitation",
                code=user.password,
                label="temporary password",
            )
        return user

    def revoke_token_response(self):
        token, client_id = self._get_param("Token"), self._get_param("ClientId")
        backend = self._get_region_agnostic_backend()._find_backend_for_clientid(client_id)
        for pool in backend.user_pools.values():
            entry = pool.refresh_tokens.get(token)
            if entry is None:
                continue
            if entry[0] != client_id:
                raise NotAuthorizedError("The token was not issued to this client.")
            origin_jti = entry[2]
            pool.refresh_tokens[token] = None
            for access_token in list(pool.access_tokens):
                if _claims(access_token).get("origin_jti") == origin_jti:
                    pool.access_tokens.pop(access_token, None)
        return EmptyResult()

    original_respond = backend_cls.respond_to_auth_challenge

    def associate_software_token(self, access_token, session):
        user = _user_by_token_or_session(self, access_token, session)
        secret = base64.b32encode(secrets.token_bytes(20)).decode()
        user.standin_totp_pending = _installed["box"].seal(secret)
        return {"SecretCode": secret, **({"Session": session} if session else {})}

    def verify_software_token(self, access_token, session, user_code, friendly_device_name):
        user = _user_by_token_or_session(self, access_token, session)
        pending = _secret_read(user, "standin_totp_pending")
        if not pending or not _totp_ok(pending, user_code):
            raise EnableSoftwareTokenMFAException()
        user.standin_totp_secret, user.standin_totp_pending = _installed["box"].seal(pending), None
        user.token_verified = True
        if session:
            username, pool = self.sessions.pop(session)
            session = str(uuid.uuid4())
            self.sessions[session] = (username, pool)
        return {"Status": "SUCCESS", **({"Session": session} if session else {})}

    def respond_to_auth_challenge(self, session, client_id, challenge_name, challenge_responses):
        if challenge_name == "SOFTWARE_TOKEN_MFA" and session in self.sessions:
            _, pool = self.sessions[session]
            user = pool._get_user(challenge_responses.get("USERNAME", ""))
            sealed = getattr(user, "standin_totp_secret", None) if user else None
            secret = _secret_read(user, "standin_totp_secret") if sealed else None
            # A secret that cannot be unsealed (its key file was lost) checks no code: fail closed.
            if sealed and not (
                secret and _totp_ok(secret, challenge_responses.get("SOFTWARE_TOKEN_MFA_CODE", ""))
            ):
                raise CodeMismatchException("Invalid code received for user")
        if challenge_name == "MFA_SETUP":
            return _mfa_setup_finish(self, session, client_id, challenge_responses)
        return original_respond(self, session, client_id, challenge_name, challenge_responses)

    original_initiate_auth = backend_cls.initiate_auth

    def initiate_auth(self, client_id, auth_flow, auth_parameters):
        if auth_flow != "USER_PASSWORD_AUTH":
            return original_initiate_auth(self, client_id, auth_flow, auth_parameters)
        pool = next((p for p in self.user_pools.values() if client_id in p.clients), None)
        user = pool._get_user(auth_parameters.get("USERNAME", "")) if pool else None
        if user is None:
            # Cognito does the same work for a missing user: no timing tells the usernames apart.
            if _installed["dummy"] is None:
                _installed["dummy"] = PasswordHash(secrets.token_urlsafe(16))
            _installed["dummy"].matches(auth_parameters.get("PASSWORD") or "")
        elif isinstance(user.password, str):
            user.password = PasswordHash(user.password)  # compared at scrypt's cost, as after a restart
        result = original_initiate_auth(self, client_id, auth_flow, auth_parameters)
        if pool.mfa_config == "ON" and "AuthenticationResult" in result and not user.token_verified:
            return _mfa_setup_challenge(self, pool, user, result["AuthenticationResult"])
        return result

    backend_cls.associate_software_token = associate_software_token
    backend_cls.verify_software_token = verify_software_token
    backend_cls.respond_to_auth_challenge = respond_to_auth_challenge
    backend_cls.initiate_auth = initiate_auth
    backend_cls.sign_up = sign_up
    backend_cls.confirm_sign_up = confirm_sign_up
    backend_cls.confirm_forgot_password = confirm_forgot_password
    backend_cls.admin_create_user = admin_create_user
    response_cls.confirm_sign_up = confirm_sign_up_response
    response_cls.resend_confirmation_code = resend_confirmation_code_response
    response_cls.forgot_password = forgot_password_response
    response_cls.revoke_token = revoke_token_response
    backend_cls._standin = True


class EnableSoftwareTokenMFAException(JsonRESTError):
    def __init__(self) -> None:
        super().__init__(
            "EnableSoftwareTokenMFAException", "Code mismatch and fail enable Software Token MFA"
        )


def _mfa_setup_challenge(backend, pool, user, issued: dict) -> dict:
    """MFA_SETUP instead of tokens: the pool requires a second factor and this person has none yet."""
    for store, token in (
        (pool.access_tokens, issued["AccessToken"]),
        (pool.id_tokens, issued["IdToken"]),
        (pool.refresh_tokens, issued["RefreshToken"]),
    ):
        store.pop(token, None)  # never handed out
    session = str(uuid.uuid4())
    backend.sessions[session] = (user.username, pool)
    return {
        "ChallengeName": "MFA_SETUP",
        "ChallengeParameters": {"MFAS_CAN_SETUP": '["SOFTWARE_TOKEN_MFA"]'},
        "Session": session,
    }


def _mfa_setup_finish(backend, session, client_id, responses: dict) -> dict:
    """Finish MFA_SETUP only after VerifySoftwareToken accepted a code in this session."""
    if session not in backend.sessions:
        raise NotAuthorizedError("Invalid session for the user, session is expired.")
    username, pool = backend.sessions[session]
    user = pool._get_user(username)
    if user is None or not user.token_verified or not getattr(user, "standin_totp_secret", None):
        raise InvalidParameterException("Verify a software token first (VerifySoftwareToken).")
    if client_id not in pool.clients:
        raise NotAuthorizedError("Invalid client id.")
    del backend.sessions[session]
    user.software_token_mfa_enabled = True
    user.preferred_mfa_setting = "SOFTWARE_TOKEN_MFA"
    return backend._log_user_in(pool, pool.clients[client_id], username)


def _user_by_token_or_session(backend, access_token, session):
    if session:
        if session not in backend.sessions:
            raise NotAuthorizedError("Invalid session for the user.")
        username, pool = backend.sessions[session]
        return pool._get_user(username)
    for pool in backend.user_pools.values():
        if access_token in pool.access_tokens:
            return backend.admin_get_user(pool.id, pool.access_tokens[access_token][1])
    raise NotAuthorizedError("Invalid Access Token")


def _totp_ok(secret: str, code: str) -> bool:
    # RFC 6238 authenticator apps use HMAC-SHA1, as Cognito does.
    totp = TOTP(base64.b32decode(secret), 6, SHA1(), 30, enforce_key_length=False)  # noqa: S303
    now = time.time()
    for drift in (-30, 0, 30):
        try:
            totp.verify(str(code).encode(), now + drift)
        except InvalidToken:
            continue
        return True
    return False


def _claims(token: str) -> dict:
    try:
        payload = token.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}

"""Browser sign-in state: Cognito tokens in the server-side session, refreshed before they expire."""

from __future__ import annotations

import logging
import time

from editor.errors import ServiceError
from editor.services.auth.cognito import cognito_refresh, cognito_sign_in, cognito_sign_out
from editor.services.auth.revocation import token_active_check
from editor.services.auth.tokens import TokenInvalid, access_token_verify
from editor.users import CognitoUser

logger = logging.getLogger(__name__)

# Refresh this long before expiry, so a request that starts with a valid token does not end without one.
REFRESH_MARGIN_SECONDS = 120
_SESSION_KEY = "cognito"


def session_sign_in(request, *, username: str, password: str) -> CognitoUser:
    """Sign in with Cognito and keep the tokens in a fresh session (a new key defeats session fixation)."""
    return session_tokens_keep(request, cognito_sign_in(username=username, password=password))


def session_tokens_keep(request, tokens: dict) -> CognitoUser:
    """Keep freshly issued tokens in a fresh session (a new key defeats session fixation)."""
    user = CognitoUser.from_claims(access_token_verify(tokens["access_token"]))
    request.session.cycle_key()
    request.session[_SESSION_KEY] = {
        "access_token": tokens["access_token"],
        "refresh_token": tokens["refresh_token"],
        "expires_at": time.time() + tokens["expires_in"],
    }
    request._cognito_user = user
    return user


def session_sign_out(request) -> None:
    """Revoke the tokens and end the session."""
    tokens = request.session.get(_SESSION_KEY)
    if tokens:
        cognito_sign_out(access_token=tokens["access_token"], refresh_token=tokens["refresh_token"])
    request.session.flush()
    request._cognito_user = None


def session_access_token(request) -> str | None:
    """The session's current access token (call session_user first, which refreshes it when due)."""
    tokens = request.session.get(_SESSION_KEY) if hasattr(request, "session") else None
    return tokens["access_token"] if tokens else None


def session_user(request) -> CognitoUser | None:
    """Return the signed-in person of this browser session, refreshing the access token when due."""
    if hasattr(request, "_cognito_user"):
        return request._cognito_user
    request._cognito_user = None
    tokens = request.session.get(_SESSION_KEY) if hasattr(request, "session") else None
    if not tokens:
        return None
    cognito_down = False
    try:
        if tokens["expires_at"] - time.time() < REFRESH_MARGIN_SECONDS:
            try:
                fresh = cognito_refresh(refresh_token=tokens["refresh_token"])
            except ServiceError as exc:
                if exc.status < 500:
                    raise
                # Cognito cannot answer: an outage must not end the session. The current token serves
                # while it lasts, and the next request after the outage refreshes it.
                logger.warning("session refresh failed; keeping the session", extra={"reason": str(exc)})
                cognito_down, fresh = True, None
            if fresh:
                tokens = {
                    **tokens,
                    "access_token": fresh["access_token"],
                    "expires_at": time.time() + fresh["expires_in"],
                }
                request.session[_SESSION_KEY] = tokens
        claims = access_token_verify(tokens["access_token"])
        token_active_check(token=tokens["access_token"], claims=claims)
        request._cognito_user = CognitoUser.from_claims(claims)
    except (TokenInvalid, ServiceError) as exc:
        if cognito_down:
            return None  # signed out for this request only; the session waits for Cognito
        logger.info("web session ended", extra={"reason": str(exc)})
        request.session.flush()
    return request._cognito_user

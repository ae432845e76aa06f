"""Browser sign-in state: Cognito tokens in the server-side session, refreshed before they expire."""

from __future__ import annotations

import logging
import time

from editor.errors import ServiceError
from editor.services.cognito import cognito_refresh, cognito_sign_in, cognito_sign_out
from editor.services.tokens import TokenInvalid, access_token_verify
from editor.users import CognitoUser

logger = logging.getLogger(__name__)

# Refresh this long before expiry, so a request that starts with a valid token does not end without one.
REFRESH_MARGIN_SECONDS = 120
_SESSION_KEY = "cognito"


def session_sign_in(request, *, username: str, password: str) -> CognitoUser:
    """Sign in with Cognito and keep the tokens in a fresh session (a new key defeats session fixation)."""
    tokens = cognito_sign_in(username=username, password=password)
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


def session_user(request) -> CognitoUser | None:
    """Return the signed-in person of this browser session, refreshing the access token when due."""
    if hasattr(request, "_cognito_user"):
        return request._cognito_user
    request._cognito_user = None
    tokens = request.session.get(_SESSION_KEY) if hasattr(request, "session") else None
    if not tokens:
        return None
    try:
        if tokens["expires_at"] - time.time() < REFRESH_MARGIN_SECONDS:
            fresh = cognito_refresh(refresh_token=tokens["refresh_token"])
            tokens = {
                **tokens,
                "access_token": fresh["access_token"],
                "expires_at": time.time() + fresh["expires_in"],
            }
            request.session[_SESSION_KEY] = tokens
        request._cognito_user = CognitoUser.from_claims(access_token_verify(tokens["access_token"]))
    except (TokenInvalid, ServiceError) as exc:
        logger.info("web session ended", extra={"reason": str(exc)})
        request.session.flush()
    return request._cognito_user

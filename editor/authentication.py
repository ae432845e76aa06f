"""DRF authentication: Cognito access tokens from a Bearer header, or from the server-side web session."""

from __future__ import annotations

import logging

from django.middleware.csrf import CsrfViewMiddleware
from rest_framework import authentication, exceptions

from editor.log import log_context_bind
from editor.services.auth.revocation import token_active_check
from editor.services.auth.tokens import TokenInvalid, access_token_verify
from editor.services.auth.web_sessions import session_user
from editor.users import CognitoUser

logger = logging.getLogger(__name__)


class CognitoJWTAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <Cognito access token>`; no header lets the next class try."""

    keyword = "bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request)
        if not header:
            return None
        parts = header.split()
        if not parts:
            self._refuse(request, "The Authorization header is empty; send 'Bearer <access token>'.")
        if parts[0].lower() != self.keyword.encode():
            self._refuse(request, "Use the Authorization scheme 'Bearer <access token>'.")
        if len(parts) != 2:
            self._refuse(request, "The Authorization header must be 'Bearer <access token>', one token.")
        try:
            token = parts[1].decode("ascii")
            claims = access_token_verify(token)
            token_active_check(token=token, claims=claims)
        except UnicodeDecodeError:
            self._refuse(request, "The token is not a well-formed JWT.")
        except TokenInvalid as exc:
            self._refuse(request, str(exc))
        user = CognitoUser.from_claims(claims)
        log_context_bind(user_sub=user.sub)
        return user, claims

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="imageedit"'

    @staticmethod
    def _refuse(request, reason: str):
        logger.info("authentication refused", extra={"reason": reason, "path": request.path})
        raise exceptions.AuthenticationFailed(reason)


class _CsrfCheck(CsrfViewMiddleware):
    def _reject(self, request, reason):
        return reason


class CognitoSessionAuthentication(authentication.BaseAuthentication):
    """The web page's calls: tokens kept in the server-side session, CSRF enforced on unsafe methods."""

    def authenticate(self, request):
        user = session_user(request._request)
        if user is None:
            return None
        self._enforce_csrf(request)
        log_context_bind(user_sub=user.sub)
        return user, None

    def authenticate_header(self, request) -> str:
        # A signed-out page call gets 401 (sign in again), not 403, when this class is the only one.
        return 'Session realm="imageedit"'

    @staticmethod
    def _enforce_csrf(request) -> None:
        check = _CsrfCheck(lambda req: None)
        check.process_request(request)
        reason = check.process_view(request, None, (), {})
        if reason:
            raise exceptions.PermissionDenied(f"CSRF check failed: {reason}. Reload the page and try again.")

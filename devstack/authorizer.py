"""A Cognito user pool authorizer as API Gateway runs it, independent of the app's own token check.

It checks what API Gateway's COGNITO_USER_POOLS authorizer checks: an RS256 signature by a key in the
pool's JWKS, the expiry, the pool's issuer, and (when the method sets AuthorizationScopes) that the
token's `scope` claim holds one of them, which only access tokens carry. It uses joserfc, not the
app's python-jose code, so a mistake in one is not hidden by the same mistake in the other.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from dataclasses import dataclass, field

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import KeySet


class Refused(Exception):
    """API Gateway's refusal: the status, the message of its JSON body and its x-amzn-ErrorType."""

    def __init__(self, status: int, message: str, error_type: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.error_type = error_type


# What API Gateway answers (seen from REST clients; the messages are API Gateway's own):
UNAUTHORIZED = (401, "Unauthorized", "UnauthorizedException")
# An expired Cognito token gets its own message, still a 401 (e.g. aws-amplify/amplify-js#6060).
EXPIRED = (401, "The incoming token has expired", "UnauthorizedException")


@dataclass
class CognitoAuthorizer:
    issuer: str
    jwks_url: str
    leeway_seconds: int = 0
    _keys: KeySet | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _key_set(self, kid: str, refresh: bool = False) -> KeySet:
        with self._lock:
            known = self._keys is not None and any(key.kid == kid for key in self._keys.keys)
            if self._keys is None or (refresh and not known):
                with urllib.request.urlopen(self.jwks_url, timeout=5) as response:  # noqa: S310 (loopback)
                    self._keys = KeySet.import_key_set(json.load(response))
            return self._keys

    def authorize(self, header: str | None, scopes: tuple[str, ...]) -> dict:
        """The token's claims, as API Gateway hands them to the function; raise Refused otherwise."""
        if not header:
            raise Refused(*UNAUTHORIZED)
        token = header.split(" ", 1)[1].strip() if header.lower().startswith("bearer ") else header.strip()
        try:
            compact = jws.extract_compact(token.encode())
            header_fields = compact.headers()
        except (JoseError, ValueError, UnicodeError):
            raise Refused(*UNAUTHORIZED) from None
        if header_fields.get("alg") != "RS256" or not header_fields.get("kid"):
            raise Refused(*UNAUTHORIZED)
        kid = header_fields["kid"]
        keys = self._key_set(kid)
        if not any(key.kid == kid for key in keys.keys):
            keys = self._key_set(kid, refresh=True)
        try:
            verified = jws.deserialize_compact(token, keys, algorithms=["RS256"])
            claims = json.loads(verified.payload)
        except (JoseError, ValueError):
            raise Refused(*UNAUTHORIZED) from None
        if not isinstance(claims, dict) or claims.get("iss") != self.issuer:
            raise Refused(*UNAUTHORIZED)
        expires = claims.get("exp")
        if not isinstance(expires, int | float):
            raise Refused(*UNAUTHORIZED)
        if expires + self.leeway_seconds <= time.time():
            raise Refused(*EXPIRED)
        if scopes:
            granted = set(str(claims.get("scope", "")).split())
            if not granted & set(scopes):
                raise Refused(*UNAUTHORIZED)
        return claims


def claims_for_event(claims: dict) -> dict[str, str]:
    """requestContext.authorizer.claims: API Gateway passes every claim as a string."""
    return {
        key: value
        if isinstance(value, str)
        else json.dumps(value)
        if isinstance(value, list | dict)
        else str(value)
        for key, value in claims.items()
    }

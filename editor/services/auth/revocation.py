"""Access that ends: refuse a signed-out, disabled or deleted person's access token within a stated bound.

A Cognito access token stays validly signed until it expires (60 minutes), whatever happens to the
account. So, besides the signature, the app asks Cognito whether the token is still good (GetUser with
the token: refused once the user signed out everywhere, revoked the token's refresh token, was disabled
or deleted) and trusts the answer for TOKEN_STATE_CHECK_SECONDS. That is the bound: a token ends at most
that long after the account change, in every Lambda container. A refusal is final (kept until the token
expires). GetUser needs no IAM grant: it is authorised by the token itself.

A Cognito outage must not lock people out: when Cognito cannot answer, the token is admitted on its
signature and asked about again after TOKEN_STATE_OUTAGE_RETRY_SECONDS (so at most one request per token
in that interval pays the short timeout). No account can be disabled or signed out while Cognito is down,
so nothing is missed that could have been known.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from editor.services.auth.tokens import TokenInvalid

logger = logging.getLogger(__name__)

# Cognito's definitive answers: this token will never be good again.
_REFUSALS = {"NotAuthorizedException", "UserNotFoundException"}
_ENDED = "This sign-in has ended (signed out, or the account was disabled or deleted); sign in again."
_MAX_ENTRIES = 20_000


@dataclass(frozen=True)
class _Verdict:
    refused: bool
    good_until: float  # monotonic time after which Cognito is asked again (refusals: never)


class TokenStateCache:
    """Per-process verdicts by token id: a dict lookup on the hot path, Cognito once per bound per token."""

    def __init__(self, clock=time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._verdicts: OrderedDict[str, _Verdict] = OrderedDict()

    def get(self, key: str) -> _Verdict | None:
        with self._lock:
            verdict = self._verdicts.get(key)
            if verdict is None or verdict.refused or verdict.good_until > self._clock():
                return verdict
            return None

    def put(self, key: str, *, refused: bool, for_seconds: float) -> None:
        with self._lock:
            self._verdicts[key] = _Verdict(refused=refused, good_until=self._clock() + for_seconds)
            self._verdicts.move_to_end(key)
            while len(self._verdicts) > _MAX_ENTRIES:
                self._verdicts.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._verdicts.clear()


token_states = TokenStateCache()


@functools.cache
def _client(endpoint_url: str | None, region: str):
    # Short timeouts and no retry: this call sits in front of every request whose verdict is due.
    config = Config(connect_timeout=1, read_timeout=2, retries={"mode": "standard", "total_max_attempts": 1})
    return boto3.session.Session(region_name=region).client(
        "cognito-idp", endpoint_url=endpoint_url, config=config
    )


def _key(token: str, claims: dict) -> str:
    # jti is unique per access token; the hash covers a token without one.
    return claims.get("jti") or hashlib.sha256(token.encode()).hexdigest()


def token_active_check(*, token: str, claims: dict) -> None:
    """Raise TokenInvalid if the token's sign-in has ended; the token is already verified (signature, exp)."""
    key = _key(token, claims)
    verdict = token_states.get(key)
    if verdict is None:
        verdict = _ask_cognito(token=token, key=key)
    if verdict.refused:
        raise TokenInvalid(_ENDED)


def token_ended_mark(*, token: str) -> None:
    """Record in this process that the token's sign-in has ended (after sign-out here): refused at once."""
    from editor.services.auth.tokens import access_token_verify

    try:
        claims = access_token_verify(token)
    except TokenInvalid:
        return  # expired or not ours: there is nothing left to end
    token_states.put(_key(token, claims), refused=True, for_seconds=0)


def _ask_cognito(*, token: str, key: str) -> _Verdict:
    try:
        _client(settings.AWS_ENDPOINT_URL, settings.AWS_REGION).get_user(AccessToken=token)
    except ClientError as exc:
        code = exc.response["Error"]["Code"]
        if code in _REFUSALS:
            logger.info("access token refused by cognito", extra={"aws_error": code})
            token_states.put(key, refused=True, for_seconds=0)
            return token_states.get(key)
        _outage(key, code)
    except BotoCoreError as exc:
        _outage(key, type(exc).__name__)
    else:
        token_states.put(key, refused=False, for_seconds=settings.TOKEN_STATE_CHECK_SECONDS)
    return token_states.get(key) or _Verdict(refused=False, good_until=0)


def _outage(key: str, reason: str) -> None:
    logger.warning("cognito could not check a token; admitting it on its signature", extra={"reason": reason})
    token_states.put(key, refused=False, for_seconds=settings.TOKEN_STATE_OUTAGE_RETRY_SECONDS)

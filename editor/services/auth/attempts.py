"""A limit on failed account steps, per (username, address) and per address, kept in DynamoDB.

Lambda containers share nothing, so the counts live in the edits table (one item per scope and fixed
window, deleted by TTL). It comes on top of Cognito's own lockout and the gateway's throttling. There is
no limit per username alone: anyone could then lock a named person out from anywhere. Sign-in failures and
recovery steps (forgot, reset, sign-up codes) are counted apart, so failed sign-ins never block recovery.
Usernames and addresses are stored only as hashes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import math
import time
from contextlib import contextmanager

from django.conf import settings
from pynamodb.exceptions import DoesNotExist, PynamoDBException

from editor.errors import ServiceError
from editor.models import FailureCounter

logger = logging.getLogger(__name__)

# ServiceError codes that count as a failure (a wrong password or code, a sign-in step gone stale).
FAILURE_CODES = frozenset(
    {"invalid_credentials", "invalid_code", "wrong_current_password", "challenge_expired"}
)
# The two families of steps, counted apart: proving who you are, and getting back into your account.
SIGN_IN = "signin"
RECOVERY = "recovery"


class TooManyFailures(ServiceError):
    """Past the limit: answer 429 with Retry-After (seconds until the window ends)."""

    def __init__(self, retry_after: int) -> None:
        minutes = max(1, math.ceil(retry_after / 60))
        super().__init__(
            "too_many_failures",
            f"Too many failed attempts. Wait {minutes} minute{'s' if minutes > 1 else ''} and try again.",
            status=429,
        )
        self.retry_after = retry_after


def _ids(*, flow: str, username: str, address: str, window: int) -> list[tuple[str, int]]:
    bucket = int(time.time() // window)
    scopes = [("address", address, settings.AUTH_FAILURE_LIMIT_PER_ADDRESS)]
    if username:
        # "Alice" and "alice" are one person (the pool's usernames are case-insensitive).
        pair = f"{username.strip().lower()}\x00{address}"
        scopes.append(("account-address", pair, settings.AUTH_FAILURE_LIMIT_PER_ACCOUNT_ADDRESS))
    return [
        (f"authfail#{flow}#{scope}#{hashlib.sha256(value.encode()).hexdigest()[:32]}#{bucket}", limit)
        for scope, value, limit in scopes
    ]


def _retry_after(window: int) -> int:
    now = time.time()
    return max(1, math.ceil((math.floor(now / window) + 1) * window - now))


def failures_check(*, flow: str, username: str, address: str) -> None:
    """Raise TooManyFailures if this address, or this username from it, is past its limit for `flow`."""
    window = settings.AUTH_FAILURE_WINDOW_SECONDS
    for counter_id, limit in _ids(flow=flow, username=username, address=address, window=window):
        try:
            failures = FailureCounter.get(counter_id).failures or 0
        except DoesNotExist:
            continue
        except PynamoDBException:
            # The limit is a second line behind Cognito's own lockout: never lock everyone out for it.
            logger.warning("failure counter unavailable", exc_info=True)
            return
        if failures >= limit:
            raise TooManyFailures(_retry_after(window))


def failure_record(*, flow: str, username: str, address: str) -> None:
    """Count one failure against this address and this (username, address) pair."""
    window = settings.AUTH_FAILURE_WINDOW_SECONDS
    expires = dt.datetime.fromtimestamp((time.time() // window + 1) * window + 60, dt.UTC)
    for counter_id, _ in _ids(flow=flow, username=username, address=address, window=window):
        try:
            FailureCounter(counter_id).update(
                actions=[FailureCounter.failures.add(1), FailureCounter.expires_at.set(expires)]
            )
        except PynamoDBException:
            logger.warning("failure counter not updated", exc_info=True)


@contextmanager
def failures_limited(*, username: str, address: str, flow: str = SIGN_IN, count_every_call: bool = False):
    """Refuse past the limit; count the block's failures (or every call, for steps that send mail)."""
    failures_check(flow=flow, username=username, address=address)
    try:
        yield
    except ServiceError as exc:
        if exc.code in FAILURE_CODES and not count_every_call:
            failure_record(flow=flow, username=username, address=address)
        raise
    finally:
        if count_every_call:
            failure_record(flow=flow, username=username, address=address)

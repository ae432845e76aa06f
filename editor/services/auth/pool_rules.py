"""The user pool's rules: its password policy (read from Cognito, cached) and whether sign-up is open."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from editor.errors import ServiceError
from editor.services.aws import aws_client

logger = logging.getLogger(__name__)

# Cognito's special characters (a space inside the password counts too).
SYMBOLS = "^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+- "


@dataclass(frozen=True)
class PoolSettings:
    """What the user pool allows, as DescribeUserPool says (the template's parameters, in effect)."""

    minimum_length: int = 8
    require_lowercase: bool = True
    require_uppercase: bool = True
    require_numbers: bool = True
    require_symbols: bool = True
    self_sign_up: bool = False
    mfa: str = "OFF"  # OFF, OPTIONAL or ON (a TOTP second factor)


_pool_lock = threading.Lock()
_pool_cache: dict = {}


def pool_settings() -> PoolSettings:
    """The pool's password policy and sign-up setting, cached per process; Cognito's defaults if unknown."""
    pool_id = settings.COGNITO_USER_POOL_ID
    with _pool_lock:
        cached = _pool_cache.get(pool_id)
        if cached and cached[1] > time.monotonic():
            return cached[0]
    try:
        pool = aws_client("cognito-idp").describe_user_pool(UserPoolId=pool_id)["UserPool"]
    except (ClientError, BotoCoreError):
        logger.warning("describe_user_pool failed; using Cognito's default password policy", exc_info=True)
        value, seconds = PoolSettings(), 30
    else:
        policy = (pool.get("Policies") or {}).get("PasswordPolicy") or {}
        value = PoolSettings(
            minimum_length=policy.get("MinimumLength", 8),
            require_lowercase=policy.get("RequireLowercase", False),
            require_uppercase=policy.get("RequireUppercase", False),
            require_numbers=policy.get("RequireNumbers", False),
            require_symbols=policy.get("RequireSymbols", False),
            self_sign_up=not (pool.get("AdminCreateUserConfig") or {}).get("AllowAdminCreateUserOnly", False),
            mfa=pool.get("MfaConfiguration") or "OFF",
        )
        seconds = settings.USER_POOL_SETTINGS_CACHE_SECONDS
    with _pool_lock:
        _pool_cache[pool_id] = (value, time.monotonic() + seconds)
    return value


def pool_settings_forget() -> None:
    with _pool_lock:
        _pool_cache.clear()


def password_rules(policy: PoolSettings | None = None) -> list[str]:
    """The password rules in words, to show before a person types."""
    policy = policy or pool_settings()
    rules = [f"At least {policy.minimum_length} characters"]
    if policy.require_lowercase:
        rules.append("a lowercase letter (a-z)")
    if policy.require_uppercase:
        rules.append("an uppercase letter (A-Z)")
    if policy.require_numbers:
        rules.append("a number (0-9)")
    if policy.require_symbols:
        rules.append("a symbol such as ! @ # $ % & * - _ = + ?")
    return rules


def password_problems(password: str, policy: PoolSettings | None = None) -> list[str]:
    """Each rule the password breaks, in words; empty when it meets them all."""
    policy = policy or pool_settings()
    problems = []
    if len(password) < policy.minimum_length:
        problems.append(f"It has {len(password)} characters; it needs at least {policy.minimum_length}.")
    if len(password) > 256:
        problems.append("It is longer than 256 characters.")
    if password != password.strip():
        problems.append("It must not start or end with a space.")
    if policy.require_lowercase and not any("a" <= c <= "z" for c in password):
        problems.append("It needs a lowercase letter (a-z).")
    if policy.require_uppercase and not any("A" <= c <= "Z" for c in password):
        problems.append("It needs an uppercase letter (A-Z).")
    if policy.require_numbers and not any(c.isascii() and c.isdigit() for c in password):
        problems.append("It needs a number (0-9).")
    if policy.require_symbols and not any(c in SYMBOLS for c in password.strip()):
        problems.append("It needs a symbol such as ! @ # $ % & * - _ = + ?")
    return problems


class PasswordRefused(ServiceError):
    """The password breaks the pool's rules; the answer lists each one."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("password_too_weak", "This password does not meet the rules: " + " ".join(problems))
        self.problems = problems

    def as_dict(self) -> dict:
        return {**super().as_dict(), "problems": self.problems}


def password_check(password: str) -> None:
    problems = password_problems(password)
    if problems:
        raise PasswordRefused(problems)

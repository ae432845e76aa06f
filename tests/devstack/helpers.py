"""Helpers the local-stack tests share: a refused call's error code, a user as moto holds it."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from django.conf import settings
from moto.cognitoidp.models import cognitoidp_backends

from devstack.stack import REGION


def error_code(call, **kwargs) -> str:
    with pytest.raises(ClientError) as raised:
        call(**kwargs)
    return raised.value.response["Error"]["Code"]


def moto_user(username: str):
    pool = cognitoidp_backends["123456789012"][REGION].user_pools[settings.COGNITO_USER_POOL_ID]
    return pool._get_user(username)

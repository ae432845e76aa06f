"""The local Cognito across restarts (codes and TOTP secrets kept, never in clear text) and its timing."""

from __future__ import annotations

import base64
import json
import re
import stat
import statistics
import time
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError
from django.conf import settings

from devstack.outbox import Outbox
from devstack.passwords import PasswordHash
from devstack.stack import CREDENTIALS, REGION
from tests.devstack.helpers import error_code, moto_user
from tests.devstack.running import DEMO, RunningStack
from tests.editor.auth_helpers import totp_now


def test_unknown_usernames_cost_the_same_work_as_known_ones(local_stack, make_user):
    """Finding 9: after a restart every password is an scrypt hash; a missing user must cost as much."""
    from devstack.stack import _client

    cognito = _client("cognito-idp", local_stack.moto_url)
    username, _ = make_user("timed")
    moto_user(username).password = PasswordHash("Test-password-1")  # as make run keeps it

    def seconds(name: str) -> float:
        start = time.perf_counter()
        error_code(
            cognito.initiate_auth,
            ClientId=settings.COGNITO_APP_CLIENT_ID,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": name, "PASSWORD": "Wrong-password-9"},
        )
        return time.perf_counter() - start

    known_times, unknown_times = [], []
    for _ in range(9):  # interleaved: this machine's speed drifts between runs of a few seconds
        known_times.append(seconds(username))
        unknown_times.append(seconds(f"nobody-{uuid.uuid4().hex[:8]}"))
    known, unknown = statistics.median(known_times), statistics.median(unknown_times)
    # Without the dummy hash an unknown name answered in a tenth of the time (4 ms against 52 ms).
    assert unknown >= 0.7 * known, (unknown, known)


def _cognito(stack: RunningStack):
    url = next(
        re.search(r"local AWS \(moto\)\s+(\S+)", line).group(1) for line in stack.lines if "(moto)" in line
    )
    client = boto3.client("cognito-idp", region_name=REGION, endpoint_url=url, **_keys())
    pool = client.list_user_pools(MaxResults=10)["UserPools"][0]["Id"]
    app = client.list_user_pool_clients(UserPoolId=pool, MaxResults=10)["UserPoolClients"][0]["ClientId"]
    return client, app


def _keys() -> dict:
    return {
        "aws_access_key_id": CREDENTIALS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    }


def _state_bytes(state) -> list[bytes]:
    """Every file of the state outside the outbox (the mail people read), with pickled copies decoded."""
    blobs = []
    for path in state.rglob("*"):
        if not path.is_file() or "outbox" in path.parts:
            continue
        data = path.read_bytes()
        blobs.append(data)
        if path.name.startswith("journal"):
            for line in data.splitlines():
                record = json.loads(line[9:])
                blobs.extend(base64.b64decode(value) for key, value in record.items() if key == "state")
    return blobs


@pytest.mark.slow  # two local stacks, one after the other, in processes of their own
def test_codes_and_totp_secrets_survive_a_restart_sealed(tmp_path):
    state = tmp_path / "state"
    stack = RunningStack(state).wait_ready()
    try:
        cognito, app = _cognito(stack)
        newcomer = f"new-{uuid.uuid4().hex[:8]}"
        cognito.sign_up(
            ClientId=app,
            Username=newcomer,
            Password="Newcomer-pass-1",
            UserAttributes=[{"Name": "email", "Value": f"{newcomer}@example.com"}],
        )
        code = Outbox(state / "outbox").last_code(username=newcomer, kind="signup")
        tokens = cognito.initiate_auth(
            ClientId=app,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": DEMO[0], "PASSWORD": DEMO[1]},
        )["AuthenticationResult"]
        secret = cognito.associate_software_token(AccessToken=tokens["AccessToken"])["SecretCode"]
        cognito.verify_software_token(AccessToken=tokens["AccessToken"], UserCode=totp_now(secret))
        cognito.set_user_mfa_preference(
            AccessToken=tokens["AccessToken"],
            SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True},
        )
    finally:
        assert stack.stop() == 0

    for blob in _state_bytes(state):
        assert secret.encode() not in blob and f'"{code}"'.encode() not in blob and code.encode() not in blob
    key = state / "cognito-standin.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and len(key.read_bytes()) == 32

    stack = RunningStack(state).wait_ready()
    try:
        cognito, app = _cognito(stack)
        wrong = "000000" if code != "000000" else "111111"
        with pytest.raises(ClientError) as refused:
            cognito.confirm_sign_up(ClientId=app, Username=newcomer, ConfirmationCode=wrong)
        assert refused.value.response["Error"]["Code"] == "CodeMismatchException"
        cognito.confirm_sign_up(ClientId=app, Username=newcomer, ConfirmationCode=code)

        def second_step(totp: str) -> dict:
            step = cognito.initiate_auth(
                ClientId=app,
                AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": DEMO[0], "PASSWORD": DEMO[1]},
            )
            assert step["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
            return cognito.respond_to_auth_challenge(
                ClientId=app,
                ChallengeName="SOFTWARE_TOKEN_MFA",
                Session=step["Session"],
                ChallengeResponses={"USERNAME": DEMO[0], "SOFTWARE_TOKEN_MFA_CODE": totp},
            )

        with pytest.raises(ClientError) as refused:
            second_step(totp_now(secret, offset=-600))
        assert refused.value.response["Error"]["Code"] == "CodeMismatchException"
        assert second_step(totp_now(secret))["AuthenticationResult"]["AccessToken"]
    finally:
        assert stack.stop() == 0


def test_local_cognito_mfa_sets_the_local_pools_configuration(local_stack, monkeypatch):
    from devstack.stack import _client, local_mfa_setting, provision

    cognito = _client("cognito-idp", local_stack.moto_url)
    pool = settings.COGNITO_USER_POOL_ID
    try:
        monkeypatch.setenv("LOCAL_COGNITO_MFA", "on")
        provision(local_stack.moto_url, local_stack.names)
        assert cognito.get_user_pool_mfa_config(UserPoolId=pool)["MfaConfiguration"] == "ON"
    finally:
        monkeypatch.delenv("LOCAL_COGNITO_MFA")
        provision(local_stack.moto_url, local_stack.names)
    assert cognito.get_user_pool_mfa_config(UserPoolId=pool)["MfaConfiguration"] == "OPTIONAL"
    monkeypatch.setenv("LOCAL_COGNITO_MFA", "sometimes")
    with pytest.raises(SystemExit, match="OFF, OPTIONAL or ON"):
        local_mfa_setting()

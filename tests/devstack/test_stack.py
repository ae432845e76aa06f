"""The local stack keeps a person's users, edits and images across restarts, with the same ids."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.devstack.running import script_run

ROOT = Path(__file__).resolve().parent.parent.parent

# Each run is a fresh process: moto's backends are process-wide, and the session's stack must not see this.
SCRIPT = r"""
import json, sys
import boto3
from devstack.stack import LocalStack, REGION, CREDENTIALS

stack = LocalStack(state_dir=__import__("pathlib").Path(sys.argv[1])).start()
env = stack.app_environment()
client = lambda service: boto3.client(service, region_name=REGION, endpoint_url=stack.moto_url,
                                      aws_access_key_id="testing", aws_secret_access_key="testing")
cognito, s3 = client("cognito-idp"), client("s3")
pool = env["COGNITO_USER_POOL_ID"]
if sys.argv[2] == "write":
    cognito.admin_create_user(UserPoolId=pool, Username="keeper", MessageAction="SUPPRESS")
    s3.put_object(Bucket=env["S3_BUCKET"], Key="users/keeper/edits/1/input.png", Body=b"\x89PNG kept bytes")
user = cognito.admin_get_user(UserPoolId=pool, Username="keeper")
sub = next(a["Value"] for a in user["UserAttributes"] if a["Name"] == "sub")
body = s3.get_object(Bucket=env["S3_BUCKET"], Key="users/keeper/edits/1/input.png")["Body"].read()
result = {"pool": pool, "client": env["COGNITO_APP_CLIENT_ID"], "sub": sub, "body": body.decode("latin-1")}
print(json.dumps(result))
stack.stop()
"""


def run(state_dir: Path, mode: str) -> dict:
    return script_run(SCRIPT, str(state_dir), mode)


@pytest.mark.slow  # two local stacks, one after the other, in processes of their own
def test_state_survives_a_restart(tmp_path):
    first = run(tmp_path, "write")
    second = run(tmp_path, "read")
    assert second == first
    assert first["body"] == "\x89PNG kept bytes"


@pytest.mark.slow  # two local stacks, one after the other, in processes of their own
def test_without_state_nothing_is_kept(tmp_path):
    run(tmp_path / "a", "write")
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "b"), "read"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0 and "UserNotFoundException" in result.stderr

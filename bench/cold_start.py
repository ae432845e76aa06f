"""Cold start of the Lambda handler from the built package: import + Django setup + first request.

Budget: <= 500 ms on this machine. Each sample is a fresh python3.12 process that puts the unzipped
package first on sys.path (boto3 beside it, as the Lambda runtime provides it), calls Zappa's
lambda_handler with an API Gateway event for GET /healthz, and reports the time from its first line to
the response. The package's remote_env (an S3 read at cold start in AWS) is switched off: there is no
AWS here, and that read is network time, not ours.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from bench.common import report
from deploy.package import (
    BUILD,
    LOCAL_RUN_ENVIRONMENT,
    extract_for_local_run,
    lambda_python,
    pip_install_for_lambda,
)

ROOT = Path(__file__).resolve().parent.parent
WORK = BUILD / "cold-start"
PACKAGE = ROOT / "dist" / "imageedit-production.zip"

PROBE = r"""
import time
started = time.perf_counter()
import json, os, sys
sys.path[:0] = [PACKAGE_DIR, RUNTIME_DIR]
from handler import lambda_handler
initialised = time.perf_counter()
import zappa_settings
host = zappa_settings.ENVIRONMENT_VARIABLES["DJANGO_ALLOWED_HOSTS"].split(",")[0]

class Context:
    aws_request_id = "bench-request"
    function_name = "imageedit-production"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:imageedit-production"
    def get_remaining_time_in_millis(self):
        return 300000

event = {
    "resource": "/{proxy+}", "path": "/healthz", "httpMethod": "GET",
    "headers": {"Host": host, "X-Forwarded-Proto": "https",
                "X-Forwarded-Port": "443"},
    "multiValueHeaders": {}, "queryStringParameters": None, "multiValueQueryStringParameters": None,
    "pathParameters": {"proxy": "healthz"}, "stageVariables": None, "body": None, "isBase64Encoded": False,
    "requestContext": {"requestId": "bench-1", "stage": "production", "httpMethod": "GET",
                       "path": "/production/healthz", "identity": {"sourceIp": "127.0.0.1"},
                       "resourcePath": "/{proxy+}"},
}
first = time.perf_counter()
response = lambda_handler(event, Context())
done = time.perf_counter()
print(json.dumps({"status": response["statusCode"], "body": response["body"], "ms": (done - started) * 1000,
                  "init_ms": (initialised - started) * 1000, "first_request_ms": (done - first) * 1000}))
"""


def prepare() -> tuple[Path, Path]:
    if not PACKAGE.exists():
        from deploy.package import main as package_main

        package_main(["production"])
    package_dir, runtime_dir = WORK / "package", WORK / "runtime"
    if package_dir.exists():
        shutil.rmtree(package_dir)
    extract_for_local_run(PACKAGE, package_dir)
    if not runtime_dir.exists():
        boto3 = next(
            line
            for line in (ROOT / "requirements.txt").read_text().splitlines()
            if line.startswith("boto3==")
        )
        # The Lambda runtime provides boto3 (the package leaves it out), compiled; give the probe the same.
        pip_install_for_lambda(runtime_dir, boto3)
        subprocess.run(
            [lambda_python(), "-m", "compileall", "-q", "-j", "0", str(runtime_dir)],
            check=False,
            stdout=subprocess.DEVNULL,
            env={**os.environ, "PYENV_VERSION": "3.12.1"},
        )
    return package_dir, runtime_dir


def run(samples: int = 7) -> list[dict]:
    interpreter = lambda_python()
    if interpreter is None:
        print("cold start: skipped, no python3.12 here (pyenv 3.12.1 expected)")
        return []
    package_dir, runtime_dir = prepare()
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "PYENV_VERSION": "3.12.1",
        "HOME": os.environ.get("HOME", "/root"),
        "IMAGEEDIT_ENV": "production",
        "DJANGO_SECRET_KEY": "bench-" + "x" * 50,
        "DJANGO_ALLOWED_HOSTS": "abc123.execute-api.us-east-1.amazonaws.com",
        "S3_BUCKET": "bench-bucket",
        "COGNITO_USER_POOL_ID": "us-east-1_bench",
        "COGNITO_APP_CLIENT_ID": "benchclient",
        **LOCAL_RUN_ENVIRONMENT,
        "AWS_LAMBDA_FUNCTION_NAME": "imageedit-production",
        # /var/task is read-only on Lambda: only the bytecode shipped in the package may be used.
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    probe = PROBE.replace("PACKAGE_DIR", repr(str(package_dir))).replace(
        "RUNTIME_DIR", repr(str(runtime_dir))
    )

    def sample(extra: dict) -> dict:
        result = subprocess.run(
            [interpreter, "-c", probe],
            capture_output=True,
            text=True,
            env={**environment, **extra},
            cwd=str(package_dir),
            timeout=60,
        )
        lines = [line for line in result.stdout.splitlines() if line.startswith('{"status"')]
        if result.returncode != 0 or not lines:
            raise SystemExit(f"cold start probe failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
        outcome = json.loads(lines[-1])
        if outcome["status"] != 200:
            raise SystemExit(f"cold start probe got {outcome}\n{result.stderr[-3000:]}")
        return outcome

    plain = [sample({}) for _ in range(samples)]
    # As deployed (zappa_settings.json): the handler and Django, with every view, load in the init phase,
    # which SnapStart snapshots; a restored function then only pays for the first request itself.
    snapshotted = [sample({"INSTANTIATE_LAMBDA_HANDLER_ON_IMPORT": "true"}) for _ in range(samples)]
    return [
        report("cold start: handler import + setup + 1st request", [o["ms"] for o in plain], budget_ms=500),
        report("  with init in Lambda's init phase: init", [o["init_ms"] for o in snapshotted]),
        report("  then the first request (SnapStart's part)", [o["first_request_ms"] for o in snapshotted]),
    ]


if __name__ == "__main__":
    run()

"""Cold start: imageedit's Lambda package beside a minimal Zappa + Django + DRF app and a bare handler.

Each sample is a fresh python3.12 process that puts one unzipped package first on sys.path (boto3
beside it, as the Lambda runtime provides it), calls its handler with an API Gateway event for
GET /healthz, and reports the time from its first line to the response. The three packages are sampled
in turn, so the machine's drift touches them alike. imageedit's remote_env (an S3 read at cold start in
AWS) is switched off: there is no AWS here, and that read is network time, not ours.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import zipfile
from collections import defaultdict
from pathlib import Path

from bench.common import figure, scaled
from bench.packages import ROOT, bare_handler_package, imageedit_package, minimal_app_package
from deploy.package import (
    BUILD,
    LOCAL_RUN_ENVIRONMENT,
    extract_for_local_run,
    lambda_python,
    pip_install_for_lambda,
)

WORK = BUILD / "cold-start"
HOST = "abc123.execute-api.us-east-1.amazonaws.com"

PROBE = r"""
import time
started = time.perf_counter()
import json, os, sys
sys.path[:0] = [PACKAGE_DIR, RUNTIME_DIR]
ENTRY
initialised = time.perf_counter()

class Context:
    aws_request_id = "bench-request"
    function_name = "bench"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:bench"
    def get_remaining_time_in_millis(self):
        return 300000

event = {
    "resource": "/{proxy+}", "path": "/healthz", "httpMethod": "GET",
    "headers": {"Host": HOST, "X-Forwarded-Proto": "https", "X-Forwarded-Port": "443"},
    "multiValueHeaders": {}, "queryStringParameters": None, "multiValueQueryStringParameters": None,
    "pathParameters": {"proxy": "healthz"}, "stageVariables": None, "body": None, "isBase64Encoded": False,
    "requestContext": {"requestId": "bench-1", "stage": "production", "httpMethod": "GET",
                       "path": "/production/healthz", "identity": {"sourceIp": "127.0.0.1"},
                       "resourcePath": "/{proxy+}"},
}
first = time.perf_counter()
response = entry(event, Context())
done = time.perf_counter()
print(json.dumps({"status": response["statusCode"], "ms": (done - started) * 1000,
                  "init_ms": (initialised - started) * 1000, "first_request_ms": (done - first) * 1000,
                  "modules": sorted(sys.modules)}))
"""
ZAPPA_ENTRY = "from handler import lambda_handler as entry"
BARE_ENTRY = "from bare_handler import handler as entry"
# What a thinner entry point than Zappa's handler could save: Zappa's WSGI translation (zappa.wsgi) and
# Django, without zappa.handler's other imports (asyncio, werkzeug's Response, the ASGI path). A floor,
# not a shippable handler: it leaves out async-task events, cookies, binary bodies and error handling.
THIN_ENTRY = """
import zappa_settings
os.environ.update(zappa_settings.ENVIRONMENT_VARIABLES)
os.environ["DJANGO_SETTINGS_MODULE"] = zappa_settings.DJANGO_SETTINGS
from zappa.wsgi import create_wsgi_request
from django.core.wsgi import get_wsgi_application
application = get_wsgi_application()

def entry(event, context):
    environ = create_wsgi_request(event, script_name="", binary_support=True)
    environ.update({"HTTPS": "on", "wsgi.url_scheme": "https"})
    answer = {}
    def start_response(status, headers, exc_info=None):
        answer["status"] = int(status.split()[0])
    body = b"".join(application(environ, start_response))
    return {"statusCode": answer["status"], "body": body.decode()}
"""


def _runtime_dir() -> Path:
    """boto3 as the Lambda runtime provides it (the packages leave it out), compiled."""
    runtime_dir = WORK / "runtime"
    if not runtime_dir.exists():
        boto3 = next(
            line
            for line in (ROOT / "requirements.txt").read_text().splitlines()
            if line.startswith("boto3==")
        )
        pip_install_for_lambda(runtime_dir, boto3)
        subprocess.run(
            [lambda_python(), "-m", "compileall", "-q", "-j", "0", str(runtime_dir)],
            check=False,
            stdout=subprocess.DEVNULL,
            env={**os.environ, "PYENV_VERSION": "3.12.1"},
        )
    return runtime_dir


def _unpack(name: str, package: Path) -> Path:
    destination = WORK / name
    if destination.exists():
        shutil.rmtree(destination)
    if name.startswith("imageedit"):
        return extract_for_local_run(package, destination)
    with zipfile.ZipFile(package) as archive:
        archive.extractall(destination)
    return destination


ENVIRONMENT = {
    "PYENV_VERSION": "3.12.1",
    "IMAGEEDIT_ENV": "production",
    "DJANGO_SECRET_KEY": "bench-" + "x" * 50,
    "DJANGO_ALLOWED_HOSTS": HOST,
    "S3_BUCKET": "bench-bucket",
    "COGNITO_USER_POOL_ID": "us-east-1_bench",
    "COGNITO_APP_CLIENT_ID": "benchclient",
    **LOCAL_RUN_ENVIRONMENT,
    "AWS_LAMBDA_FUNCTION_NAME": "bench",
    # /var/task is read-only on Lambda: only the bytecode shipped in the package may be used.
    "PYTHONDONTWRITEBYTECODE": "1",
}


class Probe:
    def __init__(self, interpreter: str, package_dir: Path, runtime_dir: Path, entry: str) -> None:
        self.interpreter, self.package_dir = interpreter, package_dir
        self.code = (
            PROBE.replace("PACKAGE_DIR", repr(str(package_dir)))
            .replace("RUNTIME_DIR", repr(str(runtime_dir)))
            .replace("ENTRY", entry)
            .replace("HOST", repr(HOST))
        )

    def sample(self, extra: dict | None = None, flags: tuple[str, ...] = ()) -> tuple[dict, str]:
        result = subprocess.run(
            [self.interpreter, *flags, "-c", self.code],
            capture_output=True,
            text=True,
            env={
                "PATH": os.environ.get("PATH", ""),
                "HOME": os.environ.get("HOME", "/root"),
                **ENVIRONMENT,
                **(extra or {}),
            },
            cwd=str(self.package_dir),
            timeout=120,
        )
        lines = [line for line in result.stdout.splitlines() if line.startswith('{"status"')]
        if result.returncode != 0 or not lines:
            raise RuntimeError(f"cold start probe failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
        outcome = json.loads(lines[-1])
        if outcome["status"] != 200:
            raise RuntimeError(f"cold start probe got {outcome['status']}\n{result.stderr[-3000:]}")
        return outcome, result.stderr


_IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \| ( *)(\S+)")


def importtime(stderr: str) -> list[tuple[str, float, float, str | None]]:
    """(module, self ms, cumulative ms, importer) for each line of -X importtime.

    A module's line follows those of the modules it imported, indented one step deeper: its importer is
    the next line with less indentation.
    """
    lines = [
        (match[4], int(match[1]) / 1000, int(match[2]) / 1000, len(match[3]))
        for match in map(_IMPORT_LINE.match, stderr.splitlines())
        if match
    ]
    parsed, pending = [], []  # pending: indices still waiting for their importer, with their depth
    for index, (module, self_ms, cumulative_ms, depth) in enumerate(lines):
        while pending and pending[-1][1] > depth:
            parsed[pending.pop()[0]][3] = module
        parsed.append([module, self_ms, cumulative_ms, None])
        pending.append((index, depth))
    return [tuple(item) for item in parsed]


def _via(own: list, module: str) -> str:
    """The chain of importers that brought `module` in, up to the first of imageedit's own modules."""
    importer = {item[0]: item[3] for item in own}
    chain, current = [], importer.get(module)
    while current and len(chain) < 6:
        chain.append(current)
        if current.split(".")[0] in ("editor", "imageedit", "handler"):
            break
        current = importer.get(current)
    return " <- ".join(chain)


def run() -> list[dict]:
    interpreter = lambda_python()
    if interpreter is None:
        raise RuntimeError("no python3.12 here (pyenv 3.12.1 expected)")
    # BENCH_COLD_SAMPLES: more samples where the machine is noisy (each is a fresh process per package).
    samples = scaled(int(os.environ.get("BENCH_COLD_SAMPLES", "7")), 1)
    runtime_dir = _runtime_dir()
    probes = {
        # The dev stage is the one deployed without SnapStart: its views load on first use.
        "imageedit": Probe(
            interpreter, _unpack("imageedit", imageedit_package("dev")), runtime_dir, ZAPPA_ENTRY
        ),
        # Production warms every view in the init phase for SnapStart to snapshot (IMAGEEDIT_WARM_ON_START).
        "production": Probe(
            interpreter, _unpack("imageedit-production", imageedit_package()), runtime_dir, ZAPPA_ENTRY
        ),
        "minimal": Probe(interpreter, _unpack("minimal", minimal_app_package()), runtime_dir, ZAPPA_ENTRY),
        "bare": Probe(interpreter, _unpack("bare", bare_handler_package()), runtime_dir, BARE_ENTRY),
    }
    probes["thin"] = Probe(interpreter, probes["imageedit"].package_dir, runtime_dir, THIN_ENTRY)
    timings, modules = defaultdict(list), {}
    for _ in range(samples):
        for name, probe in probes.items():
            outcome, _ = probe.sample()
            timings[name].append(outcome["ms"])
            modules[name] = set(outcome["modules"])
    # As deployed (zappa_settings.json): the handler and Django, with every view, load in the init phase,
    # which SnapStart snapshots; a restored function then only pays for the first request itself.
    snapshotted = [
        probes["production"].sample({"INSTANTIATE_LAMBDA_HANDLER_ON_IMPORT": "true"})[0]
        for _ in range(samples)
    ]
    imports = {
        name: importtime(probes[name].sample(flags=("-X", "importtime"))[1])
        for name in ("imageedit", "minimal")
    }
    bare = figure("cold start, bare handler (boto3 + bedrock client)", timings["bare"])
    minimal = figure("cold start, minimal Zappa+Django+DRF app", timings["minimal"], baseline=bare)
    rows = [
        figure(
            "cold start, imageedit (no SnapStart)",
            timings["imageedit"],
            baseline=minimal,
            max_ratio=0.8,
            note="the dev stage's package: deployed without SnapStart, views load on first use",
        ),
        figure(
            "  production package without its snapshot",
            timings["production"],
            baseline=minimal,
            note="init warms every view for SnapStart; a restore skips it (below)",
        ),
        figure("cold start, imageedit vs bare handler", timings["imageedit"], baseline=bare),
        figure(
            "  imageedit via a thin entry (floor, not shippable)",
            timings["thin"],
            baseline=minimal,
            note="zappa.wsgi + Django, without zappa.handler",
        ),
        minimal,
        bare,
        figure("  SnapStart split: init phase (snapshotted)", [o["init_ms"] for o in snapshotted]),
        figure(
            "  SnapStart split: 1st request after restore",
            [o["first_request_ms"] for o in snapshotted],
            max_p50=10,
        ),
    ]
    global _details
    _details = _import_report(imports, modules)
    return rows


_details: dict = {}


def details() -> tuple[str, dict]:
    """What to print under the table and keep in the JSON: the import-time evidence of the last run."""
    return (import_text(_details) if _details else ""), _details


def _import_report(imports: dict, modules: dict) -> dict:
    """Top 15 imports of imageedit by cumulative time, and what it loads that the minimal app does not."""
    own = imports["imageedit"]
    top = sorted(own, key=lambda item: -item[2])[:15]
    only = modules["imageedit"] - modules["minimal"]
    by_package = defaultdict(lambda: [0, 0.0, ""])
    for module, self_ms, _, _ in own:
        if module in only:
            entry = by_package[module.split(".")[0]]
            entry[0] += 1
            entry[1] += self_ms
            entry[2] = entry[2] or _via(own, module)
    extra = sorted(by_package.items(), key=lambda item: -item[1][1])
    return {
        "imageedit_importtime_top15": [
            {"module": module, "self_ms": round(s, 2), "cumulative_ms": round(c, 2)}
            for module, s, c, _ in top
        ],
        "imageedit_only_packages": [
            {"package": name, "modules": count, "self_ms": round(ms, 2), "via": via}
            for name, (count, ms, via) in extra
        ],
        "imageedit_total_import_ms": round(sum(item[1] for item in own), 1),
        "minimal_total_import_ms": round(sum(item[1] for item in imports["minimal"]), 1),
    }


def import_text(report: dict) -> str:
    lines = [
        f"imageedit imports: {report['imageedit_total_import_ms']} ms in all "
        f"(minimal app: {report['minimal_total_import_ms']} ms); -X importtime top 15 by cumulative time:",
    ]
    lines += [
        f"  {item['cumulative_ms']:>8.1f} ms cumulative {item['self_ms']:>7.1f} ms self  {item['module']}"
        for item in report["imageedit_importtime_top15"]
    ]
    lines.append(
        "what imageedit loads at cold start that the minimal app does not (top-level package, self time):"
    )
    lines += [
        f"  {item['self_ms']:>8.1f} ms  {item['modules']:>4} modules  {item['package']:<16} via {item['via']}"
        for item in report["imageedit_only_packages"][:15]
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    for row in run():
        print(row)
    print(details()[0])

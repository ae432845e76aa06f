"""Build the Lambda zip with `zappa package`, from manylinux wheels for python3.12, never this machine's venv.

Zappa copies the site-packages of the virtualenv it runs in and, for compiled packages, asks an old
PyPI host for Lambda wheels, falling back in silence to whatever is installed. So this script fills a
separate virtualenv folder with wheels pip selects for Lambda's platform (--platform, --python-version,
--only-binary), tells Zappa to use it as is (use_precompiled_packages: false), then checks the result.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Outside the project: Zappa walks the project tree (looking for WebSocket handlers, among others) and
# must not find a second copy of zappa or of the app there.
# One folder per checkout, so two worktrees can build at the same time.
BUILD = Path(tempfile.gettempdir()) / f"imageedit-build-{hashlib.sha256(str(ROOT).encode()).hexdigest()[:8]}"
LAMBDA_PYTHON = "3.12"
PLATFORMS = ("manylinux2014_x86_64", "manylinux_2_28_x86_64")
SIZE_BUDGET_MB = 25
# Never inside the package: the local stack, tests, benchmarks, and the heavy dev-only libraries.
FORBIDDEN_PREFIXES = (
    "devstack/",
    "tests/",
    "bench/",
    "infra/",
    "deploy/",
    "cv2/",
    "numpy/",
    "moto/",
    "playwright/",
    "pytest",
    ".venv",
    ".devstack/",
    ".git/",
    "c2pa/",  # in the layer (layer_build), not in the function
)
LAYER_SIZE_BUDGET_MB = 10


def _zappa_version() -> str:
    for line in (ROOT / "requirements-dev.txt").read_text().splitlines():
        if line.startswith("zappa=="):
            return line.split("==", 1)[1].strip()
    raise SystemExit("zappa is not pinned in requirements-dev.txt")


def pip_install_for_lambda(site: Path, *args: str) -> None:
    """pip install into `site` the wheels Lambda's python3.12 on x86_64 can load (never sdists)."""
    platform_args = [arg for platform in PLATFORMS for arg in ("--platform", platform)]
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--target",
            str(site),
            *platform_args,
            "--implementation",
            "cp",
            "--python-version",
            LAMBDA_PYTHON,
            "--only-binary=:all:",
            *args,
        ],
        check=True,
    )


def build_site_packages(venv: Path) -> Path:
    """A virtualenv-shaped folder Zappa will copy: requirements.txt plus Zappa's handler code."""
    if venv.exists():
        shutil.rmtree(venv)
    # Zappa looks for lib/python<the running version>/site-packages; the wheels inside are for Lambda's.
    site = venv / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    site.mkdir(parents=True)
    pip_install_for_lambda(site, "-r", str(ROOT / "requirements.txt"))
    # Zappa's handler needs zappa itself (its runtime imports are pinned in requirements.txt), not its CLI.
    pip_install_for_lambda(site, "--no-deps", f"zappa=={_zappa_version()}")
    return site


def layer_build(output: Path) -> dict:
    """The Content Credentials layer: c2pa-python under python/ (where Lambda puts layers on sys.path).

    Kept out of the function so the function stays in its budget and `zappa update` does not upload
    the same 9 MB again each time; a new layer version is needed only when requirements-layer.txt changes.
    """
    with tempfile.TemporaryDirectory(prefix="imageedit-layer-") as tree:
        site = Path(tree) / "python"
        # Without its dependencies: cryptography is in the function already, and requests and toml serve
        # only c2pa's build script, which nothing imports at run time.
        pip_install_for_lambda(site, "--no-deps", "-r", str(ROOT / "requirements-layer.txt"))
        # The wheel carries the Rust static library and its dep-file (31 MB) beside the shared library it
        # loads: only the .so is needed at run time.
        for leftover in (*site.glob("c2pa/libs/*.rlib"), *site.glob("c2pa/libs/*.d")):
            leftover.unlink()
        with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as archive:
            for file in sorted(Path(tree).rglob("*")):
                if file.is_file() and "__pycache__" not in file.parts:
                    archive.write(file, file.relative_to(tree).as_posix())
    bytecode_add(output)  # /opt is read-only too: without .pyc each cold start compiles c2pa.py (171 KB)
    with zipfile.ZipFile(output) as archive:
        names = archive.namelist()
        unpacked = sum(info.file_size for info in archive.infolist())
    if "python/c2pa/libs/libc2pa_c.so" not in names:
        raise SystemExit("the layer lacks c2pa's shared library")
    figures = {
        "path": str(output),
        "zipped_mb": round(output.stat().st_size / 1e6, 2),
        "unzipped_mb": round(unpacked / 1e6, 2),
        "budget_mb": LAYER_SIZE_BUDGET_MB,
    }
    if figures["zipped_mb"] > LAYER_SIZE_BUDGET_MB:
        raise SystemExit(
            f"the layer is {figures['zipped_mb']} MB zipped; the budget is {LAYER_SIZE_BUDGET_MB} MB"
        )
    return figures


def zappa_package(stage: str, venv: Path, output: Path) -> None:
    environment = {
        **os.environ,
        "VIRTUAL_ENV": str(venv),
        # `zappa package` makes no AWS call, but boto3 wants a region and credentials to build a session.
        "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        "AWS_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID", "packaging-only"),
        "AWS_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY", "packaging-only"),
    }
    zappa = Path(sys.executable).with_name("zappa")
    subprocess.run(
        [str(zappa), "package", stage, "--output", str(output)], check=True, cwd=ROOT, env=environment
    )


def lambda_python() -> str | None:
    """An interpreter of Lambda's Python (3.12) on this machine, if there is one (pyenv's here)."""
    candidates = (
        shutil.which("python3.12"),
        str(Path.home() / f".pyenv/versions/3.12.1/bin/python{LAMBDA_PYTHON}"),
    )
    for candidate in candidates:
        if not candidate or not Path(candidate).exists():
            continue
        probe = subprocess.run(
            [candidate, "-c", "import sys; print(sys.version_info[:2])"],
            capture_output=True,
            text=True,
            env={**os.environ, "PYENV_VERSION": "3.12.1"},
        )
        if probe.returncode == 0 and probe.stdout.strip() == "(3, 12)":
            return candidate
    return None


def bytecode_add(path: Path) -> bool:
    """Add python3.12 bytecode to the zip, so no cold start compiles the app and its libraries.

    Lambda's /var/task is read-only: without .pyc in the package every cold start compiles every module
    it imports (seconds, not milliseconds). unchecked-hash .pyc are trusted without a look at the
    sources' timestamps, which a zip does not keep reliably.
    """
    python = lambda_python()
    if python is None:
        print(
            "WARNING: no python3.12 here, so the package carries no bytecode; cold starts will compile it",
            file=sys.stderr,
        )
        return False
    with tempfile.TemporaryDirectory(prefix="imageedit-pyc-") as tree:
        with zipfile.ZipFile(path) as archive:
            modes = {info.filename: info.external_attr for info in archive.infolist()}
            archive.extractall(tree)
        # Some libraries ship files that do not compile (templates named .py, Python 2 leftovers): skip them.
        subprocess.run(
            [python, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash", tree],
            env={**os.environ, "PYENV_VERSION": "3.12.1"},
            check=False,
            stdout=subprocess.DEVNULL,
        )
        rebuilt = path.with_suffix(".tmp.zip")
        with zipfile.ZipFile(rebuilt, "w", zipfile.ZIP_DEFLATED) as archive:
            for file in sorted(Path(tree).rglob("*")):
                if file.is_file():
                    name = file.relative_to(tree).as_posix()
                    info = zipfile.ZipInfo.from_file(file, name)
                    info.compress_type = zipfile.ZIP_DEFLATED
                    info.external_attr = modes.get(name, 0o644 << 16)
                    archive.writestr(info, file.read_bytes())
        rebuilt.replace(path)
    return True


def extract_for_local_run(path: Path, destination: Path) -> Path:
    """Unzip the package to run it here: without remote_env, whose S3 read would go to AWS.

    The bytecode of zappa_settings goes too, or Python would run the shipped settings regardless.
    """
    with zipfile.ZipFile(path) as archive:
        archive.extractall(destination)
    settings = destination / "zappa_settings.py"
    settings.write_text(re.sub(r"(?m)^REMOTE_ENV\s*=.*$", "REMOTE_ENV = None", settings.read_text()))
    for compiled in (destination / "__pycache__").glob("zappa_settings.*.pyc"):
        compiled.unlink()
    return destination


# Any AWS call a local run of the package makes by mistake goes to a closed loopback port, never to AWS.
LOCAL_RUN_ENVIRONMENT = {
    "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "local-run",
    "AWS_SECRET_ACCESS_KEY": "local-run",
    "COGNITO_JWKS_URL": "http://127.0.0.1:9/jwks.json",
}


def package_check(path: Path) -> dict:
    """Refuse a package that holds anything forbidden; return its figures."""
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        unpacked = sum(info.file_size for info in archive.infolist())
    forbidden = sorted({name for name in names if name.startswith(FORBIDDEN_PREFIXES)})
    if forbidden:
        raise SystemExit(f"the package holds excluded paths: {forbidden[:10]}")
    for required in (
        "handler.py",
        "zappa_settings.py",
        "imageedit/settings.py",
        "editor/models.py",
        "django/__init__.py",
        "pi_heif/",  # HEIC photos
        "editor/static/editor/",
    ):
        if not any(name.startswith(required) for name in names):
            raise SystemExit(f"the package lacks {required}")
    figures = {
        "path": str(path),
        "zipped_mb": round(path.stat().st_size / 1e6, 2),
        "unzipped_mb": round(unpacked / 1e6, 2),
        "files": len(names),
        "budget_mb": SIZE_BUDGET_MB,
    }
    if figures["zipped_mb"] > SIZE_BUDGET_MB:
        raise SystemExit(
            f"the package is {figures['zipped_mb']} MB zipped; the budget is {SIZE_BUDGET_MB} MB"
        )
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stage", nargs="?", default="production")
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument("--layer-output", type=Path, default=None)
    args = parser.parse_args(argv)
    venv = BUILD / "lambda-venv"
    output = args.output or ROOT / "dist" / f"imageedit-{args.stage}.zip"
    output.parent.mkdir(parents=True, exist_ok=True)
    build_site_packages(venv)
    zappa_package(args.stage, venv, output)
    bytecode_add(output)
    print(json.dumps(package_check(output)))
    layer = args.layer_output or output.with_name("imageedit-c2pa-layer.zip")
    print(json.dumps(layer_build(layer)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

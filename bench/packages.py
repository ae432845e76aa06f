"""The three Lambda packages the bench compares, each built once per set of inputs, and their sizes.

imageedit's zip is dist/imageedit-<stage>.zip, as `make package` builds it; beside it a file holds the
hash of everything that goes in, so a bench run reuses a zip that already matches the sources. The
baselines (a minimal Zappa + Django + DRF app, a bare boto3 handler) are built from the same pinned
wheels into .bench/packages/.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from bench.common import figure
from deploy.package import BUILD, bytecode_add, pip_install_for_lambda

ROOT = Path(__file__).resolve().parent.parent
MINIMAL_SOURCE = Path(__file__).resolve().parent / "minimal_app"
PACKAGES = ROOT / ".bench" / "packages"
# What goes into imageedit's package: the app, its settings and pins, and the script that builds it.
IMAGEEDIT_INPUTS = (
    "imageedit",
    "editor",
    "templates",
    "manage.py",
    "requirements.txt",
    "requirements-dev.txt",
    "zappa_settings.json",
    "deploy/package.py",
)


def _pinned(name: str, requirements: str = "requirements.txt") -> str:
    for line in (ROOT / requirements).read_text().splitlines():
        if line.lower().startswith(name.lower() + "=="):
            return line.split(";")[0].strip()
    raise SystemExit(f"{name} is not pinned in {requirements}")


def inputs_hash(paths: list[Path], extra: str = "") -> str:
    digest = hashlib.sha256(extra.encode())
    for base in paths:
        files = sorted(base.rglob("*")) if base.is_dir() else [base]
        for file in files:
            if file.is_file() and "__pycache__" not in file.parts and file.suffix != ".pyc":
                digest.update(file.relative_to(ROOT).as_posix().encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()


def _stale(zip_path: Path, digest: str) -> bool:
    stamp = zip_path.with_name(zip_path.name + ".inputs-sha256")
    return not (zip_path.exists() and stamp.exists() and stamp.read_text().strip() == digest)


def _stamp(zip_path: Path, digest: str) -> None:
    zip_path.with_name(zip_path.name + ".inputs-sha256").write_text(digest + "\n")


def imageedit_package(stage: str = "production") -> Path:
    """dist/imageedit-<stage>.zip, rebuilt only when its inputs changed since it was built."""
    path = ROOT / "dist" / f"imageedit-{stage}.zip"
    digest = inputs_hash([ROOT / name for name in IMAGEEDIT_INPUTS], extra=stage)
    if _stale(path, digest):
        print(f"building {path} (its inputs changed)", flush=True)
        from deploy.package import main as package_main

        package_main([stage])
        _stamp(path, digest)
    else:
        print(f"reusing {path}: it matches the sources", flush=True)
    return path


def minimal_app_package() -> Path:
    """The minimal Zappa + Django + DRF app, packaged by `zappa package` from the same pinned wheels."""
    path = PACKAGES / "minimal-app.zip"
    pins = [_pinned(name) for name in ("Django", "djangorestframework", "werkzeug", "durationpy")]
    zappa = _pinned("zappa", "requirements-dev.txt")
    digest = inputs_hash([MINIMAL_SOURCE / "minimal", MINIMAL_SOURCE / "zappa_settings.json"], " ".join(pins))
    if not _stale(path, digest + zappa):
        return path
    print(f"building {path}", flush=True)
    work = BUILD / "bench-minimal-app"
    if work.exists():
        shutil.rmtree(work)
    project, venv = work / "project", work / "venv"
    shutil.copytree(MINIMAL_SOURCE / "minimal", project / "minimal")
    shutil.copy(MINIMAL_SOURCE / "zappa_settings.json", project / "zappa_settings.json")
    site = venv / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    site.mkdir(parents=True)
    pip_install_for_lambda(site, *pins)
    pip_install_for_lambda(site, "--no-deps", zappa)
    PACKAGES.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [str(Path(sys.executable).with_name("zappa")), "package", "production", "--output", str(path)],
        check=True,
        cwd=project,
        env={
            **os.environ,
            "VIRTUAL_ENV": str(venv),
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "packaging-only",
            "AWS_SECRET_ACCESS_KEY": "packaging-only",
        },
    )
    bytecode_add(path)
    _stamp(path, digest + zappa)
    return path


def bare_handler_package() -> Path:
    """One file: the handler (boto3 comes from the Lambda runtime, as for the others)."""
    path = PACKAGES / "bare-handler.zip"
    PACKAGES.mkdir(parents=True, exist_ok=True)
    source = MINIMAL_SOURCE / "bare_handler.py"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(source, "bare_handler.py")
    bytecode_add(path)
    return path


def sizes(path: Path) -> tuple[float, float]:
    with zipfile.ZipFile(path) as archive:
        unpacked = sum(info.file_size for info in archive.infolist())
    return path.stat().st_size / 1e6, unpacked / 1e6


def run() -> list[dict]:
    """Benchmark 6: package size, zipped and unzipped, beside the minimal app's."""
    zipped, unzipped = sizes(imageedit_package())
    minimal_zipped, minimal_unzipped = sizes(minimal_app_package())
    base_zipped = figure("package, minimal app: zipped", [minimal_zipped], unit="MB")
    base_unzipped = figure("package, minimal app: unzipped", [minimal_unzipped], unit="MB")
    return [
        figure("package, imageedit: zipped", [zipped], unit="MB", baseline=base_zipped, max_p50=25),
        base_zipped,
        figure("package, imageedit: unzipped", [unzipped], unit="MB", baseline=base_unzipped),
        base_unzipped,
    ]

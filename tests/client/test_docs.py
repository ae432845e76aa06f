"""docs/cli.md's shell blocks and the README's client example, run in order as a person would paste them,
against the local stack: `pip install ./client` included (offline: its dependencies are in the test's
environment)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from tests.devstack.running import DEMO, ROOT
from tests.editor.photo_samples import photo_like, rect_mask


def _sh_blocks(path) -> list[str]:
    return re.findall(r"```sh\n(.*?)```", path.read_text(), re.S)


def test_the_docs_tour_and_batch_run_as_written(stack, tmp_path):
    blocks = _sh_blocks(ROOT / "docs" / "cli.md")
    done, work, target = _run_blocks(blocks, stack, tmp_path)
    assert done.returncode == 0, f"{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    assert (target / "bin" / "imageedit").is_file()  # the console script pip made
    assert (work / "cleaned.jpg").is_file()
    assert (work / "cleaned" / "a.png").is_file() and (work / "cleaned" / "shoes" / "b.png").is_file()
    assert list((work / "downloads").iterdir())


def test_the_readme_client_example_runs_as_written(stack, tmp_path):
    blocks = [block for block in _sh_blocks(ROOT / "README.md") if "imageedit " in block]
    assert len(blocks) == 1, blocks
    done, work, _ = _run_blocks(blocks, stack, tmp_path)
    assert done.returncode == 0, f"{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    assert (work / "cleaned" / "a.png").is_file() and (work / "cleaned" / "shoes" / "b.png").is_file()


def _run_blocks(blocks: list[str], stack, tmp_path):
    """Run the blocks in one shell in a folder with photos/, masks/, photo.jpg and mask.png; pip installs
    the client into a folder of its own."""
    assert any("imageedit batch" in block for block in blocks) and any(
        "pip install ./client" in b for b in blocks
    )
    work = tmp_path / "work"
    (work / "photos" / "shoes").mkdir(parents=True)
    (work / "masks" / "shoes").mkdir(parents=True)
    photo_like(400, 300).save(work / "photo.jpg")
    rect_mask((400, 300), (150, 100, 250, 200)).save(work / "mask.png")
    for name, seed in (("a", 1), ("shoes/b", 2)):
        photo_like(320, 240, seed=seed).save(work / "photos" / f"{name}.png")
        rect_mask((320, 240), (100, 80, 180, 160)).save(work / "masks" / f"{name}.png")
    (work / "client").symlink_to(ROOT / "client")
    target = tmp_path / "installed"
    # pip as the docs run it, into a folder of its own, offline: requests and rich come from this venv.
    preamble = (
        f'pip() {{ shift; "{sys.executable}" -m pip install --quiet --no-deps --no-build-isolation '
        f'--no-index --target "{target}" "$@"; }}\n'
        f'export PATH="{target}/bin:$PATH" PYTHONPATH="{target}"\n'
    )
    script = "set -euo pipefail\n" + preamble + "\n".join(blocks)
    environment = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
        "IMAGEEDIT_ENDPOINT": stack.base,
        "IMAGEEDIT_USERNAME": DEMO[0],
        "IMAGEEDIT_PASSWORD": DEMO[1],
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "IMAGEEDIT_TOKEN_STORE": "file",
    }
    done = subprocess.run(
        ["/bin/bash", "-c", script], cwd=work, env=environment, capture_output=True, text=True, timeout=300
    )
    return done, work, target

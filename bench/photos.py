"""Peak memory and time of full-resolution edits (12, 48, 100 MP) beside Pillow's own decode + encode.

Each case runs in a fresh process, so its peak resident memory (VmHWM) is its own; every process
imports Django and the app first, as the Lambda function has, and the figure "over imports" subtracts
what that costs. The model's answer is stood in for by the crop it was sent, blurred: Bedrock's work
happens elsewhere, this measures the app's (decode, crop, composite, encode).

    python -m bench.photos            # all sizes
    python -m bench.photos --sizes 12 # one
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SIZES = {12: (4000, 3000), 48: (8000, 6000), 100: (12000, 8333)}
# The function's memory (zappa_settings.json); the budget is a peak under 60 % of it.
LAMBDA_MEMORY_MB = json.loads((Path(__file__).resolve().parent.parent / "zappa_settings.json").read_text())[
    "production"
]["memory_size"]
PAINTED_FRACTION = 0.02  # a small erase: a 2 % x 2 % box in the middle


def _make_photo(megapixels: int, folder: Path) -> tuple[Path, Path]:
    from PIL import Image

    from tests.editor.photo_samples import photo_like, rect_mask

    width, height = SIZES[megapixels]
    photo = photo_like(width, height)
    path = folder / f"photo-{megapixels}mp.jpg"
    photo.save(path, "JPEG", quality=90)
    del photo
    box_w, box_h = int(width * PAINTED_FRACTION), int(height * PAINTED_FRACTION)
    left, top = width // 2, height // 2
    mask = rect_mask((width, height), (left, top, left + box_w, top + box_h))
    mask_path = folder / f"mask-{megapixels}mp.png"
    mask.save(mask_path, "PNG")
    assert Image.open(path).size == (width, height)
    return path, mask_path


def _peak_kb() -> int:
    """The process's resident high-water mark (ru_maxrss would carry the parent's over exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _child(case: str, photo: Path, mask: Path) -> dict:
    """One measured run (in its own process)."""
    from bench.common import django_setup

    django_setup()
    from PIL import Image, ImageDraw, ImageFilter

    from editor.services.imaging.photo_edits import (
        mask_local_finish,
        mask_local_prepare,
        remove_background_finish,
        whole_image_prepare,
    )

    imports_kb = _peak_kb()
    data = photo.read_bytes()
    started = time.perf_counter()
    if case == "pillow":
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            out = io.BytesIO()
            image.save(out, "JPEG", quality=95)
        output_bytes = len(out.getvalue())
    elif case == "erase":
        prepared = mask_local_prepare(
            image=data, mask=mask.read_bytes(), source_format="jpeg", family="stability"
        )
        crop = Image.open(io.BytesIO(prepared.model_image)).convert("RGB")
        answer = io.BytesIO()
        crop.filter(ImageFilter.GaussianBlur(8)).save(answer, "PNG", compress_level=1)
        output_bytes = len(mask_local_finish(prepared, answer.getvalue()).data)
    elif case == "remove_background":
        with Image.open(io.BytesIO(data)) as header:
            size = header.size
        whole = whole_image_prepare(image=data, size=size, family="stability")
        # A cut-out as a model makes one: the subject opaque, the background clear, a soft edge.
        model_view = Image.open(io.BytesIO(whole.data)).convert("RGBA")
        subject = Image.new("L", model_view.size, 0)
        w, h = model_view.size
        ImageDraw.Draw(subject).ellipse((w // 4, h // 6, 3 * w // 4, 5 * h // 6), fill=255)
        model_view.putalpha(subject.filter(ImageFilter.GaussianBlur(3)))
        cutout = io.BytesIO()
        model_view.save(cutout, "PNG", compress_level=1)
        output_bytes = len(
            remove_background_finish(image=data, source_format="jpeg", cutout=cutout.getvalue()).data
        )
    else:
        raise SystemExit(f"unknown case {case}")
    seconds = time.perf_counter() - started
    peak_kb = _peak_kb()
    return {
        "case": case,
        "seconds": round(seconds, 2),
        "peak_mb": round(peak_kb / 1024),
        "over_imports_mb": round((peak_kb - imports_kb) / 1024),
        "input_mb": round(len(data) / 1e6, 1),
        "output_mb": round(output_bytes / 1e6, 1),
    }


def _measure(case: str, photo: Path, mask: Path) -> dict:
    completed = subprocess.run(
        [sys.executable, "-m", "bench.photos", "--child", case, str(photo), str(mask)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def measure_all(sizes: list[int]):
    """For each size: (megapixels, Pillow's figures, {case: the app's figures}), each from its own process."""
    with tempfile.TemporaryDirectory(prefix="imageedit-bench-photos-") as folder:
        for megapixels in sizes:
            photo, mask = _make_photo(megapixels, Path(folder))
            baseline = _measure("pillow", photo, mask)
            cases = {case: _measure(case, photo, mask) for case in ("erase", "remove_background")}
            yield megapixels, baseline, cases


def run(sizes: list[int] | None = None) -> list[dict]:
    """Print one line per case (python -m bench.photos); `make bench` reads them through large_photos."""
    results = []
    for megapixels, baseline, cases in measure_all(sizes or list(SIZES)):
        for case, figures in cases.items():
            figures.update(
                benchmark=f"photo {megapixels} MP {case}",
                pillow_seconds=baseline["seconds"],
                pillow_peak_mb=baseline["peak_mb"],
                budget_peak_mb=round(LAMBDA_MEMORY_MB * 0.6),
                within_budget=figures["peak_mb"] < LAMBDA_MEMORY_MB * 0.6,
            )
            verdict = "OK" if figures["within_budget"] else "OVER"
            print(
                f"{figures['benchmark']:<34} {figures['seconds']:>6.2f} s  "
                f"peak {figures['peak_mb']:>5} MB (+{figures['over_imports_mb']} over imports)  | Pillow "
                f"decode+encode {baseline['seconds']:>6.2f} s, peak {baseline['peak_mb']:>5} MB "
                f"(+{baseline['over_imports_mb']})  | in {figures['input_mb']} MB, "
                f"out {figures['output_mb']} MB  budget < {figures['budget_peak_mb']} MB: {verdict}",
                flush=True,
            )
            results.append(figures)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", choices=list(SIZES))
    parser.add_argument("--child", nargs=3, metavar=("CASE", "PHOTO", "MASK"))
    args = parser.parse_args(argv)
    if args.child:
        case, photo, mask = args.child
        print(json.dumps(_child(case, Path(photo), Path(mask))))
        return 0
    run(args.sizes)
    return 0


if __name__ == "__main__":
    sys.exit(main())

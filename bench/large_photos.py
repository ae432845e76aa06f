"""Large photos (benchmark 5): full-resolution edits of 12, 48 and 100 MP (decode, crop, composite, encode)
beside Pillow's own decode + encode of the same file; peak memory against 60 % of the function's memory.

The measuring is bench/photos.py's (each case in a fresh process); this turns its figures into table rows.
"""

from __future__ import annotations

from bench.common import figure, smoke
from bench.photos import LAMBDA_MEMORY_MB, measure_all


def run() -> list[dict]:
    rows = []
    # --smoke: one 12 MP photo proves the benchmark runs; its figures mean little.
    for megapixels, baseline, cases in measure_all([12] if smoke() else [12, 48, 100]):
        pillow_time = figure(f"  Pillow decode+encode, {megapixels} MP: time", [baseline["seconds"] * 1000])
        pillow_peak = figure(
            f"  Pillow decode+encode, {megapixels} MP: peak", [baseline["peak_mb"]], unit="MB"
        )
        for case, measured in cases.items():
            label = f"large photos, {megapixels} MP {case.replace('_', ' ')}"
            rows.append(figure(f"{label}: time", [measured["seconds"] * 1000], baseline=pillow_time))
            rows.append(
                figure(
                    f"{label}: peak",
                    [measured["peak_mb"]],
                    unit="MB",
                    baseline=pillow_peak,
                    max_p50=round(LAMBDA_MEMORY_MB * 0.6),
                    note=f"60 % of memory_size {LAMBDA_MEMORY_MB} MB",
                )
            )
        rows += [pillow_time, pillow_peak]
    return rows

"""Local engine speed: the classical fills behind the Bedrock-compatible endpoint, on 1 MP."""

from __future__ import annotations

import time

import numpy as np

from bench.common import figure, scaled
from devstack.bedrock import engine as bedrock_engine


def run() -> list[dict]:
    samples = scaled(9, 1)
    rng = np.random.default_rng(3)
    side = 1024
    ramp = np.linspace(0, 200, side, dtype=np.float32)
    pixels = (np.add.outer(ramp, ramp)[..., None] / 2 + rng.normal(0, 6, (side, side, 3))).clip(0, 255)
    pixels = pixels.astype(np.uint8)
    mask = np.zeros((side, side), np.uint8)
    mask[312:770, 312:770] = 255  # 20% of the picture
    figures = []
    for name, call in (
        ("local engine: inpaint (TELEA) 1 MP, 20% mask", lambda: bedrock_engine.inpaint(pixels, mask)),
        ("local engine: remove background 1 MP", lambda: bedrock_engine.remove_background(pixels, seed=1)),
    ):
        timings = []
        for _ in range(samples):
            started = time.perf_counter()
            call()
            timings.append((time.perf_counter() - started) * 1000)
        figures.append(figure(name, timings))
    return figures


if __name__ == "__main__":
    run()

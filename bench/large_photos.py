"""Large photos (benchmark 5): waits for full-resolution photos (issue 11); a placeholder row until then."""

from __future__ import annotations

from bench.common import unmeasured


def run() -> list[dict]:
    return [
        unmeasured(
            "large photos: 12/48/100 MP edit vs Pillow decode+encode",
            "needs full-resolution photos (issue 11)",
        )
    ]

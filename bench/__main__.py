"""`make bench`: every benchmark, one figure line each, against the design's budgets."""

from __future__ import annotations

import json
import sys

from bench import cold_start, edit_overhead, engine, history, local_state, photos
from deploy.package import main as package_main


def main() -> int:
    print("== Lambda package (deploy/package.py) ==", flush=True)
    package_main(["production"])
    results = []
    for name, module in (
        ("cold start", cold_start),
        ("edit overhead", edit_overhead),
        ("history", history),
        ("local engine", engine),
        ("local state start-up", local_state),
        ("photos at full resolution", photos),
    ):
        print(f"== {name} ==", flush=True)
        results.extend(module.run())
    print(json.dumps([r for r in results if "budget_p50" in r], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`make bench`: every benchmark beside its baseline, one table on stdout, the logs in a file, JSON results.

python -m bench [--smoke] [--only NAME ...]   run (--smoke: each benchmark once, tiny, as CI does)
python -m bench compare A.json B.json         two runs side by side

Exit status: 0 when every figure was measured (a missed budget is a verdict, not a failure), 1 when a
benchmark could not measure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import shutil
import sys
import time
import traceback
from pathlib import Path

from bench.common import table, unmeasured

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / ".bench"

# (name, module): each module's run() returns table rows (bench.common.figure); one line per benchmark.
BENCHMARKS = [
    ("cold start", "bench.cold_start"),
    ("edit overhead", "bench.edit_overhead"),
    ("history", "bench.history"),
    ("throughput", "bench.throughput"),
    ("large photos", "bench.large_photos"),
    ("package", "bench.packages"),
    ("local engine", "bench.engine"),
    ("local state", "bench.local_state"),
    ("access that ends", "bench.revocation"),
    ("batches", "bench.batches"),
]


class Redirected:
    """Send this process's and its children's stdout and stderr (fds 1 and 2) to the log file."""

    def __init__(self, log: Path) -> None:
        self.log = log

    def __enter__(self):
        sys.stdout.flush()
        sys.stderr.flush()
        self.saved = os.dup(1), os.dup(2)
        self.handle = self.log.open("a")
        os.dup2(self.handle.fileno(), 1)
        os.dup2(self.handle.fileno(), 2)
        self.out = os.fdopen(os.dup(self.saved[0]), "w")
        self.err = os.fdopen(os.dup(self.saved[1]), "w")
        return self

    def __exit__(self, *exc) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(self.saved[0], 1)
        os.dup2(self.saved[1], 2)
        for fd in self.saved:
            os.close(fd)
        self.out.close()
        self.err.close()
        self.handle.close()


def measure(names: list[str] | None, log: Path) -> dict:
    rows, details, failed = [], {}, []
    started_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("")
    with Redirected(log) as streams:
        for name, module_name in BENCHMARKS:
            if names and name not in names:
                continue
            print(f"bench: {name} ...", file=streams.err, flush=True)
            print(f"== {name} ==", flush=True)
            started = time.monotonic()
            try:
                module = importlib.import_module(module_name)
                rows += module.run()
                if hasattr(module, "details"):
                    text, data = module.details()
                    details[name] = {"text": text, "data": data}
            except (Exception, SystemExit) as exc:
                traceback.print_exc()
                failed.append(name)
                rows.append(unmeasured(name, f"could not measure: {str(exc).strip()[:150]}", verdict="error"))
            print(f"bench: {name} took {time.monotonic() - started:.0f} s", file=streams.err, flush=True)
    return {
        "started": started_at,
        "smoke": os.environ.get("BENCH_SMOKE", "") not in ("", "0"),
        "cpus": os.cpu_count(),
        "load_average": [round(value, 2) for value in os.getloadavg()],
        "rows": rows,
        "details": details,
        "failed": failed,
    }


def compare(first: Path, second: Path) -> str:
    """The same figures of two runs: p50 and ratio of each, and the change in p50."""
    a, b = (json.loads(path.read_text()) for path in (first, second))
    older = {row["figure"]: row for row in a["rows"]}
    lines = [
        f"A = {first} ({a['started']}, load {a['load_average']})",
        f"B = {second} ({b['started']}, load {b['load_average']})",
        f"{'figure':<58} {'A p50':>10} {'B p50':>10} {'change':>8} {'A ratio':>8} {'B ratio':>8}  "
        "verdict A -> B",
        "-" * 130,
    ]
    for row in b["rows"]:
        before = older.get(row["figure"])
        if before is None:
            continue
        change = ""
        if before["p50"] and row["p50"] is not None:
            change = f"{(row['p50'] - before['p50']) / before['p50'] * 100:+.0f}%"
        lines.append(
            f"{row['figure'][:58]:<58} {_text(before['p50']):>10} {_text(row['p50']):>10} {change:>8} "
            f"{_text(before['ratio']):>8} {_text(row['ratio']):>8}  {before['verdict']} -> {row['verdict']}"
        )
    return "\n".join(lines)


def _text(value) -> str:
    return "-" if value is None else f"{value:g}"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["compare"]:
        if len(argv) != 3:
            print("usage: python -m bench compare A.json B.json", file=sys.stderr)
            return 2
        print(compare(Path(argv[1]), Path(argv[2])))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="each benchmark once, tiny (CI)")
    parser.add_argument("--only", action="append", choices=[name for name, _ in BENCHMARKS])
    parser.add_argument("--results", type=Path, default=OUT / "results.json")
    parser.add_argument("--log", type=Path, default=OUT / "bench.log")
    args = parser.parse_args(argv)
    if args.smoke:
        os.environ["BENCH_SMOKE"] = "1"
    results = measure(args.only, args.log)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(results, indent=1) + "\n")
    if args.results == OUT / "results.json":
        # Keep each run, so any two can be compared later.
        shutil.copy(args.results, OUT / f"results-{results['started'].replace(':', '')}.json")
    print(
        f"imageedit bench, {results['started']}, {results['cpus']} cpus, load average "
        f"{results['load_average']}{' (smoke: tiny n, figures mean nothing)' if results['smoke'] else ''}"
    )
    print(table(results["rows"]))
    for name, detail in results["details"].items():
        if detail["text"]:
            print(f"\n[{name}]\n{detail['text']}")
    print(f"\nlogs: {args.log}   figures: {args.results}")
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())

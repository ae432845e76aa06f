"""`imageedit batch`: the whole batch's estimate against the remaining quota and budget first, then one
progress line while it runs, a summary table, and an exit status that says whether anything failed."""

from __future__ import annotations

import queue
import shlex
import signal
import sys
from pathlib import Path

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from imageedit_client import exits
from imageedit_client.account import api_for
from imageedit_client.batch_plan import BatchItem, BatchPlan, batch_plan, leftovers_remove
from imageedit_client.batch_run import ItemResult, LocalRunner
from imageedit_client.batch_server import ServerRunner
from imageedit_client.commands import options_from
from imageedit_client.exits import CliError
from imageedit_client.ui import Ui, confirm


def _task_rule(models: dict, task: str) -> dict:
    rule = next((rule for rule in models.get("tasks", []) if rule.get("task") == task), None)
    if rule is None:
        raise CliError(f"Unknown task {task!r}: `imageedit models` lists them.", exit_code=exits.REFUSED)
    return rule


def _task_offer(models: dict, task: str, family: str | None) -> dict:
    family = family or models.get("default")
    described = next((m for m in models.get("models", []) if m.get("family") == family), {})
    return next((t for t in described.get("tasks", []) if t.get("task") == task), {})


def batch_estimate(*, plan: BatchPlan, models: dict, usage: dict, task: str, options: dict) -> dict:
    """At most what the pending items cost (an edit a previous run already made is not charged again),
    and what today's quota and budgets leave."""
    offer = _task_offer(models, task, options.get("model"))
    if offer and not offer.get("available", True):
        raise CliError(
            f"The '{task}' task is not available here: {offer.get('note') or 'see imageedit models'}",
            exit_code=exits.REFUSED,
        )
    price = float(offer.get("usd_per_image") or 0)
    images = int(options.get("count") or 1)
    limits = usage.get("limits", {})
    edits_left = (
        None if limits.get("daily_edits") is None else int(limits["daily_edits"]) - int(usage.get("edits", 0))
    )
    budget = limits.get("daily_budget_usd")
    budget_left = None if budget is None else float(budget) - float(usage.get("estimated_spend_usd", 0))
    monthly = limits.get("monthly_budget_usd")
    # The monthly budget is the deployment's: only an administrator's usage shows its spend.
    deployment = usage.get("deployment")
    monthly_left = (
        None
        if monthly is None or deployment is None
        else float(monthly) - float(deployment.get("estimated_spend_usd", 0))
    )
    return {
        "edits": len(plan.pending),
        "price_per_image_usd": price,
        "estimated_cost_usd": round(len(plan.pending) * images * price, 4),
        "edits_left_today": edits_left,
        "budget_left_today_usd": None if budget_left is None else round(budget_left, 4),
        "budget_left_month_usd": None if monthly_left is None else round(monthly_left, 4),
        "resets_at": usage.get("resets_at"),
    }


def _refusal(estimate: dict) -> str | None:
    edits, cost = estimate["edits"], estimate["estimated_cost_usd"]
    if estimate["edits_left_today"] is not None and edits > estimate["edits_left_today"]:
        left = max(0, estimate["edits_left_today"])
        return f"{edits} edits do not fit in today's quota: {left} left until {estimate['resets_at']}."
    for name, label in (
        ("budget_left_today_usd", "today's budget"),
        ("budget_left_month_usd", "this month's budget"),
    ):
        if estimate[name] is not None and cost > estimate[name] + 1e-9:
            left = max(0.0, estimate[name])
            return f"The batch's estimated ${cost:.2f} does not fit in {label}: ${left:.2f} left."
    return None


def _describe(plan: BatchPlan, estimate: dict, task: str) -> str:
    parts = [f"{plan.total} photo(s): {len(plan.pending)} to edit with '{task}'"]
    if plan.finished:
        parts.append(f"{len(plan.finished)} finished before (skipped)")
    if plan.unmatched:
        parts.append(f"{len(plan.unmatched)} cannot be sent")
    text = (
        ", ".join(parts) + f".\nEstimated cost: at most ${estimate['estimated_cost_usd']:.2f} "
        f"({estimate['edits']} x ${estimate['price_per_image_usd']:.2f} per image)."
    )
    left = []
    if estimate["edits_left_today"] is not None:
        left.append(f"{estimate['edits_left_today']} edits")
    if estimate["budget_left_today_usd"] is not None:
        left.append(f"${estimate['budget_left_today_usd']:.2f} of today's budget")
    if left:
        text += f"\nLeft today: {', '.join(left)} (resets {estimate['resets_at']})."
    return text


def _resume_hint() -> str:
    return (
        "Run the same command again to resume: finished files are skipped and edits already made are "
        "picked up by their keys, not charged twice:\n  " + shlex.join(["imageedit", *sys.argv[1:]])
    )


def command_batch(args, ui: Ui) -> int:
    in_dir, out_dir = Path(args.in_dir).expanduser(), Path(args.out).expanduser()
    options = options_from(args)
    api = api_for(args, ui)
    models = api.get("/api/v1/models")
    rule = _task_rule(models, args.task)
    if not rule.get("image", True):
        raise CliError(f"The '{args.task}' task makes a picture from a prompt alone: a batch edits photos.")
    plan = batch_plan(
        in_dir=in_dir,
        out_dir=out_dir,
        task=args.task,
        options=options,
        mask=Path(args.mask).expanduser() if args.mask else None,
        mask_needed=bool(rule.get("mask")),
        recursive=args.recursive,
        retry_failed=args.retry_failed,
    )
    if plan.total == 0:
        raise CliError(
            f"No photos (.jpg, .jpeg, .png, .webp, .heic, .heif) in {in_dir}"
            + ("" if args.recursive else " (--recursive looks in subfolders)")
            + "."
        )
    estimate = batch_estimate(
        plan=plan, models=models, usage=api.get("/api/v1/usage"), task=args.task, options=options
    )
    ui.message(_describe(plan, estimate, args.task))
    refusal = _refusal(estimate)
    if refusal:
        raise CliError(f"{refusal} Nothing was sent.", exit_code=exits.QUOTA)
    if plan.pending and not args.yes:
        if not sys.stdin.isatty():
            raise CliError("Add --yes to start the batch without being asked (no terminal to ask on).")
        if not confirm(ui, "Start?"):
            ui.message("Nothing was sent.")
            return exits.OK
    leftovers_remove(out_dir)
    results = [
        ItemResult(
            item,
            "SKIPPED",
            edit_id=record.get("edit_id"),
            outputs=tuple(out_dir / o for o in record.get("outputs", [])),
            message="finished before",
        )
        for item, record in plan.finished
    ]
    results += [_unmatched(photo, why, in_dir) for photo, why in plan.unmatched]
    # --server: the plan goes to POST /api/v1/batches; the same ItemResults come back on the same queue.
    runner_class = ServerRunner if getattr(args, "server", False) else LocalRunner
    runner = runner_class(api=api, task=args.task, options=options, out_dir=out_dir, jobs=args.jobs)
    try:
        _run(ui, runner, plan, results)
    except KeyboardInterrupt:
        runner.stop.set()
        done = sum(1 for result in results if result.status in ("SUCCEEDED", "SKIPPED"))
        if getattr(runner, "batch_id", None):
            ui.warn(
                f"\nThe batch {runner.batch_id} goes on on the server; the same command follows it again."
            )
        ui.warn(f"\nInterrupted: {done} of {plan.total} done. {_resume_hint()}")
        return exits.INTERRUPTED
    _summary(ui, results, out_dir)
    failed = [result for result in results if result.status not in ("SUCCEEDED", "SKIPPED")]
    return exits.FAILED if failed else exits.OK


def _unmatched(photo: Path, why: str, in_dir: Path) -> ItemResult:
    item = BatchItem(photo=photo, relative=photo.relative_to(in_dir), mask=None, key="", out_base=photo)
    return ItemResult(item, "REFUSED", message=why)


def _line(result: ItemResult, done: int, total: int, cost: float) -> str:
    name = result.item.relative.as_posix()
    if result.status == "SUCCEEDED":
        saved = ", ".join(path.name for path in result.outputs)
        charge = "made by an earlier run, not charged again" if result.resumed else f"${result.cost:.2f}"
        return f"[{done}/{total}] done {name} -> {saved} ({charge}; ${cost:.2f} so far)"
    return f"[{done}/{total}] {result.status.lower()} {name}: {result.message}"


def _run(ui: Ui, runner: LocalRunner | ServerRunner, plan: BatchPlan, results: list[ItemResult]) -> None:
    """Start the workers and follow them, adding each result to `results` as it comes (so that an
    interruption still knows what was done); Ctrl-C (and SIGTERM) raise KeyboardInterrupt here."""
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    total, finished, cost, seen = len(plan.pending), 0, 0.0, {None}
    if not total:
        return
    runner.start(plan.pending)
    progress = None
    if ui.live:
        progress = Progress(
            TextColumn("{task.description}", style="bold"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("${task.fields[cost]:.2f}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[current]}"),
            console=ui.err,
            transient=False,
        )
        progress.start()
        bar = progress.add_task("batch", total=total, cost=0.0, current="")
    try:
        while finished < total:
            try:
                result = runner.results.get(timeout=0.2)
            except queue.Empty:
                if progress:
                    progress.update(bar, current=", ".join(sorted(runner.current.values()))[:60])
                continue
            results.append(result)
            finished += 1
            if result.edit_id not in seen:  # identical photos share one edit, charged once
                seen.add(result.edit_id)
                cost += result.cost
            if progress:
                progress.update(bar, advance=1, cost=cost)
                if result.status != "SUCCEEDED":
                    progress.console.print(
                        _line(result, finished, total, cost), markup=False, highlight=False
                    )
            else:
                ui.message(_line(result, finished, total, cost))
    finally:
        if progress:
            progress.stop()


def _summary(ui: Ui, results: list[ItemResult], out_dir: Path) -> None:
    counts: dict[str, int] = {}
    for result in results:
        counts[result.status] = counts.get(result.status, 0) + 1
    charged = {r.edit_id: r.cost for r in results if r.status not in ("SKIPPED",) and r.edit_id}
    cost = sum(charged.values())
    if ui.json_output:
        ui.data(
            {
                "items": [
                    {
                        "photo": r.item.relative.as_posix(),
                        "status": r.status,
                        "edit_id": r.edit_id,
                        "cost_usd": r.cost,
                        "outputs": [str(p) for p in r.outputs],
                        "message": r.message,
                        "seconds": round(r.seconds, 2),
                    }
                    for r in results
                ],
                "counts": counts,
                "cost_usd": round(cost, 4),
                "out_dir": str(out_dir),
            }
        )
        return
    rows = [
        [
            r.item.relative.as_posix(),
            r.status.lower(),
            r.edit_id or "",
            f"${r.cost:.2f}" if r.cost else "",
            ", ".join(
                p.relative_to(out_dir).as_posix() if p.is_relative_to(out_dir) else str(p) for p in r.outputs
            )
            or r.message,
        ]
        for r in sorted(results, key=lambda r: r.item.relative.as_posix())
    ]
    ui.table(None, ["photo", "status", "edit", "cost", "result"], rows)
    ui.message(
        ", ".join(f"{n} {status.lower()}" for status, n in sorted(counts.items()))
        + f"; ${cost:.2f} this run (estimated)."
    )

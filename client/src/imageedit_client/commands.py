"""`imageedit edit` and the commands that read or remove edits: history, show, versions, download,
delete, models, usage."""

from __future__ import annotations

import uuid
from pathlib import Path

from imageedit_client import exits
from imageedit_client.account import api_for
from imageedit_client.api import Api
from imageedit_client.edits import (
    OPTION_NAMES,
    edit_body,
    edit_dry_run,
    edit_start,
    edit_summary,
    edit_wait,
    output_paths,
)
from imageedit_client.exits import CliError
from imageedit_client.transfer import IMAGE_EXTENSIONS, download_to, upload_send
from imageedit_client.ui import Ui


def options_from(args) -> dict:
    """The edit's options from the flags given (absent flags are left to the server's defaults)."""
    options = {name: getattr(args, name, None) for name in OPTION_NAMES}
    for pair in getattr(args, "param", None) or []:
        name, _, value = pair.partition("=")
        if not name or not _:
            raise CliError(f"--param takes NAME=VALUE (got {pair!r}).")
        options[name.strip()] = value
    return {name: value for name, value in options.items() if value is not None}


def readable_file(value: str, what: str) -> Path:
    path = Path(value).expanduser()
    if not path.is_file():
        raise CliError(f"The {what} {value} is not a file that can be read.")
    return path


def upload_with_progress(*, api: Api, ui: Ui, path: Path, label: str) -> str:
    with ui.transfer(f"{label} {path.name}", path.stat().st_size) as (advance, restart):
        return upload_send(api=api, path=path, progress=advance, restart=restart)


def download_outputs(*, api: Api, ui: Ui, edit: dict, base: Path) -> list[Path]:
    paths = output_paths(edit=edit, base=base)
    for output, path in zip(edit.get("outputs") or [], paths, strict=True):
        url = output.get("download_url") or output["url"]
        with ui.transfer(f"Downloading {path.name}", 0) as (advance, _restart):
            download_to(api=api, url=url, destination=path, progress=advance)
    return paths


def _output_base(args, photo: Path) -> Path:
    default_name = f"{photo.stem}-{args.task}"
    if not args.output:
        return Path.cwd() / default_name
    given = Path(args.output).expanduser()
    if given.is_dir() or args.output.endswith(("/", "\\")):
        return given / default_name
    # The result's own type decides the extension (a JPEG is never saved as .png).
    return given.with_suffix("") if given.suffix.lower() in IMAGE_EXTENSIONS else given


def command_edit(args, ui: Ui) -> int:
    photo = readable_file(args.photo, "photo")
    mask = readable_file(args.mask, "mask") if args.mask else None
    options = options_from(args)
    api = api_for(args, ui)
    upload_id = upload_with_progress(api=api, ui=ui, path=photo, label="Uploading")
    mask_upload_id = upload_with_progress(api=api, ui=ui, path=mask, label="Uploading mask") if mask else None
    body = edit_body(task=args.task, options=options, upload_id=upload_id, mask_upload_id=mask_upload_id)
    if args.dry_run:
        answer = edit_dry_run(api=api, body=body)
        if ui.json_output:
            ui.data(answer)
        else:
            size = answer.get("work_size") or {}
            at = f" at {size['width']}x{size['height']}" if size else ""
            price, cost = answer.get("price_per_image_usd") or 0, answer.get("estimated_cost_usd") or 0
            ui.line(
                f"{answer.get('task')} would run {answer.get('model_id')}{at}: "
                f"{answer.get('images')} image(s) x ${price:.2f} = ${cost:.2f}"
            )
            ui.message("Dry run: nothing was recorded or counted.")
        return exits.OK
    key = args.idempotency_key or str(uuid.uuid4())
    with ui.waiting(f"Editing {photo.name} ({args.task})...") as update:
        edit, _created = edit_start(api=api, body=body, idempotency_key=key)
        update(f"Editing {photo.name} ({args.task}): {edit.get('status', '').lower()}...")
        edit = edit_wait(api=api, edit=edit)
    if edit["status"] != "SUCCEEDED":
        ui.error(edit_summary(edit))
        if ui.json_output:
            ui.data(edit)
        return exits.FAILED
    paths = download_outputs(api=api, ui=ui, edit=edit, base=_output_base(args, photo))
    ui.message(edit_summary(edit))
    asked = Path(args.output).suffix.lower() if args.output else ""
    if asked in IMAGE_EXTENSIONS and any(path.suffix != asked for path in paths):
        ui.warn(f"Saved with the result's own extension ({paths[0].suffix}), not {asked}.")
    if ui.json_output:
        ui.data({**edit, "saved": [str(path) for path in paths]})
    else:
        for path in paths:
            ui.line(str(path))
    return exits.OK


def _short(text: str | None, length: int = 40) -> str:
    text = (text or "").replace("\n", " ")
    return text if len(text) <= length else text[: length - 1] + "…"


def _cost(value) -> str:
    return "" if value is None else f"${value:.2f}"


def command_history(args, ui: Ui) -> int:
    api = api_for(args, ui)
    results, cursor = [], None
    while len(results) < args.limit:
        params = {"limit": min(100, args.limit - len(results)), **({"cursor": cursor} if cursor else {})}
        page = api.get("/api/v1/edits", params=params)
        results.extend(page.get("results", []))
        cursor = page.get("next_cursor")
        if not cursor:
            break
    if ui.json_output:
        ui.data({"results": results, "next_cursor": cursor})
        return exits.OK
    rows = [
        [
            e["id"],
            e.get("created_at", "")[:19],
            e.get("task"),
            e.get("status"),
            _cost(e.get("estimated_cost_usd")),
            _short(e.get("prompt")),
        ]
        for e in results
    ]
    ui.table(None, ["id", "created (UTC)", "task", "status", "cost", "prompt"], rows)
    if cursor:
        ui.message(f"More with --limit {args.limit + 20} (or --json for the cursor).")
    return exits.OK


def command_show(args, ui: Ui) -> int:
    edit = api_for(args, ui).get(f"/api/v1/edits/{args.id}")
    if ui.json_output:
        ui.data(edit)
        return exits.OK
    keys = [
        "id",
        "status",
        "task",
        "model_id",
        "prompt",
        "created_at",
        "finished_at",
        "latency_ms",
        "parent_id",
        "estimated_cost_usd",
        "engine_note",
        "route_note",
    ]
    rows = [[key, edit.get(key)] for key in keys if edit.get(key) not in (None, "")]
    if edit.get("error"):
        rows.append(["error", f"{edit['error'].get('code')}: {edit['error'].get('message')}"])
    for index, output in enumerate(edit.get("outputs") or []):
        rows.append(
            [f"output {index}", f"{output.get('width')}x{output.get('height')} {output.get('content_type')}"]
        )
    ui.table(None, ["field", "value"], rows)
    return exits.OK


def command_versions(args, ui: Ui) -> int:
    tree = api_for(args, ui).get(f"/api/v1/edits/{args.id}/versions")
    if ui.json_output:
        ui.data(tree)
        return exits.OK
    rows = [
        [
            ("* " if node.get("current") else "  ") + node["id"],
            node.get("parent_id") or "",
            node.get("task"),
            node.get("status"),
            str(node.get("created_at", ""))[:19],
        ]
        for node in tree.get("nodes", [])
    ]
    ui.table(
        f"versions of {tree.get('root_id')} (newest first, * = this one)",
        ["id", "parent", "task", "status", "created (UTC)"],
        rows,
    )
    return exits.OK


def command_download(args, ui: Ui) -> int:
    api = api_for(args, ui)
    edit = api.get(f"/api/v1/edits/{args.id}")
    if edit.get("status") != "SUCCEEDED":
        raise CliError(f"Edit {args.id} has no result: {edit_summary(edit)}", exit_code=exits.FAILED)
    given = Path(args.output).expanduser() if args.output else Path.cwd()
    if given.is_dir() or (args.output or "").endswith("/"):
        base = given / f"imageedit-{edit['id'][:8]}"
    else:
        base = given.with_suffix("") if given.suffix.lower() in IMAGE_EXTENSIONS else given
    paths = download_outputs(api=api, ui=ui, edit=edit, base=base)
    if ui.json_output:
        ui.data({"id": edit["id"], "saved": [str(path) for path in paths]})
    else:
        for path in paths:
            ui.line(str(path))
    return exits.OK


def command_delete(args, ui: Ui) -> int:
    api = api_for(args, ui)
    for edit_id in args.ids:
        api.request("DELETE", f"/api/v1/edits/{edit_id}")
        ui.message(f"Deleted edit {edit_id} and its images.")
    return exits.OK


def command_models(args, ui: Ui) -> int:
    described = api_for(args, ui).get("/api/v1/models")
    if ui.json_output:
        ui.data(described)
        return exits.OK
    family = next((m for m in described.get("models", []) if m.get("family") == described.get("default")), {})
    tasks = {t["task"]: t for t in family.get("tasks", [])}
    rows = []
    for rule in described.get("tasks", []):
        task = tasks.get(rule["task"], {})
        rows.append(
            [
                rule["task"],
                rule.get("label"),
                "yes" if task.get("available") else "no",
                _cost(task.get("usd_per_image")),
                _short(task.get("note") or rule.get("help"), 60),
            ]
        )
    engine = described.get("engine") or {}
    ui.table(
        f"tasks on {family.get('label', described.get('default'))} ({engine.get('label', '')})",
        ["task", "label", "available", "per image", "note"],
        rows,
    )
    return exits.OK


def command_usage(args, ui: Ui) -> int:
    usage = api_for(args, ui).get("/api/v1/usage")
    if ui.json_output:
        ui.data(usage)
        return exits.OK
    limits = usage.get("limits", {})
    budget = limits.get("daily_budget_usd")
    ui.line(
        f"today ({usage.get('date')}): {usage.get('edits')} of {limits.get('daily_edits')} edits, "
        f"{usage.get('images')} images"
    )
    ui.line(
        f"spent today: ${usage.get('estimated_spend_usd', 0):.2f}"
        + (f" of ${budget:.2f}" if budget is not None else " (no daily budget)")
    )
    ui.line(f"resets at: {usage.get('resets_at')}")
    month = usage.get("month") or {}
    if month:
        ui.line(f"this month ({month.get('month')}), yours: ${month.get('estimated_spend_usd', 0):.2f}")
    # The deployment's month is shown to members of the administrators group only.
    deployment = usage.get("deployment") or {}
    if deployment:
        monthly = limits.get("monthly_budget_usd")
        ui.line(
            f"this month, whole deployment: ${deployment.get('estimated_spend_usd', 0):.2f}"
            + (f" of ${monthly:.2f}" if monthly is not None else "")
        )
    return exits.OK

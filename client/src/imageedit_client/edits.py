"""One edit through the API: create it (with an Idempotency-Key), wait for its end, name and fetch its
results; shared by `imageedit edit` and the batch."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from imageedit_client.api import Api
from imageedit_client.transfer import CONTENT_TYPE_EXTENSIONS

TERMINAL = frozenset({"SUCCEEDED", "FAILED"})
WAIT_SECONDS = 20  # per request; the server holds at most 25 s, under API Gateway's 29 s

# Options an edit takes besides its images (POST /api/v1/edits); the CLI builds them from its flags.
OPTION_NAMES = (
    "prompt",
    "negative_prompt",
    "model",
    "seed",
    "count",
    "left",
    "right",
    "up",
    "down",
    "search_prompt",
    "select_prompt",
    "creativity",
    "grow_mask",
    "control_strength",
    "fidelity",
    "style_strength",
    "composition_fidelity",
    "change_strength",
    "output_format",
    "aspect_ratio",
)


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def idempotency_key_for(*, photo: str, mask: str | None, task: str, options: dict, attempt: int = 0) -> str:
    """The same photo, mask and parameters give the same key on every run: a rerun finds its edits."""
    material = json.dumps(
        {"photo": photo, "mask": mask, "task": task, "options": options, "attempt": attempt},
        sort_keys=True,
    )
    return "ie-" + hashlib.sha256(material.encode()).hexdigest()


def edit_body(*, task: str, options: dict, upload_id: str | None, mask_upload_id: str | None) -> dict:
    body = {"task": task, **{name: value for name, value in options.items() if value is not None}}
    if upload_id:
        body["upload_id"] = upload_id
    if mask_upload_id:
        body["mask_upload_id"] = mask_upload_id
    return body


def edit_start(*, api: Api, body: dict, idempotency_key: str) -> tuple[dict, bool]:
    """POST the edit; the server waits up to WAIT_SECONDS for it. Returns (edit, created): a key seen
    before answers 200 with the edit it made then (not charged again); a new edit 201 or 202."""
    response = api.request(
        "POST",
        "/api/v1/edits",
        json={**body, "wait": WAIT_SECONDS},
        headers={"Idempotency-Key": idempotency_key},
    )
    return response.json(), response.status_code != 200


def edit_dry_run(*, api: Api, body: dict) -> dict:
    """The server's checks and estimate for this request: nothing is recorded or counted."""
    return api.post("/api/v1/edits", params={"dry_run": "1"}, json=body)


def edit_wait(*, api: Api, edit: dict) -> dict:
    """Ask again (each ask waits on the server) until the edit is SUCCEEDED or FAILED."""
    while edit.get("status") not in TERMINAL:
        edit = api.get(f"/api/v1/edits/{edit['id']}", params={"wait": WAIT_SECONDS})
    return edit


def output_extension(output: dict) -> str:
    return CONTENT_TYPE_EXTENSIONS.get(output.get("content_type", ""), ".png")


def output_paths(*, edit: dict, base: Path) -> list[Path]:
    """Where each result goes: `base` (a path without extension) plus the result's own extension;
    `base-1`, `base-2`... when there are several."""
    outputs = edit.get("outputs") or []
    if len(outputs) == 1:
        return [base.with_name(base.name + output_extension(outputs[0]))]
    return [
        base.with_name(f"{base.name}-{index}{output_extension(output)}")
        for index, output in enumerate(outputs, start=1)
    ]


def edit_summary(edit: dict) -> str:
    """One line a person reads: what ran, how it ended, what it cost."""
    cost = edit.get("estimated_cost_usd")
    parts = [f"edit {edit.get('id')}", edit.get("task", ""), edit.get("status", "")]
    if edit.get("error"):
        parts.append(f"{edit['error'].get('code')}: {edit['error'].get('message')}")
    if cost is not None:
        parts.append(f"${cost:.2f}")
    for note in ("engine_note", "route_note"):
        if edit.get(note):
            parts.append(str(edit[note]))
    return " · ".join(part for part in parts if part)

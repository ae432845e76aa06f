"""`imageedit batch --server`: the plan handed to POST /api/v1/batches; the server queues and works it,
this follows it and downloads each result as it ends, reporting the same ItemResults as a local run.

The batch's id and its items' keys are kept in OUT_DIR, so the same command after Ctrl-C follows the
batch already on the server instead of sending (and paying for) it again.
"""

from __future__ import annotations

import hashlib
import json
import queue
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from imageedit_client.api import Api, ApiError
from imageedit_client.batch_plan import BatchItem, state_append
from imageedit_client.batch_run import ItemResult
from imageedit_client.edits import edit_body, output_paths
from imageedit_client.exits import CliError
from imageedit_client.transfer import download_to, upload_send

SERVER_STATE = ".imageedit-server-batch.json"
POLL_SECONDS = 2.0


class ServerRunner:
    """Uploads (at most `jobs` at once), one POST /api/v1/batches, then follows the batch."""

    def __init__(self, *, api: Api, task: str, options: dict, out_dir: Path, jobs: int) -> None:
        self.api, self.task, self.options, self.out_dir, self.jobs = api, task, options, out_dir, jobs
        self.results: queue.Queue[ItemResult] = queue.Queue()
        self.stop = threading.Event()
        self.current: dict[int, str] = {}  # the progress line's "working on"
        self.batch_id: str | None = None

    def start(self, items: list[BatchItem]) -> None:
        threading.Thread(target=self._run, args=(items,), daemon=True).start()

    def _run(self, items: list[BatchItem]) -> None:
        try:
            batch_id, keys = self._resumed(items) or self._send(items)
            self.batch_id = batch_id
            by_key = {item.key: item for item in items}
            # The batch's items in its order; None for those a previous run already saved.
            self._follow(batch_id, [by_key.get(key) for key in keys])
        except CliError as exc:  # the whole batch was refused: every item says why
            for item in items:
                self.results.put(ItemResult(item, "REFUSED", message=exc.message))

    def _resumed(self, items: list[BatchItem]) -> tuple[str, list[str]] | None:
        path = self.out_dir / SERVER_STATE
        if not path.exists():
            return None
        state = json.loads(path.read_text())
        if not {item.key for item in items} <= set(state.get("keys", [])):
            return None  # other photos or options: a batch of their own
        return state["batch_id"], state["keys"]

    def _upload(self, item: BatchItem) -> str | ItemResult:
        try:
            return upload_send(api=self.api, path=item.photo)
        except CliError as exc:  # this photo cannot be sent; the others go
            return ItemResult(item, "REFUSED", message=exc.message)

    def _send(self, items: list[BatchItem]) -> tuple[str, list[str]]:
        self.current[0] = "uploading"
        masks = {mask: upload_send(api=self.api, path=mask) for mask in {i.mask for i in items if i.mask}}
        with ThreadPoolExecutor(max_workers=max(1, self.jobs)) as pool:
            uploads = list(pool.map(self._upload, items))
        sent = []
        for item, upload in zip(items, uploads, strict=True):
            if isinstance(upload, ItemResult):
                self.results.put(upload)
            else:
                sent.append((item, upload))
        if not sent:
            raise CliError("No photo could be uploaded.")
        body = edit_body(task=self.task, options=self.options, upload_id=None, mask_upload_id=None)
        parameters = {name: value for name, value in body.items() if name != "task"}
        keys = [item.key for item, _ in sent]
        # The same photos and options give the same key: a POST whose answer was lost, sent again,
        # returns the batch it made instead of a second one (and a second charge).
        batch_key = "batch-" + hashlib.sha256("\n".join(keys).encode()).hexdigest()
        batch = self.api.post(
            "/api/v1/batches",
            headers={"Idempotency-Key": batch_key},
            json={
                "task": self.task,
                "parameters": parameters,
                "items": [
                    {"upload_id": upload_id, **({"mask_upload_id": masks[item.mask]} if item.mask else {})}
                    for item, upload_id in sent
                ],
            },
        )
        self.out_dir.mkdir(parents=True, exist_ok=True)
        (self.out_dir / SERVER_STATE).write_text(json.dumps({"batch_id": batch["id"], "keys": keys}))
        return batch["id"], keys

    def _follow(self, batch_id: str, items: list[BatchItem | None]) -> None:
        reported = {index for index, item in enumerate(items) if item is None}
        while len(reported) < len(items) and not self.stop.is_set():
            batch = self.api.get(f"/api/v1/batches/{batch_id}")
            counts = batch.get("counts", {})
            self.current[0] = f"server: {counts.get('RUNNING', 0)} running, {counts.get('QUEUED', 0)} queued"
            for edit in self._edits(batch_id):
                index = edit.get("batch_index")
                if index is None or index in reported or edit["status"] in ("PENDING", "RUNNING"):
                    continue
                reported.add(index)
                self.results.put(self._result(items[index], edit))
            if batch["status"] != "RUNNING" and batch.get("finished_at"):
                for index, item in enumerate(items):  # cancelled before it ever started
                    if index not in reported:
                        reported.add(index)
                        self.results.put(ItemResult(item, "FAILED", message="cancelled on the server"))
            if len(reported) < len(items):
                time.sleep(POLL_SECONDS)
        if len(reported) == len(items):
            (self.out_dir / SERVER_STATE).unlink(missing_ok=True)

    def _edits(self, batch_id: str) -> list[dict]:
        edits, cursor = [], None
        while True:
            params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
            page = self.api.get(f"/api/v1/batches/{batch_id}/edits", params=params)
            edits += page["results"]
            cursor = page.get("next_cursor")
            if not cursor:
                return edits

    def _result(self, item: BatchItem, edit: dict) -> ItemResult:
        cost = float(edit.get("estimated_cost_usd") or 0)
        result = ItemResult(item, edit["status"], edit_id=edit["id"], cost=cost)
        if edit["status"] == "SUCCEEDED":
            paths = output_paths(edit=edit, base=item.out_base)
            try:
                # The grid lists view URLs; the edit itself carries the download ones.
                full = self.api.get(f"/api/v1/edits/{edit['id']}")
                for output, path in zip(full["outputs"], paths, strict=True):
                    download_to(
                        api=self.api, url=output.get("download_url") or output["url"], destination=path
                    )
            except (ApiError, CliError) as exc:
                result.status, result.message = "ERROR", exc.message
            else:
                result.outputs = tuple(paths)
        else:
            error = edit.get("error") or {}
            result.message = f"{error.get('message', 'the edit failed')} ({error.get('code', 'failed')})"
        if result.status in ("SUCCEEDED", "FAILED"):
            state_append(self.out_dir, result.record(self.out_dir))
        return result

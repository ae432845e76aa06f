"""Running a batch plan here: N workers, each item uploaded, edited under its idempotency key, waited
for and downloaded; results recorded as they finish. (A server-side runner, POST /api/v1/batches, would
take the same plan and report the same ItemResults.)"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from imageedit_client.api import Api, ApiError
from imageedit_client.batch_plan import BatchItem, state_append
from imageedit_client.edits import edit_body, edit_start, edit_wait, output_paths
from imageedit_client.exits import CliError
from imageedit_client.transfer import download_to, upload_send


@dataclass
class ItemResult:
    item: BatchItem
    status: str  # SUCCEEDED, FAILED (the edit failed), REFUSED (the server refused the request), ERROR
    edit_id: str | None = None
    cost: float = 0.0
    outputs: tuple[Path, ...] = ()
    message: str = ""
    seconds: float = 0.0
    resumed: bool = False  # the edit was made by an earlier, interrupted run

    def record(self, out_dir: Path) -> dict:
        """The line the state file keeps for a finished item (what a rerun reads to skip or resume it)."""
        return {
            "key": self.item.key,
            "attempt": self.item.attempt,
            "photo": self.item.relative.as_posix(),
            "edit_id": self.edit_id,
            "status": self.status,
            "cost": self.cost,
            "outputs": [path.relative_to(out_dir).as_posix() for path in self.outputs],
            "message": self.message,
        }


class LocalRunner:
    """Edits one item per worker thread, at most `jobs` at once; results come back on a queue."""

    def __init__(self, *, api: Api, task: str, options: dict, out_dir: Path, jobs: int) -> None:
        self.api, self.task, self.options, self.out_dir, self.jobs = api, task, options, out_dir, jobs
        self.results: queue.Queue[ItemResult] = queue.Queue()
        self.stop = threading.Event()
        self._masks: dict[Path, str] = {}  # one upload serves every edit with that mask
        self._mask_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self.current: dict[int, str] = {}  # worker -> file it works on, for the progress line

    def start(self, items: list[BatchItem]) -> None:
        work: queue.Queue[BatchItem] = queue.Queue()
        for item in items:
            work.put(item)
        for number in range(max(1, min(self.jobs, len(items)))):
            # Daemon threads: an interrupted run exits at once; an edit in flight is found by its key.
            threading.Thread(target=self._work, args=(number, work), daemon=True).start()

    def _work(self, number: int, work: queue.Queue) -> None:
        while not self.stop.is_set():
            try:
                item = work.get_nowait()
            except queue.Empty:
                return
            self.current[number] = item.relative.as_posix()
            self.results.put(self._run(item))
            self.current.pop(number, None)

    def _mask_upload(self, mask: Path) -> str:
        with self._mask_lock:
            if mask not in self._masks:
                self._masks[mask] = upload_send(api=self.api, path=mask)
            return self._masks[mask]

    def _run(self, item: BatchItem) -> ItemResult:
        started = time.monotonic()
        try:
            mask_upload_id = self._mask_upload(item.mask) if item.mask else None
            upload_id = upload_send(api=self.api, path=item.photo)
            body = edit_body(
                task=self.task, options=self.options, upload_id=upload_id, mask_upload_id=mask_upload_id
            )
            edit, created = edit_start(api=self.api, body=body, idempotency_key=item.key)
            edit = edit_wait(api=self.api, edit=edit)
        except ApiError as exc:
            return ItemResult(
                item, "REFUSED", message=f"{exc.message} ({exc.code})", seconds=time.monotonic() - started
            )
        except CliError as exc:
            return ItemResult(item, "ERROR", message=exc.message, seconds=time.monotonic() - started)
        # An edit an earlier run made (found by its key) was charged then, not now.
        cost = float(edit.get("estimated_cost_usd") or 0) if created else 0.0
        result = ItemResult(item, edit["status"], edit_id=edit["id"], cost=cost, resumed=not created)
        if edit["status"] == "SUCCEEDED":
            paths = output_paths(edit=edit, base=item.out_base)
            try:
                for output, path in zip(edit["outputs"], paths, strict=True):
                    download_to(
                        api=self.api, url=output.get("download_url") or output["url"], destination=path
                    )
            except CliError as exc:
                result.status, result.message = "ERROR", exc.message
            else:
                result.outputs = tuple(paths)
        else:
            error = edit.get("error") or {}
            result.message = f"{error.get('message', 'the edit failed')} ({error.get('code', 'failed')})"
        result.seconds = time.monotonic() - started
        if result.status in ("SUCCEEDED", "FAILED"):
            with self._state_lock:
                state_append(self.out_dir, result.record(self.out_dir))
        return result

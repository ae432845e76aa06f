"""Run edit jobs off the request (a Zappa async task on Lambda, a thread elsewhere) and wait for them."""

from __future__ import annotations

import functools
import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings

from editor.log import log_context, log_context_bind, log_context_clear
from editor.models import ACTIVE_STATUSES, ImageEdit
from editor.selectors.edits import edit_refresh
from editor.services.edits.running import edit_run
from editor.services.entry_points import edit_job

logger = logging.getLogger(__name__)


@functools.cache
def _executor() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=settings.EDIT_WORKER_THREADS, thread_name_prefix="edit-job")


# Jobs running on this process's worker threads, so a waiting request is woken instead of polling.
_local_jobs: dict[str, threading.Event] = {}
# The item as a local job's last write returned it: the waiting request answers with it, without a read.
_local_results: dict[str, ImageEdit] = {}
_local_jobs_lock = threading.Lock()


def _run_in_thread(edit_id: str, inputs: dict[str, bytes], context: dict, done: threading.Event) -> None:
    log_context_clear()
    log_context_bind(**context)
    try:
        finished = edit_run(edit_id=edit_id, inputs=inputs)
        if finished is not None:
            with _local_jobs_lock:
                _local_results[edit_id] = finished
    except Exception:
        # edit_run records every failure itself; this only guards the worker thread.
        logger.exception("edit job thread crashed")
    finally:
        done.set()
        log_context_clear()


def job_wait_local(edit_id: str, timeout: float) -> bool | None:
    """Wait for a job of this process: True if it ended, False on timeout, None if it is not ours."""
    with _local_jobs_lock:
        done = _local_jobs.get(edit_id)
    if done is None:
        return None
    finished = done.wait(timeout)
    if finished:
        with _local_jobs_lock:
            _local_jobs.pop(edit_id, None)
    return finished


def _local_result_take(edit_id: str) -> ImageEdit | None:
    with _local_jobs_lock:
        return _local_results.pop(edit_id, None)


def on_lambda() -> bool:
    return bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))


def job_submit(edit_id: str, *, inputs: dict[str, bytes] | None = None) -> None:
    """Start the job for edit_id without waiting for it; `inputs` only helps a job on this process."""
    if on_lambda():
        # Asynchronous (Event) invocation of this same function; Zappa's handler calls edit_job there.
        from zappa.asynchronous import run

        run(edit_job, kwargs={"edit_id": edit_id})
        return
    done = threading.Event()
    with _local_jobs_lock:
        if len(_local_jobs) > 256:  # forget finished jobs nobody waited for
            for finished_id in [key for key, event in _local_jobs.items() if event.is_set()]:
                del _local_jobs[finished_id]
                _local_results.pop(finished_id, None)
        _local_jobs[edit_id] = done
    _executor().submit(_run_in_thread, edit_id, inputs or {}, dict(log_context.get() or {}), done)


def edit_wait(*, edit: ImageEdit, timeout: float) -> ImageEdit:
    """Wait until the edit is terminal or the timeout passes.

    A job on a worker thread of this process signals its end; otherwise (a Lambda async task) poll with
    consistent reads.
    """
    if edit.status not in ACTIVE_STATUSES or timeout <= 0:
        return edit
    ended = job_wait_local(edit.id, timeout)
    if ended is not None:
        # A job that succeeded here hands back the item its last write returned: no second read.
        return (_local_result_take(edit.id) if ended else None) or edit_refresh(edit)
    deadline = time.monotonic() + timeout
    delay = 0.05
    while True:
        edit_refresh(edit)
        if edit.status not in ACTIVE_STATUSES or time.monotonic() >= deadline:
            return edit
        time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
        delay = min(delay * 1.5, 0.5)

"""Run edit jobs off the request: a Zappa async task on Lambda, a worker thread everywhere else."""

from __future__ import annotations

import functools
import logging
import os
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings

from editor.logging import log_context, log_context_bind, log_context_clear

logger = logging.getLogger(__name__)


def edit_job(edit_id: str) -> None:
    """The job's entry point (module level, so Zappa can find it by its import path)."""
    from editor.services.edits import edit_run

    edit_run(edit_id=edit_id)


def edits_expire_stale(event=None, context=None) -> int:
    """Scheduled entry point (zappa_settings.json events): fail edits whose Lambda died mid-job."""
    from editor.services.edits import edits_expire_stale as expire

    return expire()


@functools.cache
def _executor() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=settings.EDIT_WORKER_THREADS, thread_name_prefix="edit-job")


def _run_in_thread(edit_id: str, context: dict) -> None:
    log_context_clear()
    log_context_bind(**context)
    try:
        edit_job(edit_id)
    except Exception:
        # edit_run records every failure itself; this only guards the worker thread.
        logger.exception("edit job thread crashed")
    finally:
        log_context_clear()


def on_lambda() -> bool:
    return bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))


def job_submit(edit_id: str) -> None:
    """Start the job for edit_id without waiting for it."""
    if on_lambda():
        # Asynchronous (Event) invocation of this same function; Zappa's handler calls edit_job there.
        from zappa.asynchronous import run

        run(edit_job, kwargs={"edit_id": edit_id})
        return
    _executor().submit(_run_in_thread, edit_id, dict(log_context.get() or {}))

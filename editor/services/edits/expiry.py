"""Stale edits: an active edit whose Lambda died is recorded as timed out, when read or by the sweep."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from pynamodb.exceptions import DoesNotExist

from editor.models import (
    ACTIVE_MARK,
    ACTIVE_STATUSES,
    PENDING,
    RUNNING,
    ImageEdit,
    timestamp_format,
    timestamp_parse,
)
from editor.selectors.edits import edit_refresh
from editor.services.edits.running import finish_failed

logger = logging.getLogger(__name__)


def _is_stale(edit: ImageEdit) -> bool:
    """RUNNING past the job timeout (its Lambda was killed), or PENDING so long its job never started."""
    now = dt.datetime.now(dt.UTC)
    if edit.batch_id:
        # A batch item is its queue's: a retry waits a visibility timeout, a crashed attempt comes back
        # after one; only past every delivery the queue can still make is it abandoned.
        since = timestamp_parse(edit.started_at or edit.request_timestamp)
        return (now - since).total_seconds() > settings.BATCH_ITEM_STALE_SECONDS
    if edit.status == RUNNING:
        started = timestamp_parse(edit.started_at or edit.request_timestamp)
        return (now - started).total_seconds() > settings.EDIT_JOB_TIMEOUT_SECONDS + 60
    if edit.status == PENDING:
        waited = (now - timestamp_parse(edit.request_timestamp)).total_seconds()
        return waited > settings.EDIT_PENDING_TIMEOUT_SECONDS
    return False


def _expire(edit: ImageEdit) -> bool:
    """Record the edit as timed out if it is stale; return whether it was."""
    if edit.status in ACTIVE_STATUSES and _is_stale(edit):
        finish_failed(edit, "timed_out", "The edit did not finish in time; try again.")
        return True
    return False


def edit_expire_if_stale(edit: ImageEdit) -> ImageEdit:
    """Record a stale edit as timed out before it is shown (the views call this), so none looks active
    for ever."""
    if _expire(edit):
        edit_refresh(edit)
    return edit


def edits_expire_stale() -> int:
    """Fail every edit still active past the job timeout (its Lambda was killed); return how many.

    The scheduled sweep (services/entry_points.py) runs it; it queries the sparse active-edits index.
    """
    # Any stale edit was accepted before the shorter of the two limits; _is_stale decides for each.
    shortest = min(settings.EDIT_JOB_TIMEOUT_SECONDS + 60, settings.EDIT_PENDING_TIMEOUT_SECONDS)
    cutoff = timestamp_format(dt.datetime.now(dt.UTC) - dt.timedelta(seconds=shortest))
    expired = 0
    for key in ImageEdit.active_edits.query(ACTIVE_MARK, ImageEdit.request_timestamp < cutoff):
        try:
            edit = ImageEdit.get(key.id, consistent_read=True)
        except DoesNotExist:
            continue
        expired += _expire(edit)
    if expired:
        logger.warning("stale edits expired", extra={"count": expired})
    return expired


def edits_fail_interrupted() -> int:
    """Fail every active edit with `interrupted`; return how many.

    Only for a process that runs its jobs itself and has just started (the local stack): no job of its
    own is running yet, so any edit still PENDING or RUNNING lost its worker when the last run stopped.
    """
    failed = 0
    for key in ImageEdit.active_edits.query(ACTIVE_MARK):
        try:
            edit = ImageEdit.get(key.id, consistent_read=True)
        except DoesNotExist:
            continue
        if edit.batch_id:
            continue  # a batch item: its queue runs it again (services/batches/recovery.py)
        if edit.status in ACTIVE_STATUSES:
            finish_failed(
                edit, "interrupted", "The local stack stopped before this edit finished; run it again."
            )
            failed += 1
    return failed

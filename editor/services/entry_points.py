"""The functions Lambda calls by import path: an edit's job (Zappa async task) and the stale-edit sweep."""

from __future__ import annotations

from editor.services.edits.expiry import edits_expire_stale
from editor.services.edits.running import edit_run


def edit_job(edit_id: str, inputs: dict[str, bytes] | None = None) -> None:
    """An edit's job, invoked asynchronously (Zappa finds it by this module's path)."""
    edit_run(edit_id=edit_id, inputs=inputs)


def stale_edits_sweep(event=None, context=None) -> int:
    """Scheduled (zappa_settings.json events): fail edits whose Lambda died mid-job."""
    return edits_expire_stale()

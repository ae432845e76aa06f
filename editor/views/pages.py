"""Server-rendered pages: the editor, the history, one edit's details, and sign out."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import Truncator
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from editor.errors import ServiceError
from editor.models import ACTIVE_STATUSES, ImageEdit
from editor.presenters import edit_present
from editor.selectors.edits import edit_get_owned
from editor.selectors.history import edits_list
from editor.services.auth.web_sessions import session_sign_out, session_user
from editor.services.bedrock.catalog import engine_label
from editor.services.bedrock.tasks import ASPECT_RATIOS, GROUPS, TASK_RULES
from editor.services.c2pa.reading import edit_credentials
from editor.services.edits.expiry import edit_expire_if_stale
from editor.services.storage import presigned_url
from editor.services.uploads import upload_limits_describe
from editor.services.versions import DELETE_BRANCH, KEEP_CHILDREN, version_delete
from editor.views.history_batches import history_batches_collapse
from editor.views.versions import detail_versions, history_group, version_delete_message

# The tools' strength fields, as the editor shows them: (name, label, minimum, hint).
STRENGTH_INPUTS = (
    ("creativity", "Creativity", "0.1", "How much new detail (0.1-0.5; empty: the model's default)"),
    ("control_strength", "Follow the image", "0", "How closely to follow the sketch or structure (0-1)"),
    ("fidelity", "Style fidelity", "0", "How closely to match the style image (0-1)"),
    ("style_strength", "Style strength", "0", "How strongly to apply the style (0-1)"),
    ("composition_fidelity", "Keep composition", "0", "How much of the original layout to keep (0-1)"),
    ("change_strength", "Change", "0.1", "How much the image may change (0.1-1)"),
)
HISTORY_PAGE_SIZE = 20
_FLASH_KEY = "flash"
STATUS_LABELS = {"PENDING": "Queued", "RUNNING": "Running", "SUCCEEDED": "Done", "FAILED": "Failed"}
MARGINS = (("up", "Top"), ("left", "Left"), ("right", "Right"), ("down", "Bottom"))


def signin_required(view):
    """Send a request without a signed-in session to the sign-in page, remembering where it was going."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        user = session_user(request)
        if user is None:
            query = urlencode({"next": request.get_full_path()})
            return HttpResponseRedirect(f"{reverse('pages:signin')}?{query}")
        return view(request, user, *args, **kwargs)

    return never_cache(wrapper)


def _safe_next(request, value: str | None) -> str:
    """The ?next= target if it is a relative path on this site, else the editor."""
    if (
        value
        and value.startswith("/")
        and url_has_allowed_host_and_scheme(value, allowed_hosts=None, require_https=request.is_secure())
    ):
        return value
    return reverse("pages:editor")


def _with_labels(edit: dict) -> dict:
    """Add the words and the datetime a page shows to an edit's dict."""
    rule = TASK_RULES.get(edit["task"])
    edit["task_label"] = rule.label if rule else edit["task"]
    edit["status_label"] = STATUS_LABELS.get(edit["status"], edit["status"])
    edit["is_active"] = edit["status"] in ACTIVE_STATUSES
    edit["created"] = parse_datetime(edit["created_at"] or "")
    return edit


def _edit_for_page(item: ImageEdit) -> dict:
    """The API's view of an edit, for the detail page."""
    edit = _with_labels(edit_present(item))
    edit["engine_label"] = engine_label(edit["engine"])
    return edit


def _history_card(item: ImageEdit) -> dict:
    """What one history thumbnail needs: a single presigned URL, not the four of the full presentation."""
    outputs = item.outputs or []
    card = _with_labels(
        {
            "id": item.id,
            "status": item.status,
            "task": item.task,
            "prompt": Truncator(item.prompt or "").chars(90),
            "created_at": item.request_timestamp,
            "thumbnail_url": presigned_url(key=outputs[0].key if outputs else item.image_reference),
        }
    )
    task = card["task_label"].lower()
    if not outputs:
        card["thumbnail_alt"] = f"Input of this {task} ({card['status_label'].lower()})"
    elif card["prompt"]:
        card["thumbnail_alt"] = f"Result of {task}: {card['prompt']}"
    else:
        card["thumbnail_alt"] = f"Result of {task}"
    return card


def _flash(request, text: str) -> None:
    request.session[_FLASH_KEY] = text


def _flash_pop(request) -> str | None:
    return request.session.pop(_FLASH_KEY, None)


def _service_error_page(request, exc: ServiceError):
    """A service failure (storage down, say) as a page in words, with the status that fits."""
    if exc.status == 404:
        raise Http404(exc.message) from exc
    return render(request, "editor/error.html", {"message": exc.message}, status=exc.status)


@require_POST
def signout(request):
    session_sign_out(request)
    return redirect(f"{reverse('pages:signin')}?signed_out=1")


@signin_required
def editor(request, user):
    return render(
        request,
        "editor/editor.html",
        {
            "task_groups": [
                (group, [(rule.task, rule.label) for rule in TASK_RULES.values() if rule.group == group])
                for group in GROUPS
            ],
            "strengths": STRENGTH_INPUTS,
            "margins": MARGINS,
            "aspect_ratios": ASPECT_RATIOS,
            "max_upload_bytes": settings.MAX_UPLOAD_BYTES,
            "upload_limits": upload_limits_describe(),
            "max_photo_bytes": settings.MAX_PHOTO_BYTES,
            "max_image_pixels": settings.MAX_PHOTO_PIXELS,
            "crop_padding_fraction": settings.CROP_PADDING_FRACTION,
            "crop_padding_min": settings.CROP_PADDING_MIN_PX,
            "continue_from": request.GET.get("from", "")[:64],
        },
    )


@signin_required
def history(request, user):
    cursor = request.GET.get("cursor") or None
    error = None
    try:
        items, next_cursor = edits_list(user=user, limit=HISTORY_PAGE_SIZE, cursor=cursor)
    except ServiceError as exc:
        if exc.code != "invalid_cursor":
            return _service_error_page(request, exc)
        error, items, next_cursor = exc.message, [], None
    edits = [_history_card(edit_expire_if_stale(item)) for item in items]
    edits = history_group(user=user, items=items, cards=edits)
    edits = history_batches_collapse(items=items, cards=edits)
    return render(
        request,
        "editor/history.html",
        {
            "edits": edits,
            "next_cursor": next_cursor,
            "is_first_page": cursor is None,
            "error": error,
            "flash": _flash_pop(request),
        },
    )


@signin_required
def edit_detail(request, user, edit_id: str):
    try:
        item = edit_expire_if_stale(edit_get_owned(user=user, edit_id=edit_id))
    except ServiceError as exc:
        return _service_error_page(request, exc)
    edit = _edit_for_page(item)
    # The presenter hands out URLs; the detail page also shows the S3 keys behind them.
    for output, stored in zip(edit["outputs"], item.outputs or [], strict=False):
        output["key"] = stored.key
    # Checked when the result was stored; read from S3 again only when the person asks (?verify=1).
    credentials, checked_at = edit_credentials(edit=item, verify=request.GET.get("verify") == "1")
    return render(
        request,
        "editor/edit_detail.html",
        {
            "edit": edit,
            "parameters": [
                (name.replace("_", " ").capitalize(), value)
                for name, value in sorted(edit["parameters"].items())
            ],
            "credentials": credentials,
            "credentials_checked_at": checked_at,
            **detail_versions(user=user, edit=item),
        },
    )


@require_POST
@signin_required
def edit_delete_page(request, user, edit_id: str):
    children = request.POST.get("children", DELETE_BRANCH)
    if children not in (DELETE_BRANCH, KEEP_CHILDREN):
        # A misspelt choice must not fall back to the wider deletion.
        message = f"children must be '{DELETE_BRANCH}' or '{KEEP_CHILDREN}'; nothing was deleted."
        return _service_error_page(request, ServiceError("invalid_choice", message))
    try:
        deleted = version_delete(user=user, edit_id=edit_id, children=children)
    except ServiceError as exc:
        return _service_error_page(request, exc)
    _flash(request, version_delete_message(edit_id, deleted, children))
    return redirect("pages:history")

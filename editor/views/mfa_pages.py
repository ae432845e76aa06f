"""Two-step sign-in pages: set it up or turn it off from your account, and set it up at first sign-in."""

from __future__ import annotations

import base64

from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from editor.errors import ServiceError
from editor.services.auth import mfa
from editor.services.auth.web_sessions import session_access_token
from editor.views.account_pages import (
    CHALLENGE_KEY,
    account_context,
    challenge_step,
    form_field,
    form_missing,
    form_password,
    page_render,
)
from editor.views.accounts import client_address
from editor.views.pages import signin_required

_MFA_SETUP_KEY = "mfa_setup"
_CODE_MISSING = "Enter the 6-digit code from your authenticator app."


def _code(request) -> str:
    return form_field(request, "code", 16).replace(" ", "")


def _setup_page(request, setup: dict, *, action_url: str, error: ServiceError | None):
    qr = base64.b64encode(setup["qr_svg"].encode()).decode()
    secret_groups = " ".join(setup["secret"][i : i + 4] for i in range(0, len(setup["secret"]), 4))
    context = {
        "qr_data_uri": f"data:image/svg+xml;base64,{qr}",
        "secret": secret_groups,
        "action_url": action_url,
        "signing_in": action_url == reverse("pages:signin-mfa-setup"),
    }
    return page_render(request, "editor/account_mfa.html", context, error)


@require_http_methods(["GET", "POST"])
@signin_required
def account_mfa(request, user):
    """Set up a second factor (after the password), confirm it with a code; or turn it off (with both)."""
    action = request.POST.get("action") if request.method == "POST" else None
    token = session_access_token(request)
    error = None
    proof = {
        "access_token": token,
        "username": user.username,
        "password": form_password(request, "password"),
        "code": _code(request) or None,
        "address": client_address(request),
    }
    try:
        if action == "start":
            error = form_missing(proof["password"], message="Enter your password to set up two-step sign-in.")
            if error is not None:
                raise error
            request.session[_MFA_SETUP_KEY] = mfa.account_mfa_setup_start(**proof)
        elif action == "verify" and _MFA_SETUP_KEY in request.session:
            error = form_missing(proof["code"] or "", message=_CODE_MISSING)
            if error is None:
                mfa.account_mfa_setup_verify(
                    access_token=token, username=user.username, code=proof["code"], address=proof["address"]
                )
                request.session.pop(_MFA_SETUP_KEY, None)
                return redirect(f"{reverse('pages:account')}?mfa=on")
        elif action == "disable":
            error = form_missing(
                proof["password"], proof["code"] or "", message="Enter your password and code."
            )
            if error is not None:
                raise error
            mfa.account_mfa_disable(**proof)
            return redirect(f"{reverse('pages:account')}?mfa=off")
    except ServiceError as exc:
        if action != "verify":
            request.session.pop(_MFA_SETUP_KEY, None)
            return page_render(request, "editor/account.html", account_context(request), exc)
        error = exc
    setup = request.session.get(_MFA_SETUP_KEY)
    if not setup:
        return redirect("pages:account")
    return _setup_page(request, setup, action_url=reverse("pages:account-mfa"), error=error)


@never_cache
@require_http_methods(["GET", "POST"])
def signin_mfa_setup(request):
    """First sign-in where the pool requires a second factor (MFA_SETUP): scan, then enter a code."""
    challenge = request.session.get(CHALLENGE_KEY)
    if not challenge or challenge["challenge"] != "MFA_SETUP":
        return redirect("pages:signin")
    if "secret" not in challenge:
        try:
            started = mfa.account_mfa_setup_challenge_start(
                username=challenge["username"], session=challenge["session"]
            )
        except ServiceError as exc:
            request.session.pop(CHALLENGE_KEY, None)
            return page_render(request, "editor/signin.html", {"username": challenge["username"]}, exc)
        challenge = {**challenge, **started}
        request.session[CHALLENGE_KEY] = challenge
    if request.method == "GET":
        return _setup_page(request, challenge, action_url=reverse("pages:signin-mfa-setup"), error=None)
    code = _code(request)
    return challenge_step(
        request,
        challenge_name="MFA_SETUP",
        template="editor/account_mfa.html",
        missing=form_missing(code, message=_CODE_MISSING),
        respond=lambda step, address: mfa.account_mfa_setup_challenge_finish(
            username=step["username"], session=step["session"], code=code, address=address
        ),
        # A wrong code shows the QR code again with the error (the setup's session is still good).
        render=lambda step, error: _setup_page(
            request, step, action_url=reverse("pages:signin-mfa-setup"), error=error
        ),
    )

"""Account pages: sign in (and choose a password), sign up and confirm, forgotten password, your account."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.http import Http404
from django.middleware.csrf import rotate_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from editor.errors import ServiceError
from editor.services.auth import accounts, mfa, pool_rules
from editor.services.auth.web_sessions import session_access_token, session_tokens_keep, session_user
from editor.views.accounts import client_address
from editor.views.pages import _safe_next, signin_required

CHALLENGE_KEY = "signin_challenge"
NOTICES = {
    "signed_out": "You are signed out.",
    "everywhere": "You are signed out on every device.",
    "confirmed": "Your account is confirmed. Sign in with your password.",
    "reset": "Your password is set. Sign in with it.",
    "changed": "Your password is changed and every sign-in has ended. Sign in with the new password.",
}


def form_field(request, name: str, limit: int = 128) -> str:
    return request.POST.get(name, "").strip()[:limit]


def form_password(request, name: str) -> str:
    return request.POST.get(name, "")[:256]


def page_render(request, template: str, context: dict, error: ServiceError | None = None):
    """Render an account page; a refusal shows its sentence (and each broken password rule)."""
    status = 200
    context = {"rules": pool_rules.password_rules(), **context}
    if error is not None:
        context["error"] = error.message
        context["error_code"] = error.code
        context["problems"] = getattr(error, "problems", None)
        # A refused form is shown again (200); being throttled or a service down keeps its status.
        status = error.status if error.status == 429 or error.status >= 500 else 200
    response = render(request, template, context, status=status)
    if getattr(error, "retry_after", None):
        response["Retry-After"] = str(error.retry_after)
    return response


def _signed_in(request, tokens: dict, next_url: str):
    session_tokens_keep(request, tokens)
    rotate_token(request)  # a new CSRF token for the new identity, as django.contrib.auth does
    return redirect(next_url)


def _to_signin(notice: str, username: str = ""):
    query = {"notice": notice, **({"username": username} if username else {})}
    return redirect(f"{reverse('pages:signin')}?{urlencode(query)}")


def form_missing(*values: str, message: str = "Fill in every field.") -> ServiceError | None:
    return None if all(values) else ServiceError("invalid_request", message)


@never_cache
@require_http_methods(["GET", "POST"])
def signin(request):
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if request.method == "GET" and session_user(request) is not None:
        return redirect(next_url)
    username = request.GET.get("username", "")[:128]
    context = {
        "next": next_url,
        # ?signed_out=1 is where the sign-out button lands.
        "notice": NOTICES.get("signed_out" if "signed_out" in request.GET else request.GET.get("notice", "")),
        "self_sign_up": pool_rules.pool_settings().self_sign_up,
    }
    error = None
    if request.method == "POST":
        username, password = form_field(request, "username"), form_password(request, "password")
        error = form_missing(username, password, message="Enter your username and password.")
        if error is None:
            try:
                result = accounts.account_sign_in(
                    username=username, password=password, address=client_address(request)
                )
            except ServiceError as exc:
                error = exc
            else:
                if "challenge" not in result:
                    return _signed_in(request, result, next_url)
                request.session[CHALLENGE_KEY] = {
                    "challenge": result["challenge"],
                    "username": result["username"],
                    "session": result["session"],
                    "next": next_url,
                }
                return challenge_page(result["challenge"])
    return page_render(request, "editor/signin.html", {**context, "username": username}, error)


def challenge_page(challenge: str):
    return redirect(
        {"SOFTWARE_TOKEN_MFA": "pages:signin-code", "MFA_SETUP": "pages:signin-mfa-setup"}.get(
            challenge, "pages:new-password"
        )
    )


@never_cache
@require_http_methods(["GET", "POST"])
def new_password(request):
    """First sign-in with a temporary password: choose your own (Cognito's NEW_PASSWORD_REQUIRED)."""
    password = form_password(request, "new_password") if request.method == "POST" else ""
    return challenge_step(
        request,
        challenge_name="NEW_PASSWORD_REQUIRED",
        template="editor/account_new_password.html",
        missing=form_missing(password),
        respond=lambda challenge, address: accounts.account_new_password(
            username=challenge["username"],
            session=challenge["session"],
            new_password=password,
            address=address,
        ),
    )


@never_cache
@require_http_methods(["GET", "POST"])
def signin_code(request):
    """The second step of a sign-in with a second factor: the code from the authenticator app."""
    code = form_field(request, "code", 16).replace(" ", "") if request.method == "POST" else ""
    return challenge_step(
        request,
        challenge_name="SOFTWARE_TOKEN_MFA",
        template="editor/account_signin_code.html",
        missing=form_missing(code, message="Enter the 6-digit code from your authenticator app."),
        respond=lambda challenge, address: accounts.account_mfa_answer(
            username=challenge["username"], session=challenge["session"], code=code, address=address
        ),
    )


def challenge_step(request, *, challenge_name: str, template: str, missing, respond, render=None):
    """One step of a sign-in that Cognito asked for: its page, then its answer; signed in when it passes.

    `missing` is the error for an empty form field (or None); `respond(challenge, address)` answers the
    challenge with what the person typed and returns the tokens.
    """
    challenge = request.session.get(CHALLENGE_KEY)
    if not challenge or challenge["challenge"] != challenge_name:
        return redirect("pages:signin")
    error = None
    if request.method == "POST":
        error = missing
        if error is None:
            try:
                tokens = respond(challenge, client_address(request))
            except ServiceError as exc:
                error = exc
                if exc.code == "challenge_expired":
                    request.session.pop(CHALLENGE_KEY, None)
            else:
                if "challenge" in tokens:  # one more step (MFA_SETUP after choosing a password)
                    request.session[CHALLENGE_KEY] = {**challenge, **tokens}
                    return challenge_page(tokens["challenge"])
                request.session.pop(CHALLENGE_KEY, None)
                return _signed_in(request, tokens, challenge["next"])
    if render is not None:
        return render(challenge, error)
    return page_render(request, template, {"username": challenge["username"]}, error)


def _self_sign_up_required() -> None:
    if not pool_rules.pool_settings().self_sign_up:
        raise Http404("Sign-up is closed: an administrator creates accounts.")


@never_cache
@require_http_methods(["GET", "POST"])
def signup(request):
    _self_sign_up_required()
    values = {"username": "", "email": ""}
    error = None
    if request.method == "POST":
        values = {"username": form_field(request, "username"), "email": form_field(request, "email", 254)}
        password = form_password(request, "password")
        error = form_missing(values["username"], values["email"], password)
        if error is None:
            try:
                accounts.account_sign_up(**values, password=password, address=client_address(request))
            except ServiceError as exc:
                error = exc
            else:
                query = urlencode({"username": values["username"], "sent": "1"})
                return redirect(f"{reverse('pages:signup-confirm')}?{query}")
    return page_render(request, "editor/account_signup.html", values, error)


@never_cache
@require_http_methods(["GET", "POST"])
def signup_confirm(request):
    """Enter the emailed code (or ask for another) with your password: confirmed and signed in at once."""
    _self_sign_up_required()
    username = request.GET.get("username", "")[:128]
    notice = "We sent a code to your email address." if request.GET.get("sent") else None
    error = None
    if request.method == "POST":
        username = form_field(request, "username")
        address = client_address(request)
        try:
            if request.POST.get("action") == "resend":
                error = form_missing(username)
                if error is None:
                    accounts.account_code_resend(username=username, address=address)
                    notice = "If that account is waiting for a code, a new one is on its way."
            else:
                code, password = form_field(request, "code", 16), form_password(request, "password")
                error = form_missing(username, code, password)
                if error is None:
                    accounts.account_confirm(username=username, code=code, address=address)
                    return _sign_in_after(request, username, password, "confirmed")
        except ServiceError as exc:
            error = exc
    return page_render(
        request, "editor/account_confirm.html", {"username": username, "notice": notice}, error
    )


def _sign_in_after(request, username: str, password: str, notice: str):
    """Sign in right after a confirmation or a reset; if that fails, the sign-in page says what is done."""
    try:
        address = client_address(request)
        tokens = accounts.account_sign_in(username=username, password=password, address=address)
    except ServiceError:
        return _to_signin(notice, username)
    if "challenge" in tokens:
        return _to_signin(notice, username)
    return _signed_in(request, tokens, reverse("pages:editor"))


@never_cache
@require_http_methods(["GET", "POST"])
def password_forgot(request):
    username = ""
    error = None
    if request.method == "POST":
        username = form_field(request, "username")
        error = form_missing(username)
        if error is None:
            try:
                accounts.account_password_forgot(username=username, address=client_address(request))
            except ServiceError as exc:
                error = exc
            else:
                return redirect(f"{reverse('pages:password-reset')}?{urlencode({'username': username})}")
    return page_render(request, "editor/account_forgot.html", {"username": username}, error)


@never_cache
@require_http_methods(["GET", "POST"])
def password_reset(request):
    username = request.GET.get("username", "")[:128]
    error = None
    if request.method == "POST":
        username = form_field(request, "username")
        code, password = form_field(request, "code", 16), form_password(request, "password")
        error = form_missing(username, code, password)
        if error is None:
            try:
                accounts.account_password_reset(
                    username=username, code=code, password=password, address=client_address(request)
                )
            except ServiceError as exc:
                error = exc
            else:
                return _sign_in_after(request, username, password, "reset")
    return page_render(request, "editor/account_reset.html", {"username": username}, error)


@require_http_methods(["GET", "POST"])
@signin_required
def account(request, user):
    """Your account: change your password, sign out on every device."""
    notice = None
    error = None
    if request.method == "POST":
        old, new = form_password(request, "old_password"), form_password(request, "new_password")
        error = form_missing(old, new)
        if error is None:
            try:
                result = accounts.account_password_change(
                    access_token=session_access_token(request),
                    username=user.username,
                    old_password=old,
                    new_password=new,
                    address=client_address(request),
                )
            except ServiceError as exc:
                error = exc
            else:
                # Every sign-in ended, this one too; it goes on with the new sign-in's tokens.
                if not result:  # changed, but the new sign-in could not be made: sign in with it
                    request.session.flush()
                    return _to_signin("changed", user.username)
                if "challenge" in result:
                    request.session.flush()
                    request.session[CHALLENGE_KEY] = {**result, "next": reverse("pages:account")}
                    return challenge_page(result["challenge"])
                session_tokens_keep(request, result)
                rotate_token(request)
                notice = "Your password is changed, and every other sign-in has ended."
    return page_render(request, "editor/account.html", {"notice": notice, **account_context(request)}, error)


def account_context(request) -> dict:
    """What the account page shows besides the forms: the bound, and the second factor's state."""
    pool_mfa = pool_rules.pool_settings().mfa
    try:
        enabled = pool_mfa != "OFF" and mfa.account_mfa_enabled(access_token=session_access_token(request))
    except ServiceError:
        enabled = None  # unknown for now: the page says so instead of failing
    notice = {"on": "Two-step sign-in is on.", "off": "Two-step sign-in is off."}.get(request.GET.get("mfa"))
    return {
        "bound_seconds": int(settings.TOKEN_STATE_CHECK_SECONDS),
        "mfa_pool": pool_mfa,
        "mfa_enabled": enabled,
        **({"notice": notice} if notice else {}),
    }


@require_POST
@signin_required
def signout_everywhere(request, user):
    try:
        accounts.account_sign_out_everywhere(access_token=session_access_token(request))
    except ServiceError as exc:
        if exc.code != "signed_out":
            return page_render(request, "editor/account.html", account_context(request), exc)
    request.session.flush()
    return _to_signin("everywhere")

"""Request middleware: the log context of each request, and CORS from an explicit allow-list of origins."""

from __future__ import annotations

import logging
import time
import uuid
from urllib.parse import unquote

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.utils.cache import patch_vary_headers

from editor.log import log_context, log_context_bind, log_context_clear

logger = logging.getLogger("editor.requests")

_ALLOWED_HEADERS = "Authorization, Content-Type, Idempotency-Key"
_ALLOWED_METHODS = "GET, POST, DELETE, OPTIONS"


class CorsMiddleware:
    """Answer preflights and tag API responses for origins in CORS_ALLOWED_ORIGINS; ignore all others."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        origin = request.headers.get("Origin")
        allowed = (
            bool(origin) and request.path_info.startswith("/api/") and origin in settings.CORS_ALLOWED_ORIGINS
        )
        if allowed and request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            response = HttpResponse(status=204)
            response["Access-Control-Allow-Methods"] = _ALLOWED_METHODS
            response["Access-Control-Allow-Headers"] = _ALLOWED_HEADERS
            response["Access-Control-Max-Age"] = "600"
        else:
            response = self.get_response(request)
        if allowed:
            response["Access-Control-Allow-Origin"] = origin
            response["Access-Control-Expose-Headers"] = "Location"
            patch_vary_headers(response, ("Origin",))
        return response


class RequestContextMiddleware:
    """Bind a request id to the request's log lines, answer it in X-Request-Id, log one summary line."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        started = time.monotonic()
        log_context_clear()
        log_context_bind(request_id=_request_id(request), method=request.method, path=request.path)
        try:
            response = self.get_response(request)
        except Exception:
            logger.exception("request failed")
            log_context_clear()
            raise
        response["X-Request-Id"] = (log_context.get() or {}).get("request_id", "")
        if not request.path_info.startswith("/static/"):
            logger.info(
                "request",
                extra={
                    "status": response.status_code,
                    "duration_ms": int((time.monotonic() - started) * 1000),
                },
            )
        log_context_clear()
        return response


def _request_id(request) -> str:
    """API Gateway's request id on Lambda (via Zappa's event), else the caller's, else a new one."""
    event = request.META.get("lambda.event") or {}
    gateway_id = (event.get("requestContext") or {}).get("requestId") if isinstance(event, dict) else None
    supplied = request.headers.get("X-Request-Id", "")
    if gateway_id:
        return gateway_id
    if supplied and len(supplied) <= 64 and supplied.replace("-", "").isalnum():
        return supplied
    return str(uuid.uuid4())


class EncodedPathMiddleware:
    """Refuse a path that API Gateway routed in its percent-encoded form (400, before any view).

    API Gateway (REST) chooses the resource, and so the authorizer and the throttle, on the path as sent,
    still encoded: `/api%2Fv1%2Fme` is one segment under the unguarded `/{proxy+}`. Zappa then decodes
    the event's path, and Django would serve /api/v1/me. No route of this app needs an escape in its
    path, so any path that differs from its decoded form is refused (docs/edge.md).
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        event = request.META.get("lambda.event")
        raw = event.get("path") if isinstance(event, dict) else None
        if isinstance(raw, str) and "%" in raw and unquote(raw) != raw:
            return JsonResponse(
                {
                    "error": {
                        "code": "encoded_path",
                        "message": "The path has percent-encoded characters; send it as plain text "
                        f"({unquote(raw)[:200]}).",
                    }
                },
                status=400,
            )
        return self.get_response(request)


class ContentSecurityPolicyMiddleware:
    """A strict Content-Security-Policy on the app's pages: code only from the app, images also from S3.

    The pages have no inline scripts or styles, the Swagger docs page included (its script is served from
    /api/docs/?script). Django's debug error pages go without when DEBUG is on.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        is_page = response.get("Content-Type", "").startswith("text/html")
        debug_page = settings.DEBUG and response.status_code >= 400
        if is_page and not debug_page:
            response.setdefault("Content-Security-Policy", _page_policy())
        return response


def _page_policy() -> str:
    from editor.services.storage import bucket_origin

    images = bucket_origin()  # presigned image URLs point at the bucket, not at the app
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src 'self' data: blob: {images}",
            f"connect-src 'self' {images}",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


class NoStoreApiMiddleware:
    """Tell browsers and proxies to keep no copy of /api/ answers (a view may set its own header)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path_info.startswith("/api/v1/") and not response.has_header("Cache-Control"):
            response["Cache-Control"] = "no-store"
        return response

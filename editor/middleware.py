"""CORS for the API from an explicit allow-list of origins (never a wildcard with credentials)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse

_ALLOWED_HEADERS = "Authorization, Content-Type, Idempotency-Key"
_ALLOWED_METHODS = "GET, POST, DELETE, OPTIONS"


class CorsMiddleware:
    """Answer preflights and tag API responses for origins in CORS_ALLOWED_ORIGINS; ignore all others."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        origin = request.headers.get("Origin")
        allowed = (
            bool(origin) and request.path.startswith("/api/") and origin in settings.CORS_ALLOWED_ORIGINS
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
            response["Vary"] = "Origin"
        return response

"""Cache-Control: no-store on every API response: they carry tokens, presigned URLs or a person's data."""

from __future__ import annotations


class NoStoreApiMiddleware:
    """Tell browsers and proxies to keep no copy of /api/ answers (a view may set its own header)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path_info.startswith("/api/v1/") and not response.has_header("Cache-Control"):
            response["Cache-Control"] = "no-store"
        return response

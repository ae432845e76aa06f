"""The one place where errors become API responses: {"error": {"code", "message", "fields"?}}."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent, TooManyFilesSent
from django.http import Http404, JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler

from editor.errors import ServiceError

logger = logging.getLogger(__name__)


def _first_message(detail) -> str:
    if isinstance(detail, dict):
        field, value = next(iter(detail.items()))
        inner = _first_message(value)
        return inner if field == "non_field_errors" else f"{field}: {inner}"
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    return str(detail)


def refused_request_error(exc: SuspiciousOperation | None) -> ServiceError:
    """Django's refusals of a request body (too big, too many fields or files) as the API's own errors."""
    if isinstance(exc, RequestDataTooBig):
        megabytes = settings.DATA_UPLOAD_MAX_MEMORY_SIZE / 1e6
        return ServiceError(
            "request_too_large",
            f"The request is too large: a JSON body, or the form fields besides files, may be at most "
            f"{megabytes:.1f} MB.",
            status=413,
        )
    if isinstance(exc, TooManyFieldsSent):
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        return ServiceError("too_many_fields", f"The request has more than {limit} fields.")
    if isinstance(exc, TooManyFilesSent):
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FILES
        return ServiceError("too_many_files", f"The request has more than {limit} files.")
    return ServiceError("bad_request", "The request was refused as malformed.")


def api_exception_handler(exc, context):
    """Turn ServiceError and DRF's exceptions into one JSON error shape; let anything else be a 500."""
    if isinstance(exc, SuspiciousOperation):
        exc = refused_request_error(exc)
    if isinstance(exc, ServiceError):
        response = Response({"error": exc.as_dict()}, status=exc.status)
        if getattr(exc, "retry_after", None):
            response["Retry-After"] = str(exc.retry_after)
        return response
    if isinstance(exc, Http404):
        exc = exceptions.NotFound("Not found.")
    response = exception_handler(exc, context)
    if response is None:
        return None
    detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
    error = {"code": getattr(exc, "default_code", "error"), "message": _first_message(detail)}
    if isinstance(exc, exceptions.ValidationError):
        error["code"] = "invalid_request"
        error["fields"] = detail
    response.data = {"error": error}
    return response


def api_not_found(request, exception=None):
    """JSON 404 for unknown /api/ and /web/ paths (Django's handler404 renders HTML elsewhere)."""
    if request.path_info.startswith(("/api/", "/web/")):
        return JsonResponse({"error": {"code": "not_found", "message": "No such API endpoint."}}, status=404)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def api_bad_request(request, exception=None):
    """JSON 400 (or 413) for /api/ paths when Django refuses a request outside a DRF view."""
    if request.path_info.startswith("/api/"):
        error = refused_request_error(exception if isinstance(exception, SuspiciousOperation) else None)
        return JsonResponse({"error": error.as_dict()}, status=error.status)
    from django.views.defaults import bad_request

    return bad_request(request, exception)


def api_server_error(request):
    """JSON 500 for /api/ and /web/ paths, so API clients always get the one error shape."""
    if request.path_info.startswith(("/api/", "/web/")):
        return JsonResponse(
            {"error": {"code": "internal_error", "message": "Something went wrong on our side; try again."}},
            status=500,
        )
    from django.views.defaults import server_error

    return server_error(request)

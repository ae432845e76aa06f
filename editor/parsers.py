"""Request-body parsers that refuse hostile bodies with a 4xx: JSON nested too deeply, bodies over the cap."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework import parsers
from rest_framework.exceptions import ParseError


def _refuse_over_cap(parser_context) -> None:
    """DRF reads JSON and form bodies straight from the stream, past Django's DATA_UPLOAD_MAX_MEMORY_SIZE."""
    request = (parser_context or {}).get("request")
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0) if request is not None else 0
    except ValueError:
        length = 0
    if settings.DATA_UPLOAD_MAX_MEMORY_SIZE is not None and length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
        raise RequestDataTooBig("Request body exceeded settings.DATA_UPLOAD_MAX_MEMORY_SIZE.")


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        _refuse_over_cap(parser_context)
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            # Python's decoder recurses per level: a deep enough body would otherwise be a 500.
            raise ParseError("JSON parse error - the JSON is nested too deeply.") from exc


class FormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        _refuse_over_cap(parser_context)
        return super().parse(stream, media_type, parser_context)


# Django's multipart parser enforces the caps itself (fields, files, non-file bytes); its errors become JSON
# in editor.api_errors. It builds flat fields, so nothing nests.
MultiPartParser = parsers.MultiPartParser

"""OpenAPI hints for the views, recorded at import and handed to drf-spectacular only when a schema is built.

drf_spectacular.utils imports django.test (unittest, xml.dom, wsgiref, ...) through its plumbing: ~100 ms
that every cold start would pay for a schema almost nobody asks for. Views use these stand-ins exactly like
drf-spectacular's own; schema_hints_apply (the first preprocessing hook, see SPECTACULAR_SETTINGS) applies
the real decorators before drf-spectacular reads any view, for /api/schema/ and `manage.py spectacular`.
"""

from __future__ import annotations

import threading

# (function, the keyword arguments of its @extend_schema), in the order the views were imported.
_pending: list[tuple[object, dict]] = []
_pending_lock = threading.Lock()  # two first schema requests at once: the second waits for the hints


class _Deferred:
    """A call into drf_spectacular.utils, made when the schema is built."""

    def __init__(self, name: str, args: tuple, kwargs: dict) -> None:
        self.name, self.args, self.kwargs = name, args, kwargs

    def build(self):
        from drf_spectacular import utils

        return getattr(utils, self.name)(*_resolved(self.args), **_resolved(self.kwargs))


class OpenApiParameter(_Deferred):
    """drf_spectacular.utils.OpenApiParameter, built later (the same arguments)."""

    QUERY, PATH, HEADER, COOKIE = "query", "path", "header", "cookie"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__("OpenApiParameter", args, kwargs)


def inline_serializer(*args, **kwargs) -> _Deferred:
    """drf_spectacular.utils.inline_serializer, built later (the same arguments)."""
    return _Deferred("inline_serializer", args, kwargs)


def extend_schema(**kwargs):
    """drf_spectacular.utils.extend_schema for a view method, applied by schema_hints_apply."""

    def decorator(function):
        _pending.append((function, kwargs))
        return function

    return decorator


def _resolved(value):
    if isinstance(value, _Deferred):
        return value.build()
    if isinstance(value, dict):
        return {key: _resolved(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_resolved(item) for item in value)
    return value


def schema_hints_apply(endpoints):
    """drf-spectacular preprocessing hook: apply every recorded hint (once) before the views are read."""
    from drf_spectacular.utils import extend_schema as spectacular_extend_schema

    with _pending_lock:
        while _pending:
            function, kwargs = _pending.pop(0)
            spectacular_extend_schema(**_resolved(kwargs))(function)
    return endpoints

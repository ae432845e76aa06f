"""The OpenAPI schema and its offline docs page, imported on first use: drf-spectacular costs ~100 ms
of import, which no cold start should pay for a page almost nobody opens."""

from __future__ import annotations

import functools


@functools.cache
def _schema_view():
    from drf_spectacular.views import SpectacularAPIView

    return SpectacularAPIView.as_view(authentication_classes=[], permission_classes=[])


@functools.cache
def _docs_view():
    from drf_spectacular.views import SpectacularSwaggerView

    return SpectacularSwaggerView.as_view(url_name="schema", authentication_classes=[], permission_classes=[])


def schema(request, *args, **kwargs):
    return _schema_view()(request, *args, **kwargs)


def docs(request, *args, **kwargs):
    return _docs_view()(request, *args, **kwargs)

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
    from drf_spectacular.views import SpectacularSwaggerSplitView

    # The split view serves its start-up script from ?script, and our template has no inline style: the
    # page runs under the same strict Content-Security-Policy as every other page.
    return SpectacularSwaggerSplitView.as_view(
        url_name="schema",
        template_name="editor/api_docs.html",
        authentication_classes=[],
        permission_classes=[],
    )


def schema(request, *args, **kwargs):
    return _schema_view()(request, *args, **kwargs)


def docs(request, *args, **kwargs):
    return _docs_view()(request, *args, **kwargs)

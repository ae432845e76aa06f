"""Root URLs: health check, the API (and its session-only twin for the pages), schema, docs, pages."""

from django.urls import include, path

from editor.views import schema
from editor.views.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("api/v1/", include("editor.urls.api")),
    # The same API for the pages' scripts, with the session only: outside API Gateway's authorizer.
    path("web/v1/", include("editor.urls.page_api")),
    path("api/schema/", schema.schema, name="schema"),
    path("api/docs/", schema.docs, name="api-docs"),
    path("", include("editor.urls.pages")),
]

handler400 = "editor.api_errors.api_bad_request"
handler404 = "editor.api_errors.api_not_found"
handler500 = "editor.api_errors.api_server_error"

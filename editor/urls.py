"""API routes under /api/v1/."""

from django.urls import path

from editor.views import auth, edits

app_name = "api"

urlpatterns = [
    path("auth/token", auth.TokenApi.as_view(), name="auth-token"),
    path("auth/refresh", auth.RefreshApi.as_view(), name="auth-refresh"),
    path("me", auth.MeApi.as_view(), name="me"),
    path("edits", edits.EditCollectionApi.as_view(), name="edits"),
    path("edits/<str:edit_id>", edits.EditItemApi.as_view(), name="edit-detail"),
    path("models", edits.ModelsApi.as_view(), name="models"),
    path("usage", edits.UsageApi.as_view(), name="usage"),
]

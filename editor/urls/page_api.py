"""The pages' own JSON calls under /web/v1/: the API's views, authenticated by the session (with CSRF) only.

In AWS these paths sit outside API Gateway's Cognito authorizer (infra/template.yaml), like the pages;
Cognito tokens stay in the server-side session and never reach the browser's JavaScript.
"""

from django.urls import path

from editor.authentication import CognitoSessionAuthentication
from editor.views import accounts, batches, edits, uploads, versions

app_name = "web"

SESSION_ONLY = {"authentication_classes": [CognitoSessionAuthentication]}

urlpatterns = [
    path("me", accounts.MeApi.as_view(**SESSION_ONLY), name="me"),
    path("edits", edits.EditCollectionApi.as_view(**SESSION_ONLY), name="edits"),
    path("edits/<str:edit_id>", edits.EditItemApi.as_view(**SESSION_ONLY), name="edit-detail"),
    path("edits/<str:edit_id>/versions", versions.VersionsApi.as_view(**SESSION_ONLY), name="edit-versions"),
    path("models", edits.ModelsApi.as_view(**SESSION_ONLY), name="models"),
    path("uploads", uploads.UploadsApi.as_view(**SESSION_ONLY), name="uploads"),
    path(
        "uploads/<str:upload_id>/preview",
        uploads.UploadPreviewApi.as_view(**SESSION_ONLY),
        name="upload-preview",
    ),
    path("usage", edits.UsageApi.as_view(**SESSION_ONLY), name="usage"),
    path("batches", batches.BatchCollectionApi.as_view(**SESSION_ONLY), name="batches"),
    path("batches/<str:batch_id>", batches.BatchItemApi.as_view(**SESSION_ONLY), name="batch-detail"),
    path("batches/<str:batch_id>/edits", batches.BatchEditsApi.as_view(**SESSION_ONLY), name="batch-edits"),
]


def schema_without_web(endpoints):
    """drf-spectacular preprocessing hook: the pages' twin of the API stays out of the published schema."""
    return [endpoint for endpoint in endpoints if not endpoint[0].startswith("/web/")]

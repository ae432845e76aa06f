"""API routes under /api/v1/."""

from django.urls import path

from editor.views import accounts, batches, edits, mfa, uploads, versions

app_name = "api"

urlpatterns = [
    path("auth/token", accounts.SignInApi.as_view(), name="auth-token"),
    path("auth/challenge", accounts.ChallengeApi.as_view(), name="auth-challenge"),
    path("auth/password-policy", accounts.PasswordPolicyApi.as_view(), name="auth-password-policy"),
    path("auth/signup", accounts.SignUpApi.as_view(), name="auth-signup"),
    path("auth/confirm", accounts.ConfirmApi.as_view(), name="auth-confirm"),
    path("auth/resend", accounts.ResendApi.as_view(), name="auth-resend"),
    path("auth/forgot", accounts.ForgotApi.as_view(), name="auth-forgot"),
    path("auth/reset", accounts.ResetApi.as_view(), name="auth-reset"),
    path("auth/password", accounts.PasswordApi.as_view(), name="auth-password"),
    path("auth/signout", accounts.SignOutApi.as_view(), name="auth-signout"),
    path("auth/mfa", mfa.MfaApi.as_view(), name="auth-mfa"),
    path("auth/mfa/setup", mfa.MfaSetupApi.as_view(), name="auth-mfa-setup"),
    path("auth/refresh", accounts.RefreshApi.as_view(), name="auth-refresh"),
    path("me", accounts.MeApi.as_view(), name="me"),
    path("edits", edits.EditCollectionApi.as_view(), name="edits"),
    path("edits/<str:edit_id>", edits.EditItemApi.as_view(), name="edit-detail"),
    path("edits/<str:edit_id>/versions", versions.VersionsApi.as_view(), name="edit-versions"),
    path("models", edits.ModelsApi.as_view(), name="models"),
    path("uploads", uploads.UploadsApi.as_view(), name="uploads"),
    path("uploads/<str:upload_id>/preview", uploads.UploadPreviewApi.as_view(), name="upload-preview"),
    path("usage", edits.UsageApi.as_view(), name="usage"),
    path("batches", batches.BatchCollectionApi.as_view(), name="batches"),
    path("batches/<str:batch_id>", batches.BatchItemApi.as_view(), name="batch-detail"),
    path("batches/<str:batch_id>/edits", batches.BatchEditsApi.as_view(), name="batch-edits"),
]

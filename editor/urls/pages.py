"""Web page routes: the editor, history, one edit, sign in and sign out."""

from django.urls import path

from editor.views import account_pages, batch_pages, mfa_pages, pages

app_name = "pages"

urlpatterns = [
    path("", pages.editor, name="editor"),
    path("history", pages.history, name="history"),
    path("edits/<str:edit_id>", pages.edit_detail, name="edit"),
    path("edits/<str:edit_id>/delete", pages.edit_delete_page, name="edit-delete"),
    path("batches/<str:batch_id>", batch_pages.batch_page, name="batch"),
    path("batches/<str:batch_id>/cancel", batch_pages.batch_cancel_page, name="batch-cancel"),
    path("signin", account_pages.signin, name="signin"),
    path("signin/new-password", account_pages.new_password, name="new-password"),
    path("signin/code", account_pages.signin_code, name="signin-code"),
    path("signin/mfa-setup", mfa_pages.signin_mfa_setup, name="signin-mfa-setup"),
    path("signup", account_pages.signup, name="signup"),
    path("signup/confirm", account_pages.signup_confirm, name="signup-confirm"),
    path("password/forgot", account_pages.password_forgot, name="password-forgot"),
    path("password/reset", account_pages.password_reset, name="password-reset"),
    path("account", account_pages.account, name="account"),
    path("account/mfa", mfa_pages.account_mfa, name="account-mfa"),
    path("account/signout-everywhere", account_pages.signout_everywhere, name="signout-everywhere"),
    path("signout", pages.signout, name="signout"),
]

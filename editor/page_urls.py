"""Web page routes: the editor, history, one edit, sign in and sign out."""

from django.urls import path

from editor.views import pages

app_name = "pages"

urlpatterns = [
    path("", pages.editor, name="editor"),
    path("history", pages.history, name="history"),
    path("edits/<str:edit_id>", pages.edit_detail, name="edit"),
    path("edits/<str:edit_id>/delete", pages.edit_delete_page, name="edit-delete"),
    path("signin", pages.signin, name="signin"),
    path("signout", pages.signout, name="signout"),
]

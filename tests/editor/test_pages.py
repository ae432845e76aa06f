"""The server-rendered pages on the local stack: sign-in and out, CSRF, editor, history, detail, delete."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from editor.views import pages
from tests.conftest import PASSWORD
from tests.editor.helpers import mask_png, page_sign_in, photo_png, upload

pytestmark = pytest.mark.usefixtures("local_stack")


def csrf_header(client: Client) -> dict:
    return {"HTTP_X_CSRFTOKEN": client.cookies["csrftoken"].value}


def post_edit(client: Client, task: str = "inpaint", **fields) -> dict:
    payload = {"task": task, "image": upload("photo.png", photo_png()), **fields}
    if task in ("inpaint", "erase"):
        payload["mask"] = upload("mask.png", mask_png())
    response = client.post("/api/v1/edits", payload, **csrf_header(client))
    assert response.status_code in (201, 202), response.content
    return response.json()


@pytest.fixture
def signed_in(user):
    client = page_sign_in(user["username"])
    client.user = user
    return client


class TestSignIn:
    @pytest.mark.parametrize("path", ["/", "/history", "/edits/0b4f2c1e-0000-4000-8000-000000000000"])
    def test_page_without_session_redirects_to_sign_in(self, path):
        response = Client().get(path)
        assert response.status_code == 302
        assert response["Location"] == f"/signin?next={path.replace('/', '%2F')}"

    def test_wrong_password_shows_a_message(self, user):
        response = Client().post("/signin", {"username": user["username"], "password": "Not-the-password-9"})
        assert response.status_code == 200
        assert b"Incorrect username or password." in response.content
        assert b'role="alert"' in response.content
        assert Client().get("/").status_code == 302

    def test_empty_form_asks_for_both_fields(self):
        response = Client().post("/signin", {"username": "", "password": ""})
        assert response.status_code == 200 and b"Enter your username and password." in response.content

    def test_sign_in_sets_an_httponly_samesite_session_cookie_and_goes_to_next(self, user):
        client = page_sign_in(user["username"], next_url="/history")
        response = client.sign_in_response
        assert response["Location"] == "/history"
        cookie = response.cookies[settings.SESSION_COOKIE_NAME]
        assert cookie["httponly"] is True
        assert cookie["samesite"] == "Lax"
        # Only the session key travels: the Cognito tokens stay server-side.
        assert "eyJ" not in cookie.value and len(cookie.value) < 100
        page = client.get("/")
        assert page.status_code == 200 and user["username"].encode() in page.content

    @pytest.mark.parametrize(
        "next_url", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"]
    )
    def test_next_must_be_a_path_on_this_site(self, user, next_url):
        client = page_sign_in(user["username"], next_url=next_url)
        assert client.sign_in_response["Location"] == "/"

    def test_signed_in_visit_to_sign_in_goes_to_the_editor(self, signed_in):
        response = signed_in.get("/signin")
        assert response.status_code == 302 and response["Location"] == "/"

    def test_sign_out_ends_the_session(self, signed_in):
        session_key = signed_in.cookies[settings.SESSION_COOKIE_NAME].value
        assert signed_in.get("/history").status_code == 200
        response = signed_in.post("/signout")
        assert response.status_code == 302 and response["Location"] == "/signin?signed_out=1"
        assert b"You are signed out." in signed_in.get(response["Location"]).content
        assert signed_in.get("/history").status_code == 302
        # The old cookie is worthless: the session item is gone from the table, not just from this client.
        replay = Client()
        replay.cookies[settings.SESSION_COOKIE_NAME] = session_key
        assert replay.get("/history").status_code == 302
        assert replay.get("/api/v1/edits").status_code == 401

    def test_sign_out_is_post_only(self, signed_in):
        assert signed_in.get("/signout").status_code == 405
        assert signed_in.get("/").status_code == 200


class TestCsrf:
    def test_sign_in_form_without_token_is_refused(self, user):
        client = Client(enforce_csrf_checks=True)
        response = client.post("/signin", {"username": user["username"], "password": PASSWORD})
        assert response.status_code == 403
        assert b"This form has expired" in response.content

    def test_sign_in_form_with_token_works(self, user):
        client = page_sign_in(user["username"], enforce_csrf=True)
        assert client.get("/").status_code == 200

    def test_sign_out_without_token_is_refused(self, user):
        client = page_sign_in(user["username"], enforce_csrf=True)
        assert client.post("/signout").status_code == 403
        assert client.get("/").status_code == 200  # still signed in

    def test_delete_without_token_is_refused(self, user):
        client = page_sign_in(user["username"], enforce_csrf=True)
        edit = post_edit(client, "remove_background")
        assert client.post(f"/edits/{edit['id']}/delete").status_code == 403
        assert client.get(f"/edits/{edit['id']}").status_code == 200

    def test_api_post_from_a_session_needs_the_csrf_header(self, user):
        client = page_sign_in(user["username"], enforce_csrf=True)
        payload = {"task": "remove_background", "image": upload("photo.png", photo_png())}
        refused = client.post("/api/v1/edits", payload)
        assert refused.status_code == 403
        assert "CSRF" in refused.json()["error"]["message"]
        payload["image"] = upload("photo.png", photo_png())
        accepted = client.post("/api/v1/edits", payload, **csrf_header(client))
        assert accepted.status_code == 201, accepted.content

    def test_csrf_token_changes_at_sign_in(self, user):
        client = Client(enforce_csrf_checks=True)
        client.get("/signin")
        before = client.cookies["csrftoken"].value
        client.post(
            "/signin", {"username": user["username"], "password": PASSWORD, "csrfmiddlewaretoken": before}
        )
        assert client.cookies["csrftoken"].value != before


class TestEditorPage:
    def test_renders_the_editor_with_its_controls(self, signed_in):
        response = signed_in.get("/")
        html = response.content.decode()
        assert response.status_code == 200
        assert 'name="csrfmiddlewaretoken"' in html
        for control in (
            'id="image-input"',
            'id="mask-canvas"',
            'id="brush-size"',
            'id="prompt"',
            'id="model"',
        ):
            assert control in html
        for label in (
            'for="brush-size"',
            'for="prompt"',
            'for="negative-prompt"',
            'for="model"',
            'for="seed"',
        ):
            assert label in html
        assert 'value="outpaint"' in html and 'value="generate"' in html
        assert "cdn" not in html.lower() and "googleapis" not in html
        assert response["Cache-Control"].startswith("max-age=0")

    def test_static_files_are_served_by_the_app(self, signed_in):
        for name in ("app.css", "editor.js", "mask.js", "history.js", "favicon.svg"):
            response = signed_in.get(f"/static/editor/{name}")
            assert response.status_code == 200, name
            body = b"".join(response.streaming_content) if response.streaming else response.content
            assert body.strip(), name


class TestHistoryAndDetail:
    def test_history_lists_the_edits_newest_first_with_thumbnails(self, signed_in):
        first = post_edit(signed_in, prompt="a green lawn")
        second = post_edit(signed_in, "remove_background")
        response = signed_in.get("/history")
        html = response.content.decode()
        assert response.status_code == 200
        assert html.index(f"/edits/{second['id']}") < html.index(f"/edits/{first['id']}")
        assert "a green lawn" in html and "Remove background" in html and "Done" in html
        assert 'alt="Result of inpaint: a green lawn"' in html

    def test_history_pages_with_an_older_link(self, signed_in, monkeypatch):
        monkeypatch.setattr(pages, "HISTORY_PAGE_SIZE", 2)
        ids = [post_edit(signed_in, "remove_background", wait=0)["id"] for _ in range(3)]
        first_page = signed_in.get("/history").content.decode()
        assert f"/edits/{ids[2]}" in first_page and f"/edits/{ids[0]}" not in first_page
        assert 'rel="next"' in first_page
        older_url = (
            first_page.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
        )
        older = signed_in.get(older_url).content.decode()
        assert f"/edits/{ids[0]}" in older and f"/edits/{ids[2]}" not in older
        assert ">Newest<" in older
        for edit_id in ids:  # let the jobs finish inside this test
            assert signed_in.get(f"/api/v1/edits/{edit_id}?wait=10").json()["status"] == "SUCCEEDED"

    def test_history_with_a_bad_cursor_says_so(self, signed_in):
        response = signed_in.get("/history?cursor=not-a-cursor")
        assert response.status_code == 200 and b"The cursor is not valid" in response.content

    def test_detail_shows_the_metadata_and_images(self, signed_in):
        edit = post_edit(signed_in, prompt="a stone path", seed=7)
        response = signed_in.get(f"/edits/{edit['id']}")
        html = response.content.decode()
        assert response.status_code == 200
        sub = signed_in.user["sub"]
        for text in (
            edit["id"],
            "a stone path",
            "SUCCEEDED",
            f"users/{sub}/edits/{edit['id']}/input.png",
            f"users/{sub}/edits/{edit['id']}/mask.png",
            f"users/{sub}/edits/{edit['id']}/output-0.png",
            edit["model_id"],
            "Local engine (local-opencv)",
            "prompt ignored by the local engine",
            'alt="The input image"',
            "Continue editing",
            f'href="/?from={edit["id"]}"',
        ):
            assert text in html, text
        assert html.count("<img") == 3  # result, input, mask

    def test_another_users_detail_is_404(self, signed_in, make_user):
        edit = post_edit(signed_in, "remove_background")
        username, _ = make_user("intruder")
        other = page_sign_in(username)
        response = other.get(f"/edits/{edit['id']}")
        assert response.status_code == 404 and b"Not found" in response.content
        assert edit["id"].encode() not in other.get("/history").content
        assert other.post(f"/edits/{edit['id']}/delete").status_code == 404
        assert signed_in.get(f"/edits/{edit['id']}").status_code == 200

    def test_unknown_edit_is_404(self, signed_in):
        assert signed_in.get("/edits/not-an-edit").status_code == 404

    def test_delete_via_the_page(self, signed_in):
        edit = post_edit(signed_in, prompt="grass")
        response = signed_in.post(f"/edits/{edit['id']}/delete")
        assert response.status_code == 302 and response["Location"] == "/history"
        history = signed_in.get("/history")
        assert f"Edit {edit['id'][:8]} was deleted".encode() in history.content
        assert f"/edits/{edit['id']}".encode() not in history.content
        assert signed_in.get(f"/edits/{edit['id']}").status_code == 404
        assert signed_in.get(f"/api/v1/edits/{edit['id']}").status_code == 404
        # The message shows once.
        assert b"was deleted" not in signed_in.get("/history").content

    def test_delete_is_post_only(self, signed_in):
        edit = post_edit(signed_in, "remove_background")
        assert signed_in.get(f"/edits/{edit['id']}/delete").status_code == 405
        assert signed_in.get(f"/edits/{edit['id']}").status_code == 200


def test_pages_carry_a_strict_content_security_policy(local_stack):
    from django.test import Client

    from editor.services.storage import bucket_origin

    policy = Client().get("/signin")["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy
    assert f"img-src 'self' data: blob: {bucket_origin()}" in policy
    assert "frame-ancestors 'none'" in policy
    # The docs page too: its start-up script is a file (/api/docs/?script), not inline.
    assert Client().get("/api/docs/")["Content-Security-Policy"] == policy

"""Versions as a tree: each edit knows its root and parent; the API and the pages show a photo's tree."""

from __future__ import annotations

import re

import pytest

from editor.models import SUCCEEDED, ImageEdit
from tests.editor.helpers import DynamoCalls, mask_png, page_sign_in, photo_png, post_edit

pytestmark = pytest.mark.usefixtures("local_stack")


def done(response) -> str:
    assert response.status_code == 201, response.content
    assert response.json()["status"] == SUCCEEDED, response.json()
    return response.json()["id"]


@pytest.fixture
def two_branches(api):
    """A photo edited in two branches: a -> b -> c, and a -> d."""
    a = done(post_edit(api, "erase", image=photo_png(), mask=mask_png()))
    b = done(post_edit(api, "erase", parent_id=a, mask=mask_png(box=(10, 10, 30, 30))))
    c = done(post_edit(api, "erase", parent_id=b, mask=mask_png(box=(80, 50, 100, 70))))
    d = done(post_edit(api, "erase", parent_id=a, mask=mask_png(box=(90, 10, 110, 30))))
    return {"a": a, "b": b, "c": c, "d": d}


def test_every_edit_records_its_root_and_parent(api, two_branches):
    a, b, c, d = (ImageEdit.get(two_branches[name]) for name in "abcd")
    assert {edit.root_id for edit in (a, b, c, d)} == {a.id}
    assert (a.parent_id, b.parent_id, c.parent_id, d.parent_id) == (None, a.id, b.id, a.id)
    assert a.tree_key == f"{api.user['sub']}#{a.id}"


def test_the_versions_api_returns_the_whole_tree_from_any_node(api, two_branches):
    ids = two_branches
    response = api.get(f"/api/v1/edits/{ids['c']}/versions")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["root_id"] == ids["a"] and body["current_id"] == ids["c"]
    nodes = {node["id"]: node for node in body["nodes"]}
    assert set(nodes) == set(ids.values())
    assert {name: nodes[ids[name]]["parent_id"] for name in "abcd"} == {
        "a": None,
        "b": ids["a"],
        "c": ids["b"],
        "d": ids["a"],
    }
    assert [node["id"] for node in body["nodes"]] == [ids["d"], ids["c"], ids["b"], ids["a"]]  # newest first
    assert [node["current"] for node in body["nodes"]] == [False, True, False, False]
    for node in body["nodes"]:
        assert node["task"] == "erase" and node["status"] == SUCCEEDED
        assert node["thumbnail_url"].startswith("http") and node["created_at"]
    # The same tree from the other branch.
    other = api.get(f"/api/v1/edits/{ids['d']}/versions").json()
    assert {node["id"] for node in other["nodes"]} == set(ids.values())


def test_someone_elses_tree_is_404(api, two_branches, make_user, sign_in):
    from rest_framework.test import APIClient

    stranger = APIClient()
    stranger.credentials(HTTP_AUTHORIZATION=f"Bearer {sign_in(make_user()[0])['access_token']}")
    assert stranger.get(f"/api/v1/edits/{two_branches['a']}/versions").status_code == 404


def test_history_shows_one_card_per_photo_with_its_version_count(api, two_branches):
    client = page_sign_in(api.user["username"])
    page = client.get("/history").content.decode()
    cards = re.findall(r'<li class="history-item"', page)
    assert len(cards) == 1
    assert 'data-versions="4"' in page and "4 versions" in page
    assert f"/edits/{two_branches['d']}" in page  # the newest version stands for the photo


def test_the_detail_page_shows_the_tree_with_the_current_version_highlighted(api, two_branches):
    ids = two_branches
    client = page_sign_in(api.user["username"])
    page = client.get(f"/edits/{ids['b']}").content.decode()
    rows = re.findall(r'<li class="version-node depth-(\d)( is-current)?" data-version="([0-9a-f-]+)"', page)
    # Reading order: each parent before its children, oldest first, indented by depth.
    assert [(int(depth), version, bool(current)) for depth, current, version in rows] == [
        (0, ids["a"], False),
        (1, ids["b"], True),
        (2, ids["c"], False),
        (1, ids["d"], False),
    ]
    assert page.count('aria-current="true"') == 1
    assert f'data-continue="{ids["a"]}"' in page  # any node can be continued from
    assert 'id="version-compare"' in page  # compared with its parent
    assert "1 later version(s)" in page and 'value="keep"' in page and 'value="branch"' in page


def test_deleting_a_middle_version_keeping_its_children_makes_them_roots(api, two_branches):
    ids = two_branches
    client = page_sign_in(api.user["username"])
    response = client.post(f"/edits/{ids['b']}/delete", {"children": "keep"})
    assert response.status_code == 302
    assert api.get(f"/api/v1/edits/{ids['b']}").status_code == 404
    c = api.get(f"/api/v1/edits/{ids['c']}/versions").json()
    assert [node["id"] for node in c["nodes"]] == [ids["c"]] and c["root_id"] == ids["c"]
    a = api.get(f"/api/v1/edits/{ids['a']}/versions").json()
    assert {node["id"] for node in a["nodes"]} == {ids["a"], ids["d"]}
    assert "kept as photos of their own" in client.get("/history").content.decode()


def test_deleting_a_version_with_its_branch_deletes_every_later_version(api, two_branches):
    ids = two_branches
    client = page_sign_in(api.user["username"])
    assert client.post(f"/edits/{ids['a']}/delete", {"children": "branch"}).status_code == 302
    for edit_id in ids.values():
        assert api.get(f"/api/v1/edits/{edit_id}").status_code == 404
    assert "3 later version(s)" in client.get("/history").content.decode()


@pytest.mark.parametrize("choice", ["keep ", "Keep", "yes", ""])
def test_a_misspelt_deletion_choice_deletes_nothing(api, two_branches, choice):
    # Once any value but "keep" deleted the whole branch (issue 19: no guessing on a misspelt choice).
    client = page_sign_in(api.user["username"])
    response = client.post(f"/edits/{two_branches['a']}/delete", {"children": choice})
    assert response.status_code == 400 and "nothing was deleted" in response.content.decode()
    for edit_id in two_branches.values():
        assert api.get(f"/api/v1/edits/{edit_id}").status_code == 200


def test_an_edit_from_before_the_tree_becomes_the_root_of_its_continuations(api):
    old = done(post_edit(api, "erase", image=photo_png(), mask=mask_png()))
    # As an item written before the tree existed: no root, no tree key.
    ImageEdit(id=old).update(actions=[ImageEdit.root_id.remove(), ImageEdit.tree_key.remove()])
    assert [node["id"] for node in api.get(f"/api/v1/edits/{old}/versions").json()["nodes"]] == [old]
    new = done(post_edit(api, "erase", parent_id=old, mask=mask_png(box=(10, 10, 30, 30))))
    body = api.get(f"/api/v1/edits/{new}/versions").json()
    assert body["root_id"] == old
    assert {node["id"]: node["parent_id"] for node in body["nodes"]} == {old: None, new: old}


def card_versions(client) -> list[str]:
    return re.findall(r'data-versions="(\d+)"', client.get("/history").content.decode())


def test_the_root_counts_its_versions_as_they_are_made_and_deleted(api, two_branches):
    ids = two_branches
    root = ImageEdit.get(ids["a"], consistent_read=True)
    assert (root.version_count, root.version_counted) == (4, 1)
    client = page_sign_in(api.user["username"])
    assert client.post(f"/edits/{ids['c']}/delete", {"children": "branch"}).status_code == 302
    assert ImageEdit.get(ids["a"], consistent_read=True).version_count == 3
    assert card_versions(client) == ["3"]
    # b kept apart with no later versions of its own: a keeps a and d.
    assert client.post(f"/edits/{ids['b']}/delete", {"children": "keep"}).status_code == 302
    assert card_versions(client) == ["2"]


def test_keeping_children_gives_each_new_root_its_subtree_count(api, two_branches):
    ids = two_branches
    client = page_sign_in(api.user["username"])
    assert client.post(f"/edits/{ids['a']}/delete", {"children": "keep"}).status_code == 302
    b, d = (ImageEdit.get(ids[name], consistent_read=True) for name in "bd")
    assert (b.version_count, d.version_count) == (2, 1)  # b with c; d alone
    assert sorted(card_versions(client)) == ["2"]  # a card shows a count only past one version


def test_a_tree_from_before_the_counter_is_counted_once_then_read_from_its_root(
    api, two_branches, monkeypatch
):
    ids = two_branches
    ImageEdit(id=ids["a"]).update(
        actions=[ImageEdit.version_count.remove(), ImageEdit.version_counted.remove()]
    )
    client = page_sign_in(api.user["username"])
    assert card_versions(client) == ["4"]  # counted on the index, and recorded
    assert ImageEdit.get(ids["a"], consistent_read=True).version_count == 4
    monkeypatch.setattr("editor.views.pages.HISTORY_PAGE_SIZE", 2)  # d and c: the root is off the page
    calls = DynamoCalls(monkeypatch)
    assert card_versions(client) == ["4"]
    queries = [params for operation, params in calls.seen if operation == "Query"]
    assert len(queries) == 1 and "Select" not in queries[0]  # the page's Query; no COUNT any more
    assert calls.names().count("BatchGetItem") == 1  # the root's counter


def test_the_history_page_reads_one_query_when_every_root_is_on_it(api, monkeypatch):
    for _ in range(3):
        done(post_edit(api, "erase", image=photo_png(), mask=mask_png()))
    client = page_sign_in(api.user["username"])
    calls = DynamoCalls(monkeypatch)
    page = client.get("/history").content.decode()
    assert len(re.findall(r'<li class="history-item"', page)) == 3
    history_reads = [name for name in calls.names() if name in ("Query", "BatchGetItem", "Scan")]
    assert history_reads == ["Query"]

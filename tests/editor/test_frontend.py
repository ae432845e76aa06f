"""The editor's front end seen from the server: small ES modules it serves, and the task rules they read."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

from editor.services.bedrock.tasks import GROUPS
from tests.editor.helpers import page_sign_in

STATIC = Path(__file__).resolve().parents[2] / "editor" / "static" / "editor"
MAX_MODULE_LINES = 400
_IMPORT = re.compile(r"""^\s*import\s[^;]*?from\s+["']\./([\w.-]+\.js)["']""", re.MULTILINE | re.DOTALL)


def _imports(name: str) -> list[str]:
    return _IMPORT.findall((STATIC / name).read_text(encoding="utf-8"))


def _module_graph(entry: str) -> dict[str, list[str]]:
    """Every module reachable from the entry by its static relative imports, with what each imports."""
    graph: dict[str, list[str]] = {}
    pending = [entry]
    while pending:
        name = pending.pop()
        if name not in graph:
            graph[name] = _imports(name)
            pending.extend(graph[name])
    return graph


def test_every_javascript_module_is_at_most_400_lines():
    modules = sorted(STATIC.glob("*.js"))
    assert modules
    lengths = {path.name: len(path.read_text(encoding="utf-8").splitlines()) for path in modules}
    assert {name: n for name, n in lengths.items() if n > MAX_MODULE_LINES} == {}


def test_the_editor_modules_import_without_a_cycle():
    graph = _module_graph("editor.js")
    assert {"api.js", "stage.js", "fields.js", "result.js", "mask.js"} <= set(graph)
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        assert name not in path, f"import cycle: {' -> '.join((*path, name))}"
        if name not in done:
            for imported in graph[name]:
                visit(imported, (*path, name))
            done.add(name)

    visit("editor.js", ())


@pytest.mark.usefixtures("local_stack")
class TestServedModules:
    @pytest.fixture
    def client(self, user):
        return page_sign_in(user["username"])

    def test_the_editor_page_loads_its_entry_as_a_module(self, client):
        html = client.get("/").content.decode()
        assert re.search(r'<script type="module" src="/static/editor/editor\.js"></script>', html)

    def test_every_imported_module_is_served_as_javascript(self, client):
        # A module script with any other MIME type is refused by the browser, and the CSP allows only 'self'.
        modules = _module_graph("editor.js")
        assert "editor.js" in modules and len(modules) > 1, modules
        for name in modules:
            response = client.get(f"/static/editor/{name}")
            assert response.status_code == 200, name
            content_type = response["Content-Type"].split(";")[0]
            assert content_type in ("text/javascript", "application/javascript"), name
            body = b"".join(response.streaming_content) if response.streaming else response.content
            assert body == (STATIC / name).read_bytes(), name

    def test_models_answer_carries_the_task_rules_the_editor_reads(self, client):
        models = client.get("/api/v1/models").json()
        html = client.get("/").content.decode()
        radios = re.findall(r'<input type="radio" name="task" value="([\w]+)"', html)
        tasks = models["tasks"]
        assert [task["task"] for task in tasks] == radios  # the same tasks, in the page's order
        fields = set(re.findall(r'data-field="([\w]+)"', html))
        for task in tasks:
            assert task["label"] and task["help"], task
            assert isinstance(task["image"], bool) and isinstance(task["mask"], bool), task
            assert task["prompt"] in ("required", "optional", "upscale", "none"), task
            assert set(task["fields"]) <= fields, task  # every field named is one the page has
            assert task["search_prompt"] == ("search_prompt" in task["fields"]), task
            assert task["select_prompt"] == ("select_prompt" in task["fields"]), task
            assert task["group"] in GROUPS and f'data-group="{task["group"]}"' in html, task
            assert (task["prompt"] == "none") == ("prompt" not in task["fields"]), task
            assert not task["mask"] or task["image"], task
            assert f"<span>{task['label']}</span>" in html, task
        if any(task["second_image"] for task in tasks):
            assert 'id="style-image-input"' in html  # the second image picker the tool needs
        assert models["url_lifetime_seconds"] == settings.PRESIGNED_URL_TTL_SECONDS
        assert models["engine"]["local"] is True and models["engine"]["label"]

"""The layering holds: no import cycle in editor/ (imports inside functions count), reads never import
services, services never import the web layer, and no module grows past 400 lines."""

from __future__ import annotations

import ast
from pathlib import Path

EDITOR = Path(__file__).resolve().parents[2] / "editor"
MAX_LINES = 400


def _module_name(path: Path) -> str:
    parts = path.relative_to(EDITOR.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in EDITOR.rglob("*.py")}


def _imports(name: str) -> set[str]:
    """Every module this one imports, wherever the import statement is (top level or in a function)."""
    found = set()
    for node in ast.walk(ast.parse(MODULES[name].read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{name}: relative imports are not used in editor/"
            base = node.module
            # `from package import module` imports the module; `from module import name` the module.
            found.update(
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names
            )
    return found


GRAPH = {name: {target for target in _imports(name) if target in MODULES} for name in MODULES}


def _cycle() -> list[str] | None:
    """A cycle in the import graph, as the list of modules around it, or None."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        stack.append(node)
        for target in sorted(GRAPH[node]):
            if state.get(target) == "open":
                return [*stack[stack.index(target) :], target]
            if target not in state and (found := visit(target)):
                return found
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(GRAPH):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_graph_sees_imports_inside_functions_and_of_modules():
    # views/schema.py imports drf_spectacular only inside functions; the walk must find it.
    assert "drf_spectacular.views" in _imports("editor.views.schema")
    # `from editor.services import storage` is an edge to the module, not to the package.
    assert "editor.services.storage" in GRAPH["editor.services.edits.creation"]
    assert "editor.services.edits.running" in GRAPH["editor.services.jobs"]


def test_no_import_cycle_in_editor():
    assert _cycle() is None, " -> ".join(_cycle())


def test_selectors_only_read():
    selectors = [name for name in MODULES if name.startswith("editor.selectors.")]
    assert selectors, "no selector modules found"
    for name in selectors:
        imported = _imports(name)
        assert not any(target.startswith("editor.services") for target in imported), (name, imported)


def test_services_do_not_import_the_web_layer():
    for name in MODULES:
        if not name.startswith("editor.services"):
            continue
        forbidden = {
            target
            for target in _imports(name)
            if target.split(".")[0] == "rest_framework"
            or target.startswith(("editor.views", "editor.authentication", "editor.serializers"))
        }
        assert not forbidden, f"{name} imports {sorted(forbidden)}"


def test_no_python_module_over_the_limit():
    lines = {name: len(path.read_text().splitlines()) for name, path in MODULES.items()}
    assert not {name: n for name, n in lines.items() if n > MAX_LINES}

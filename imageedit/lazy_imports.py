"""Modules the first request does not use, made to load on first use (importlib.util.LazyLoader).

DRF imports yaml when present (drf-spectacular brings it; only the schema needs it), and the app's
image modules import Pillow at their top; a page, a sign-in or a history read touches neither. A lazy
module is a placeholder in sys.modules that runs the real import the first time an attribute is read,
so code that uses them is unchanged. Installed by imageedit/__init__.py, before Django or DRF load.
"""

from __future__ import annotations

import importlib.util
import sys

LAZY_MODULES = (
    "yaml",
    "PIL.Image",
    "PIL.ImageChops",
    "PIL.ImageCms",
    "PIL.ImageDraw",
    "PIL.ImageFilter",
    "PIL.ImageOps",
)


def _drf_yaml_lazy() -> None:
    """DRF's compat module runs `import yaml`, and the import statement reads the module's __spec__, which
    loads a lazy module at once. So DRF is imported while yaml looks absent, then given the placeholder:
    DRF's own OpenAPIRenderer (the one user of it; the schema here is drf-spectacular's) loads it on use."""
    if "rest_framework.compat" in sys.modules or "yaml" not in sys.modules:
        return
    placeholder = sys.modules["yaml"]
    sys.modules["yaml"] = None  # `import yaml` raises ImportError, which DRF expects when it is absent
    try:
        import rest_framework.compat
    finally:
        sys.modules["yaml"] = placeholder
    rest_framework.compat.yaml = placeholder


def lazy_loader_is_thread_safe(version: tuple[int, int, int] = sys.version_info[:3]) -> bool:
    """LazyLoader lets a second thread see a half-loaded module before CPython 3.11.9 / 3.12.3 (gh-114763).

    Edit jobs and their candidate calls run on threads, so older interpreters load everything eagerly."""
    return (3, 11, 9) <= version < (3, 12) or version >= (3, 12, 3)


def lazy_imports_install(names: tuple[str, ...] = LAZY_MODULES) -> list[str]:
    """Put a lazy placeholder in sys.modules for each module not loaded yet; return those made lazy."""
    made = []
    if not lazy_loader_is_thread_safe():
        return made
    for name in names:
        if name in sys.modules:
            continue
        try:
            spec = importlib.util.find_spec(name)  # imports the parent package (PIL's is a few lines)
        except (ImportError, ValueError):
            continue
        if spec is None or spec.loader is None:
            continue
        spec.loader = importlib.util.LazyLoader(spec.loader)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        parent, _, child = name.rpartition(".")
        if parent:
            setattr(sys.modules[parent], child, module)
        made.append(name)
    if "yaml" in made:
        _drf_yaml_lazy()
    return made

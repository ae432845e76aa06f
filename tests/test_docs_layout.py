"""The README stays short, every link in it and in docs/ leads somewhere that exists, and every setting
the code reads is in docs/configuration.md."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted((ROOT / "docs").glob("*.md"))
# Docs written on branches not merged yet, which a link may name until they land (none now).
PENDING: set[str] = set()
LINK = re.compile(r"\]\(([^)#\s]+)(#[^)]*)?\)")


def _relative_links(path: Path) -> list[str]:
    return [target for target, _ in LINK.findall(path.read_text()) if "://" not in target]


def test_the_readme_is_at_most_200_lines():
    assert len((ROOT / "README.md").read_text().splitlines()) <= 200


def test_the_topics_are_in_docs():
    names = {path.name for path in DOCS}
    expected = {"api.md", "photos.md", "accounts.md", "versions-and-provenance.md", "configuration.md"}
    assert expected | {"deploy.md", "local-stack.md", "performance.md"} <= names


def test_every_relative_link_leads_to_a_file():
    checked = 0
    for document in [ROOT / "README.md", *DOCS]:
        for target in _relative_links(document):
            resolved = (document.parent / target).resolve()
            name = str(resolved.relative_to(ROOT)) if resolved.is_relative_to(ROOT) else str(resolved)
            checked += 1
            assert resolved.exists() or name in PENDING, f"{document.name} links to missing {target}"
    assert checked > 20, checked


def test_every_setting_read_from_the_environment_is_in_the_configuration_table():
    settings_source = (ROOT / "imageedit" / "settings.py").read_text()
    names = set(re.findall(r'(?:env(?:\.\w+)?|required)\(\s*"([A-Z][A-Z0-9_]+)"', settings_source))
    assert len(names) > 40, names  # the pattern still finds the settings
    documented = (ROOT / "docs" / "configuration.md").read_text()
    assert not sorted(name for name in names if f"`{name}`" not in documented)

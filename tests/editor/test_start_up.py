"""What a cold start loads: every view, without the modules only some requests need; all of it when warmed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

LOAD_EVERY_VIEW = """
import json, os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imageedit.settings")
import django
django.setup()
from django.urls import get_resolver
get_resolver().url_patterns
print(json.dumps(sorted(sys.modules)))
"""
# Only the schema needs these (drf_spectacular.utils imports django.test), only a token needs jose.
ON_FIRST_USE = {"drf_spectacular.utils", "django.test", "unittest", "jose.jwt", "cryptography"}


def _modules_after_start(warm: bool) -> set[str]:
    environment = {**os.environ, "IMAGEEDIT_WARM_ON_START": "true" if warm else "false"}
    result = subprocess.run(
        [sys.executable, "-c", LOAD_EVERY_VIEW],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


def test_a_cold_start_loads_every_view_but_not_what_only_some_requests_need():
    modules = _modules_after_start(warm=False)
    assert {"editor.views.edits", "editor.views.accounts", "editor.services.auth.tokens"} <= modules
    assert not ON_FIRST_USE & modules


def test_the_snapstart_init_phase_loads_what_a_token_needs():
    modules = _modules_after_start(warm=True)
    assert {"jose.jwt", "jose.exceptions", "editor.views.edits"} <= modules


def test_lazy_imports_only_where_lazy_loading_is_thread_safe():
    from imageedit.lazy_imports import lazy_loader_is_thread_safe

    # gh-114763: fixed in 3.11.9 and 3.12.3; edit jobs run on threads, so older interpreters load eagerly.
    assert not lazy_loader_is_thread_safe((3, 11, 7))
    assert lazy_loader_is_thread_safe((3, 11, 9))
    assert not lazy_loader_is_thread_safe((3, 12, 1))
    assert lazy_loader_is_thread_safe((3, 12, 3))
    assert lazy_loader_is_thread_safe((3, 13, 0))

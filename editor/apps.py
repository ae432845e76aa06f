"""App configuration: binds the PynamoDB tables to the settings once Django is ready."""

import importlib
import logging

from django.apps import AppConfig

WARM_MODULES = ("jose.jwt", "jose.exceptions")


class EditorConfig(AppConfig):
    name = "editor"

    def ready(self) -> None:
        from django.conf import settings

        from editor.models import bind_tables

        bind_tables()
        if settings.WARM_ON_START:
            # Load every view now, in Lambda's init phase, which SnapStart snapshots: the first request
            # after a restore then finds the URLconf, DRF and the services already imported.
            from django.urls import get_resolver

            get_resolver().url_patterns  # noqa: B018
            # What the views import on first use only (a cold start without SnapStart skips them).
            for module in WARM_MODULES:
                importlib.import_module(module)
            # The Content Credentials bindings (~0.6 s to load here) are imported lazily by the job;
            # in the snapshot they cost a restored function nothing.
            try:
                import c2pa  # noqa: F401
            except ImportError:
                logging.getLogger(__name__).warning("c2pa is not installed: is the layer attached?")

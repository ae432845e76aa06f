"""App configuration: binds the PynamoDB tables to the settings once Django is ready."""

from django.apps import AppConfig


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

"""App configuration: binds the PynamoDB tables to the settings once Django is ready."""

from django.apps import AppConfig


class EditorConfig(AppConfig):
    name = "editor"

    def ready(self) -> None:
        from editor.models import bind_tables

        bind_tables()

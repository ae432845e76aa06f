"""`manage.py create_tables` (or `zappa manage <stage> create_tables`): create missing DynamoDB tables."""

from django.core.management.base import BaseCommand

from editor.models import tables_create


class Command(BaseCommand):
    help = "Create the edits and session tables (on-demand, TTL on expires_at, PITR) if they do not exist."

    def handle(self, *args, **options):
        created = tables_create()
        self.stdout.write(f"created: {', '.join(created)}" if created else "tables already exist")

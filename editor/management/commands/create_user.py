"""Add a confirmed user to the Cognito pool (local or real), since sign-up may be closed in production."""

from django.core.management.base import BaseCommand, CommandError

from editor.services.cognito import cognito_user_create


class Command(BaseCommand):
    help = "Create (or reset the password of) a Cognito user with a permanent password."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--password", required=True)
        parser.add_argument("--email", default="")
        parser.add_argument("--pool-id", default="", help="defaults to COGNITO_USER_POOL_ID")

    def handle(self, *args, username, password, email, pool_id, **options):
        from botocore.exceptions import ClientError

        try:
            sub = cognito_user_create(username=username, password=password, email=email, pool_id=pool_id)
        except ClientError as exc:
            raise CommandError(exc.response["Error"].get("Message") or str(exc)) from exc
        self.stdout.write(f"user {username} ready (sub {sub})")

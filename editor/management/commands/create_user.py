"""Add a user to the Cognito pool (local or real): confirmed with a password, or invited by email."""

from django.core.management.base import BaseCommand, CommandError

from editor.services.auth.cognito import cognito_user_create, cognito_user_group_add


class Command(BaseCommand):
    help = (
        "Create (or reset the password of) a Cognito user with a permanent password, or with --temporary "
        "invite them: Cognito emails a temporary password (locally: the outbox) to change at first sign-in."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--password", default="", help="the permanent password (not with --temporary)")
        parser.add_argument(
            "--temporary", action="store_true", help="invite by email with a temporary password"
        )
        parser.add_argument("--email", default="")
        parser.add_argument("--pool-id", default="", help="defaults to COGNITO_USER_POOL_ID")
        parser.add_argument(
            "--group", action="append", default=[], help="add to this group, e.g. administrators (repeatable)"
        )

    def handle(self, *args, username, password, temporary, email, pool_id, group, **options):
        from botocore.exceptions import ClientError

        if temporary and (password or not email):
            raise CommandError("--temporary needs --email (where the invitation goes) and no --password.")
        if not temporary and not password:
            raise CommandError("Give --password, or --temporary --email to send an invitation.")
        try:
            if temporary:
                from editor.services.auth.accounts import account_invite

                sub, _ = account_invite(username=username, email=email, pool_id=pool_id)
                message = f"user {username} invited (sub {sub}); the temporary password went to {email}"
            else:
                sub = cognito_user_create(username=username, password=password, email=email, pool_id=pool_id)
                message = f"user {username} ready (sub {sub})"
            for name in group:
                cognito_user_group_add(username=username, group=name, pool_id=pool_id)
        except ClientError as exc:
            raise CommandError(exc.response["Error"].get("Message") or str(exc)) from exc
        self.stdout.write(message + "".join(f"; in group {name}" for name in group))

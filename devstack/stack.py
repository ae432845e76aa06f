"""The embedded local stack: moto in server mode, the local Bedrock engine, and idempotent provisioning."""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import boto3

from devstack.persistence import SerialisedMoto, StateStore
from devstack.signing import SigningSetup, kms_digest_signing_install, signing_provision

logger = logging.getLogger(__name__)

REGION = "us-east-1"
POOL_NAME = "imageedit-local"
ADMINISTRATORS = "administrators"
CLIENT_NAME = "imageedit-web"
# moto's ids come from its random generator; the state keeps the ids made, the seed makes a fresh stack's
# ids the same on every machine.
MOTO_SEED = 20261124
# The local app's origins, whatever its port (S3 CORS allows one wildcard per origin).
LOCAL_ORIGINS = ("http://127.0.0.1:*", "http://localhost:*")
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


def _batch_defaults(stage: str = "production") -> tuple[str, int, int]:
    """The batch queue as the stage has it: its name (from zappa_settings.json's event ARN), visibility
    timeout (6 x timeout_seconds) and maxReceiveCount (the app's BATCH_MAX_RECEIVES)."""
    from deploy.stack_parameters import batch_event, stack_parameters, stage_settings

    config = stage_settings(stage)
    name = batch_event(config)["event_source"]["arn"].rsplit(":", 1)[1]
    visibility = int(stack_parameters(stage)["BatchVisibilityTimeoutSeconds"])
    return name, visibility, int(config["environment_variables"].get("BATCH_MAX_RECEIVES", "5"))


_BATCH_QUEUE, _BATCH_VISIBILITY, _BATCH_RECEIVES = _batch_defaults()


@dataclass(frozen=True)
class Names:
    table: str = "ImageGenerationTable"
    session_table: str = "ImageEditSessionTable"
    bucket: str = "imageedit-local"
    batch_queue: str = _BATCH_QUEUE
    batch_visibility_timeout: int = _BATCH_VISIBILITY
    batch_max_receives: int = _BATCH_RECEIVES

    @property
    def batch_dead_letter_queue(self) -> str:
        return f"{self.batch_queue}-dlq"


@dataclass(frozen=True)
class Provisioned:
    pool_id: str
    client_id: str
    batch_queue_url: str = ""
    batch_queue_arn: str = ""
    batch_dlq_url: str = ""


class LocalStack:
    """Start moto and the Bedrock-compatible engine on 127.0.0.1; state persists in `state_dir` if given."""

    def __init__(
        self,
        *,
        state_dir: Path | None = None,
        moto_port: int = 0,
        bedrock_port: int = 0,
        names: Names = Names(),
    ) -> None:
        self.state_dir = state_dir
        self.moto_port = moto_port
        self.bedrock_port = bedrock_port
        self.names = names
        self.moto_url = ""
        self.bedrock_url = ""
        self.provisioned: Provisioned | None = None
        self.warnings: list[str] = []
        self._moto = None
        self._moto_app: SerialisedMoto | None = None
        self._moto_thread: threading.Thread | None = None
        self._bedrock = None
        self.signing: SigningSetup | None = None
        self._outbox_tmp: Path | None = None
        self.outbox = None

    @property
    def outbox_dir(self) -> Path:
        """Where what Cognito would email is delivered (a private temporary folder without state_dir)."""
        if self.state_dir:
            return self.state_dir / "outbox"
        if self._outbox_tmp is None:
            self._outbox_tmp = Path(tempfile.mkdtemp(prefix="imageedit-outbox-"))
        return self._outbox_tmp

    def start(self) -> LocalStack:
        from moto.moto_server.threaded_moto_server import MotoRequestHandler
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
        from werkzeug.serving import make_server
        from werkzeug.test import Client

        from devstack import cognito_standin, s3_post
        from devstack.bedrock.server import BedrockServer
        from devstack.moto_transactions import moto_transactions_patch

        kms_digest_signing_install()
        s3_post.install()
        moto_transactions_patch()
        app = DomainDispatcherApplication(create_backend_app)
        Client(app).post(f"/moto-api/seed?a={MOTO_SEED}")
        store = None
        if self.state_dir:
            store = StateStore(self.state_dir, skip_tables=frozenset({self.names.session_table}))
            self.warnings = store.open(app)
            for warning in self.warnings:
                logger.warning(warning)
        self._moto_app = SerialisedMoto(app, store)
        self._moto = make_server(
            "127.0.0.1", self.moto_port, self._moto_app, threaded=True, request_handler=MotoRequestHandler
        )
        self._moto_thread = threading.Thread(target=self._moto.serve_forever, daemon=True, name="moto")
        self._moto_thread.start()
        host, port = self._moto.server_address[:2]
        self.moto_url = f"http://{host}:{port}"
        os.environ.update(CREDENTIALS)
        # After the replay: replayed codes were accepted by plain moto and must not be mailed again.
        key_file = self.state_dir / cognito_standin.KEY_FILE if self.state_dir else None
        self.outbox = cognito_standin.install(outbox_dir=self.outbox_dir, key_file=key_file)
        self.provisioned = provision(self.moto_url, self.names)
        self.signing = signing_provision(_client("kms", self.moto_url), self.state_dir)
        self._bedrock = BedrockServer(port=self.bedrock_port)
        self._bedrock.start()
        self.bedrock_url = self._bedrock.url
        return self

    def stop(self) -> None:
        if self._bedrock:
            self._bedrock.stop()
        if self._moto:
            self._moto.shutdown()
            self._moto.server_close()
            self._moto_thread.join(timeout=10)
            self._moto = None
        if self._moto_app:
            self._moto_app.close()  # waits for a write in flight, then releases the state directory
            self._moto_app = None

    def app_environment(self) -> dict[str, str]:
        """The environment variables that point the app at this stack."""
        assert self.provisioned, "start() first"
        pool_id = self.provisioned.pool_id
        return {
            **CREDENTIALS,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ENDPOINT_URL": self.moto_url,
            "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": self.bedrock_url,
            "BEDROCK_LOCAL_ENGINE": "true",
            "DYNAMODB_TABLE": self.names.table,
            "SESSION_TABLE": self.names.session_table,
            "S3_BUCKET": self.names.bucket,
            "COGNITO_USER_POOL_ID": pool_id,
            "COGNITO_APP_CLIENT_ID": self.provisioned.client_id,
            # Tokens carry AWS's issuer string; moto serves the keys itself.
            "COGNITO_ISSUER": f"https://cognito-idp.{REGION}.amazonaws.com/{pool_id}",
            "COGNITO_JWKS_URL": f"{self.moto_url}/{pool_id}/.well-known/jwks.json",
            # Content Credentials: the production KMS signer, with a development certificate chain.
            "C2PA_KMS_KEY_ID": self.signing.key_id,
            "C2PA_CERT_CHAIN": self.signing.cert_chain,
            "C2PA_DEVELOPMENT": "true",
            "BATCH_QUEUE_URL": self.provisioned.batch_queue_url,
            "BATCH_DLQ_URL": self.provisioned.batch_dlq_url,
            "BATCH_MAX_RECEIVES": str(self.names.batch_max_receives),
        }

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _client(service: str, endpoint: str):
    return boto3.client(
        service,
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


def local_mfa_setting() -> str:
    """LOCAL_COGNITO_MFA: OFF, OPTIONAL (the default) or ON, as the template's MfaConfiguration."""
    value = os.environ.get("LOCAL_COGNITO_MFA", "OPTIONAL").strip().upper()
    if value not in ("OFF", "OPTIONAL", "ON"):
        raise SystemExit(f"LOCAL_COGNITO_MFA must be OFF, OPTIONAL or ON, not {value!r}.")
    return value


def provision(endpoint: str, names: Names) -> Provisioned:
    """Create, if missing, the bucket, the user pool and its app client. Idempotent.

    The tables are the app's own business: `manage.py create_tables` makes them, here as in AWS.
    """
    s3 = _client("s3", endpoint)
    if names.bucket not in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
        s3.create_bucket(Bucket=names.bucket)
    # As in infra/template.yaml: the app's pages read images and POST uploads straight to the bucket.
    s3.put_bucket_cors(
        Bucket=names.bucket,
        CORSConfiguration={
            "CORSRules": [
                {
                    "ID": "page-reads-images-and-posts-uploads",
                    "AllowedMethods": ["GET", "HEAD", "POST"],
                    "AllowedOrigins": list(LOCAL_ORIGINS),
                    "AllowedHeaders": ["*"],
                    "ExposeHeaders": ["ETag", "Content-Length", "Content-Type"],
                    "MaxAgeSeconds": 3000,
                }
            ]
        },
    )

    cognito = _client("cognito-idp", endpoint)
    pools = cognito.list_user_pools(MaxResults=60)["UserPools"]
    pool_id = next((p["Id"] for p in pools if p["Name"] == POOL_NAME), None)
    if pool_id is None:
        pool_id = cognito.create_user_pool(
            PoolName=POOL_NAME,
            Policies={
                "PasswordPolicy": {
                    "MinimumLength": 8,
                    "RequireNumbers": True,
                    "RequireSymbols": False,
                    "RequireUppercase": True,
                    "RequireLowercase": True,
                }
            },
            # Self sign-up is on locally (the template's AllowSelfSignUp=true); codes go to the outbox.
            AdminCreateUserConfig={"AllowAdminCreateUserOnly": False},
            AutoVerifiedAttributes=["email"],
            AccountRecoverySetting={"RecoveryMechanisms": [{"Name": "verified_email", "Priority": 1}]},
            UsernameConfiguration={"CaseSensitive": False},
        )["UserPool"]["Id"]
    # A second factor (TOTP) is optional locally, as the template's default; LOCAL_COGNITO_MFA=ON makes
    # everyone set one up at their next sign-in (MFA_SETUP), OFF switches it off. Applied at every start.
    mfa = local_mfa_setting()
    if cognito.get_user_pool_mfa_config(UserPoolId=pool_id).get("MfaConfiguration") != mfa:
        cognito.set_user_pool_mfa_config(
            UserPoolId=pool_id,
            SoftwareTokenMfaConfiguration={"Enabled": mfa != "OFF"},
            MfaConfiguration=mfa,
        )
    # As infra/template.yaml's AdministratorsGroup: members see the deployment's spend (GET /api/v1/usage).
    groups = cognito.list_groups(UserPoolId=pool_id)["Groups"]
    if ADMINISTRATORS not in {group["GroupName"] for group in groups}:
        cognito.create_group(
            UserPoolId=pool_id, GroupName=ADMINISTRATORS, Description="Operators of this deployment"
        )
    clients = cognito.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)["UserPoolClients"]
    client_id = next((c["ClientId"] for c in clients if c["ClientName"] == CLIENT_NAME), None)
    if client_id is None:
        client_id = cognito.create_user_pool_client(
            UserPoolId=pool_id,
            ClientName=CLIENT_NAME,
            GenerateSecret=False,
            ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            EnableTokenRevocation=True,
        )["UserPoolClient"]["ClientId"]
    return Provisioned(pool_id=pool_id, client_id=client_id, **batch_queues_provision(endpoint, names))


def batch_queues_provision(endpoint: str, names: Names) -> dict[str, str]:
    """The batch queue and its dead-letter queue, as infra/template.yaml makes them. moto's SQS is not
    journalled: after a restart the app requeues unfinished items from DynamoDB (docs/batches.md)."""
    import json

    sqs = _client("sqs", endpoint)
    dlq_url = sqs.create_queue(QueueName=names.batch_dead_letter_queue)["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    url = sqs.create_queue(
        QueueName=names.batch_queue,
        Attributes={
            "VisibilityTimeout": str(names.batch_visibility_timeout),
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": names.batch_max_receives}
            ),
        },
    )["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return {"batch_queue_url": url, "batch_queue_arn": arn, "batch_dlq_url": dlq_url}


# The settings that app_environment() feeds through the environment, for an already-configured Django.
_SETTINGS_FROM_ENVIRONMENT = {
    "AWS_REGION": "AWS_REGION",
    "AWS_ENDPOINT_URL": "AWS_ENDPOINT_URL",
    "BEDROCK_ENDPOINT_URL": "AWS_ENDPOINT_URL_BEDROCK_RUNTIME",
    "DYNAMODB_TABLE": "DYNAMODB_TABLE",
    "SESSION_TABLE": "SESSION_TABLE",
    "S3_BUCKET": "S3_BUCKET",
    "COGNITO_USER_POOL_ID": "COGNITO_USER_POOL_ID",
    "COGNITO_APP_CLIENT_ID": "COGNITO_APP_CLIENT_ID",
    "COGNITO_ISSUER": "COGNITO_ISSUER",
    "COGNITO_JWKS_URL": "COGNITO_JWKS_URL",
    "C2PA_KMS_KEY_ID": "C2PA_KMS_KEY_ID",
    "C2PA_CERT_CHAIN": "C2PA_CERT_CHAIN",
    "C2PA_DEVELOPMENT": "C2PA_DEVELOPMENT",
    "BATCH_QUEUE_URL": "BATCH_QUEUE_URL",
    "BATCH_DLQ_URL": "BATCH_DLQ_URL",
}


def django_settings_point_at(stack: LocalStack) -> dict:
    """Point the running Django's settings at this stack (tests, benchmarks); return the previous values.

    Django reads the environment once at start; code that starts the stack later sets the values here and
    drops the cached clients, JWKS and table bindings.
    """
    from django.conf import settings

    environment = stack.app_environment()
    os.environ.update(CREDENTIALS)
    previous = {name: getattr(settings, name) for name in _SETTINGS_FROM_ENVIRONMENT}
    previous["BEDROCK_LOCAL_ENGINE"] = settings.BEDROCK_LOCAL_ENGINE
    values = {name: environment[variable] for name, variable in _SETTINGS_FROM_ENVIRONMENT.items()}
    django_settings_restore({**values, "BEDROCK_LOCAL_ENGINE": environment["BEDROCK_LOCAL_ENGINE"] == "true"})
    return previous


def django_settings_restore(values: dict) -> None:
    from django.conf import settings

    from editor.models import bind_tables
    from editor.services.auth.tokens import jwks_cache
    from editor.services.aws import aws_clients_reset

    for name, value in values.items():
        setattr(settings, name, value)
    aws_clients_reset()
    jwks_cache.clear()
    bind_tables()

"""AWS clients, built lazily once per process behind cached getters (boto3 clients are thread-safe)."""

from __future__ import annotations

import functools

import boto3
from botocore.config import Config
from django.conf import settings


@functools.cache
def _session() -> boto3.session.Session:
    return boto3.session.Session(region_name=settings.AWS_REGION)


def bedrock_client_config() -> Config:
    """Explicit timeouts, and retries that fit inside one job (checked in settings)."""
    return Config(
        connect_timeout=settings.BEDROCK_CONNECT_TIMEOUT_SECONDS,
        read_timeout=settings.BEDROCK_READ_TIMEOUT_SECONDS,
        retries={"mode": "standard", "total_max_attempts": settings.BEDROCK_MAX_ATTEMPTS},
    )


def _client_config(service: str) -> Config:
    if service == "bedrock-runtime":
        return bedrock_client_config()
    config = Config(connect_timeout=3, read_timeout=10, retries={"mode": "standard", "total_max_attempts": 3})
    if service == "s3":
        # As in AWS over HTTPS, where TLS guards the bytes: do not hash or checksum megabytes of image
        # in Python for every put (over plain HTTP to the local stack botocore would otherwise do both).
        config = config.merge(
            Config(
                signature_version="s3v4",
                s3={"payload_signing_enabled": False},
                request_checksum_calculation="when_required",
            )
        )
    return config


@functools.cache
def aws_client(service: str):
    """Return the shared client for `service`, pointed at the local stack when one is configured."""
    # The local engine also serves Bedrock's control plane (model lifecycle), so both clients go there; a
    # custom runtime endpoint in AWS (VPC, FIPS) is the runtime's alone.
    if service == "bedrock-runtime" or (service == "bedrock" and settings.BEDROCK_LOCAL_ENGINE):
        endpoint = settings.BEDROCK_ENDPOINT_URL
    else:
        endpoint = settings.AWS_ENDPOINT_URL
    return _session().client(service, endpoint_url=endpoint, config=_client_config(service))


def aws_credentials():
    """The process's credentials (refreshed by botocore when they rotate, as on Lambda)."""
    return _session().get_credentials()


def aws_clients_reset() -> None:
    """Forget cached clients, so the next call sees changed settings (used by the local stack and tests)."""
    aws_client.cache_clear()
    _session.cache_clear()

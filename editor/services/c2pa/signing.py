"""The C2PA signer: ES256 by a KMS key (the private key never leaves KMS), certificate chain from settings."""

from __future__ import annotations

import hashlib

from django.conf import settings

from editor.services.aws import aws_client


def signature_raw(der: bytes) -> bytes:
    """KMS answers an ASN.1 DER ECDSA signature; COSE's ES256 (RFC 9053) is r || s, 32 bytes each."""
    # Imported here: only the edit job signs, and cryptography costs a cold start ~10 ms to load.
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    r, s = decode_dss_signature(der)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def kms_sign(data: bytes) -> bytes:
    """Sign `data` with the configured KMS key, ES256.

    The digest is made here and sent as DIGEST: KMS takes at most 4,096 bytes of RAW message, and a claim
    with ingredients can be longer.
    """
    answer = aws_client("kms").sign(
        KeyId=settings.C2PA_KMS_KEY_ID,
        Message=hashlib.sha256(data).digest(),
        MessageType="DIGEST",
        SigningAlgorithm="ECDSA_SHA_256",
    )
    return signature_raw(answer["Signature"])


def signer_make():
    """A c2pa Signer that calls KMS for every signature (a Signer is single-use per manifest)."""
    import c2pa

    return c2pa.Signer.from_callback(
        kms_sign, c2pa.C2paSigningAlg.ES256, settings.C2PA_CERT_CHAIN, settings.C2PA_TSA_URL or None
    )

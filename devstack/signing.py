"""The local signing setup: a KMS key in moto, and a development certificate chain for its public key."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

KEY_ALIAS = "alias/imageedit-c2pa"
ORGANISATION = "imageedit development (not for publication)"


@dataclass(frozen=True)
class SigningSetup:
    key_id: str
    cert_chain: str  # PEM: the signer's certificate, then the development root
    root_cert: str


def kms_digest_signing_install() -> None:
    """Make moto's KMS Sign honour MessageType=DIGEST as AWS does (moto 5.2.5 hashes the digest again)."""
    from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
    from moto.kms.responses import KmsResponse

    if getattr(KmsResponse.sign, "digest_aware", False):
        return
    original = KmsResponse.sign

    def sign(self) -> str:
        if self._get_param("MessageType") != "DIGEST":
            return original(self)
        key = self.kms_backend.describe_key(self._get_param("KeyId"))
        message = self._get_param("Message")
        digest = message.encode() if isinstance(message, str) else message
        signature = key.private_key.private_key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256())))
        return json.dumps(
            {
                "KeyId": key.arn,
                "Signature": base64.b64encode(signature).decode(),
                "SigningAlgorithm": self._get_param("SigningAlgorithm"),
            }
        )

    sign.digest_aware = True
    KmsResponse.sign = sign


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION),
        ]
    )


def _usage(*, sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=not sign,
        crl_sign=not sign,
        encipher_only=False,
        decipher_only=False,
    )


def _root(directory: Path | None) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """The development root: made once and kept in `directory` (0600) when given, else per process."""
    key_path = directory / "c2pa-root-key.pem" if directory else None
    cert_path = directory / "c2pa-root-cert.pem" if directory else None
    if key_path and key_path.exists() and cert_path.exists():
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        return key, x509.load_pem_x509_certificate(cert_path.read_bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    name = _name("imageedit development root")
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(sign=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    if key_path:
        for path, data in (
            (
                key_path,
                key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                ),
            ),
            (cert_path, cert.public_bytes(serialization.Encoding.PEM)),
        ):
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
    return key, cert


def signer_certificate(public_key, root_key, root_cert: x509.Certificate) -> x509.Certificate:
    """An end-entity certificate for C2PA signing (digitalSignature, emailProtection) under the root."""
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(_name("imageedit development signer"))
        .issuer_name(root_cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(sign=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .sign(root_key, hashes.SHA256())
    )


def signing_provision(kms, state_dir: Path | None) -> SigningSetup:
    """The KMS key (moto keeps no keys across restarts, so a new one each start) and its certificate.

    The root stays the same across restarts when `state_dir` is given, so earlier results still chain to it.
    """
    key_id = kms.create_key(
        KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY", Description="imageedit Content Credentials (local)"
    )["KeyMetadata"]["KeyId"]
    public_key = serialization.load_der_public_key(kms.get_public_key(KeyId=key_id)["PublicKey"])
    root_key, root_cert = _root(state_dir)
    leaf = signer_certificate(public_key, root_key, root_cert)
    root_pem = root_cert.public_bytes(serialization.Encoding.PEM).decode()
    return SigningSetup(
        key_id=key_id,
        cert_chain=leaf.public_bytes(serialization.Encoding.PEM).decode() + root_pem,
        root_cert=root_pem,
    )

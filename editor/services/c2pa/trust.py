"""Who made a valid signature: this deployment (its own root), a signer on the C2PA trust list, or unknown."""

from __future__ import annotations

import functools
import logging
from pathlib import Path

from django.conf import settings

logger = logging.getLogger(__name__)

DEPLOYMENT, C2PA_LISTED, UNKNOWN = "deployment", "c2pa", "unknown"
TRUST_LABELS = {
    DEPLOYMENT: "Signed by this deployment",
    C2PA_LISTED: "Signed by a C2PA-trusted signer",
    UNKNOWN: "Valid signature, unknown signer",
}


def trust_settings(*, anchors: str, listed: bool) -> dict:
    """c2pa reader settings that check the signer's chain against `anchors` (PEM). Anchors given as the
    list's ("trust_anchors") or as the deployment's own ("user_anchors"): the reader says which matched."""
    trust = {("trust_anchors" if listed else "user_anchors"): anchors} if anchors else {}
    return {"verify": {"verify_trust": True}, "trust": trust}


def deployment_anchors() -> str:
    """This deployment's own root certificate(s), PEM: C2PA_DEPLOYMENT_ROOT_CERT, else the self-signed
    certificates at the end of C2PA_CERT_CHAIN (the local stack's development root, a private CA's root)."""
    return settings.C2PA_DEPLOYMENT_ROOT_CERT or _self_signed(settings.C2PA_CERT_CHAIN)


def trust_list_anchors() -> str:
    """The C2PA trust list's anchors (PEM bundle at C2PA_TRUST_LIST_PATH), or "" when none is configured."""
    return _file_text(settings.C2PA_TRUST_LIST_PATH) if settings.C2PA_TRUST_LIST_PATH else ""


def signer_is_deployments(signature_info: dict) -> bool:
    """Whether a signer certificate the trust list vouches for is this deployment's own (a deployment whose
    certificate a listed CA issued): its issuer and serial number are those of C2PA_CERT_CHAIN's first
    certificate. Only asked once the chain is trusted, so nobody can copy a serial number to pass."""
    ours = _leaf_identity(settings.C2PA_CERT_CHAIN)
    theirs = (signature_info.get("issuer"), str(signature_info.get("cert_serial_number") or ""))
    return ours is not None and ours == theirs


@functools.lru_cache(maxsize=4)
def _certificates(chain: str) -> tuple:
    from cryptography import x509

    if not chain.strip():
        return ()
    try:
        return tuple(x509.load_pem_x509_certificates(chain.encode()))
    except ValueError:
        logger.error("C2PA_CERT_CHAIN is not a PEM certificate chain")
        return ()


@functools.lru_cache(maxsize=4)
def _self_signed(chain: str) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding

    roots = [cert for cert in _certificates(chain) if cert.issuer == cert.subject]
    return "".join(cert.public_bytes(Encoding.PEM).decode() for cert in roots)


@functools.lru_cache(maxsize=4)
def _leaf_identity(chain: str) -> tuple[str | None, str] | None:
    from cryptography.x509.oid import NameOID

    certificates = _certificates(chain)
    if not certificates:
        return None
    leaf = certificates[0]
    # c2pa reports the issuer's organisation as the signature's "issuer".
    organisation = leaf.issuer.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    return (organisation[0].value if organisation else None, str(leaf.serial_number))


@functools.lru_cache(maxsize=2)
def _file_text(path: str) -> str:
    return Path(path).read_text()

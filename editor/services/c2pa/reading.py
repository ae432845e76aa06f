"""Read a result's Content Credentials back from its stored bytes, for the detail page's panel."""

from __future__ import annotations

import io
import json
import logging

from editor.errors import ServiceError
from editor.models import ImageEdit, timestamp_now
from editor.services import storage
from editor.services.c2pa.trust import (
    C2PA_LISTED,
    DEPLOYMENT,
    TRUST_LABELS,
    UNKNOWN,
    deployment_anchors,
    signer_is_deployments,
    trust_list_anchors,
    trust_settings,
)

logger = logging.getLogger(__name__)

ACTION_WORDS = {"c2pa.created": "Created", "c2pa.edited": "Edited"}
SOURCE_WORDS = {
    "trainedAlgorithmicMedia": "made by an AI model",
    "compositeWithTrainedAlgorithmicMedia": "an image combined with an AI model's pixels",
}
# An unknown signer says nothing about integrity: the panel's trust line says it, not the problem list.
_NOT_A_DEFECT = {"signingCredential.untrusted"}


def _main_action(manifest: dict) -> dict:
    for assertion in manifest.get("assertions", []):
        if assertion.get("label", "").startswith("c2pa.actions"):
            actions = assertion.get("data", {}).get("actions", [])
            for action in actions:
                if action.get("action") in ACTION_WORDS:
                    return action
    return {}


def _read(data: bytes, content_type: str, *, anchors: str, listed: bool) -> tuple[dict, str, dict]:
    """The manifest store, the validation state and its results, with the signer's chain checked against
    `anchors` (Trusted when it chains to one of them, Valid when only the signature verifies)."""
    import c2pa

    with (
        c2pa.Context(c2pa.Settings.from_dict(trust_settings(anchors=anchors, listed=listed))) as context,
        c2pa.Reader(content_type, io.BytesIO(data), context=context) as reader,
    ):
        return json.loads(reader.json()), reader.get_validation_state(), reader.get_validation_results() or {}


def _trust(data: bytes, content_type: str, state: str, signature: dict) -> str | None:
    """Who signed, for a signature that verifies: this deployment (its own root, read first), a signer on
    the C2PA trust list (read again against it, only when one is configured), or an unknown signer."""
    if state == "Trusted":
        return DEPLOYMENT
    if state != "Valid":
        return None
    listed = trust_list_anchors()
    if listed and _read(data, content_type, anchors=listed, listed=True)[1] == "Trusted":
        return DEPLOYMENT if signer_is_deployments(signature) else C2PA_LISTED
    return UNKNOWN


def credentials_read(*, data: bytes, content_type: str) -> dict:
    """What the image's manifest says, whether it verifies and who signed it; `present` False when it has
    none."""
    import c2pa

    try:
        store, state, results = _read(data, content_type, anchors=deployment_anchors(), listed=False)
    except c2pa.C2paError as exc:
        # No manifest at all, or one too damaged to parse: either way nothing verifies.
        missing = "ManifestNotFound" in type(exc).__name__ or "not found" in str(exc).lower()
        return {"present": not missing, "verified": False, "problems": [] if missing else [str(exc)]}
    manifest = store.get("manifests", {}).get(store.get("active_manifest"), {})
    signature = manifest.get("signature_info", {})
    trust = _trust(data, content_type, state, signature)
    action = _main_action(manifest)
    parameters = action.get("parameters", {})
    source_type = (action.get("digitalSourceType") or "").rsplit("/", 1)[-1]
    failures = results.get("activeManifest", {}).get("failure", [])
    ingredient = next(
        (item for item in manifest.get("ingredients", []) if item.get("relationship") == "parentOf"), None
    )
    return {
        "present": True,
        "verified": state in ("Valid", "Trusted"),
        "trusted": trust in (DEPLOYMENT, C2PA_LISTED),
        "trust": trust,
        "trust_label": TRUST_LABELS.get(trust),
        "state": state,
        "problems": [f["explanation"] for f in failures if f.get("code") not in _NOT_A_DEFECT],
        "action": action.get("action"),
        "action_label": ACTION_WORDS.get(action.get("action"), action.get("action") or "—"),
        "digital_source_type": action.get("digitalSourceType"),
        "source_label": SOURCE_WORDS.get(source_type, source_type or "—"),
        "software": action.get("softwareAgent", {}),
        "model": parameters.get("model"),
        "task": parameters.get("task"),
        "when": action.get("when"),
        "signer": signature.get("common_name"),
        "issuer": signature.get("issuer"),
        "development": "development" in (signature.get("issuer") or ""),
        "parent": None
        if ingredient is None
        else {
            "title": ingredient.get("title"),
            "manifest": ingredient.get("active_manifest"),
            "has_credentials": bool(ingredient.get("active_manifest")),
        },
    }


def credentials_record(*, images: list) -> dict | None:
    """The verdict on each result as it is stored, read from the very bytes about to be written (so the
    detail page need not download them on every view); None if reading failed, which the page then does."""
    panels = []
    try:
        for image in images:
            panels.append(credentials_read(data=image.data, content_type=image.content_type))
    except Exception as exc:  # a reader failure must not fail an edit that is signed and stored
        logger.warning("content credentials not read back", extra={"error": str(exc)})
        return None
    return {"checked_at": timestamp_now(), "panels": panels}


def edit_credentials(*, edit: ImageEdit, verify: bool = False) -> tuple[list[dict], str | None]:
    """The detail page's panels and when they were checked: as recorded at write time, or (`verify`, or
    an edit from before the record) read again from S3 now, with None for the time."""
    recorded = edit.credentials_panels or {}
    panels = recorded.get("panels")
    if not verify and isinstance(panels, list) and len(panels) == len(edit.outputs or []):
        return panels, recorded.get("checked_at")
    return edit_credentials_read(edit=edit), None


def edit_credentials_read(*, edit: ImageEdit) -> list[dict]:
    """Each stored result's credentials, read from S3 (so what was stored is what is judged)."""
    panels = []
    for output in edit.outputs or []:
        try:
            data = storage.object_get(key=output.key)
        except ServiceError:
            panels.append({"present": False, "verified": False, "problems": ["The image could not be read."]})
            continue
        panels.append(credentials_read(data=data, content_type=output.content_type))
    return panels

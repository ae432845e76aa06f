"""The manifest of one result (what was done, by which model, from which image), signed into its bytes."""

from __future__ import annotations

import dataclasses
import io
import logging

from django.conf import settings

from editor.errors import ServiceError
from editor.models import ImageEdit, timestamp_now
from editor.services.bedrock.generation import GeneratedImage, ModelResult
from editor.services.c2pa.signing import signer_make
from editor.services.imaging.images import SourceImage

logger = logging.getLogger(__name__)

SOFTWARE = "imageedit"
IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
# IPTC's digital source types: a picture a model made from a prompt alone, and one that mixes a model's
# pixels with a camera's (or another source's).
GENERATED = IPTC + "trainedAlgorithmicMedia"
COMPOSITE = IPTC + "compositeWithTrainedAlgorithmicMedia"
SIGNED, DEVELOPMENT, UNSIGNED = "signed", "development", "unsigned"


@dataclasses.dataclass(frozen=True)
class CredentialedImage(GeneratedImage):
    """A result with its Content Credentials state: signed, development(-signed) or unsigned."""

    credentials: str = UNSIGNED


def manifest_definition(*, edit: ImageEdit, model_id: str, content_type: str, edited: bool) -> dict:
    """The manifest: one action with its digital source type, the software, the model and the task.

    The prompt is left out unless C2PA_INCLUDE_PROMPT says otherwise: a manifest travels with the image.
    """
    parameters = {"model": model_id, "task": edit.task}
    if settings.C2PA_INCLUDE_PROMPT and edit.prompt:
        parameters["prompt"] = edit.prompt
    action = {
        "action": "c2pa.edited" if edited else "c2pa.created",
        "digitalSourceType": COMPOSITE if edited else GENERATED,
        "softwareAgent": {"name": SOFTWARE, "version": settings.APP_VERSION},
        "when": timestamp_now(),
        "parameters": parameters,
    }
    actions = [action]
    if edited:
        # A claim's actions begin with where the asset came from: the input, opened as the parent.
        actions.insert(0, {"action": "c2pa.opened", "parameters": {"ingredientIds": ["input"]}})
    return {
        "claim_generator_info": [{"name": SOFTWARE, "version": settings.APP_VERSION}],
        "title": f"imageedit-{edit.id[:8]}",
        "format": content_type,
        "assertions": [{"label": "c2pa.actions", "data": {"actions": actions}}],
    }


def image_sign(*, edit: ImageEdit, model_id: str, image: GeneratedImage, source: SourceImage | None) -> bytes:
    """The image's bytes with a signed manifest embedded; the input (and its own manifest) as parent."""
    import c2pa

    definition = manifest_definition(
        edit=edit, model_id=model_id, content_type=image.content_type, edited=source is not None
    )
    # No thumbnails in the manifest: the image is its own preview, and a thumbnail of a 1 MP result and
    # of its input added ~0.5 MB to every output.
    settings_ = c2pa.Settings.from_dict({"builder": {"thumbnail": {"enabled": False}}})
    with (
        c2pa.Context(settings_) as context,
        c2pa.Builder(definition, context) as builder,
        signer_make() as signer,
    ):
        if source is not None:
            builder.add_ingredient(
                {
                    "title": f"input.{source.format}",
                    "relationship": "parentOf",
                    "label": "input",
                },
                source.content_type,
                io.BytesIO(source.data),
            )
        signed = io.BytesIO()
        builder.sign(signer, image.content_type, io.BytesIO(image.data), signed)
    return signed.getvalue()


def result_sign(*, edit: ImageEdit, result: ModelResult, source: SourceImage | None) -> ModelResult:
    """Every image of a result with its Content Credentials.

    If signing fails the edit fails (`signing_failed`), unless C2PA_ON_SIGNING_FAILURE=unsigned: then the
    images are kept and marked unsigned, which the answer and the page say.
    """
    state = DEVELOPMENT if settings.C2PA_DEVELOPMENT else SIGNED
    images = []
    for image in result.images:
        try:
            if not (settings.C2PA_KMS_KEY_ID and settings.C2PA_CERT_CHAIN):
                raise RuntimeError("C2PA_KMS_KEY_ID and C2PA_CERT_CHAIN are not both set")
            data = image_sign(edit=edit, model_id=result.model_id, image=image, source=source)
            credentials = state
        except Exception as exc:
            logger.error("content credentials not signed", extra={"error": str(exc)})
            if settings.C2PA_ON_SIGNING_FAILURE != "unsigned":
                raise ServiceError(
                    "signing_failed",
                    "The result could not be signed with its Content Credentials, so it was not kept; "
                    "try again.",
                    status=503,
                ) from exc
            data, credentials = image.data, UNSIGNED
        fields = {
            **{f.name: getattr(image, f.name) for f in dataclasses.fields(GeneratedImage)},
            "data": data,
        }
        images.append(CredentialedImage(**fields, credentials=credentials))
    return dataclasses.replace(result, images=images)

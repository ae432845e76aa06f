"""Content Credentials: every result carries a signed C2PA manifest that the bindings' Reader verifies."""

from __future__ import annotations

import io
import json

import c2pa
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from editor.models import FAILED, SUCCEEDED, ImageEdit
from editor.services import storage
from editor.services.bedrock.generation import GeneratedImage
from editor.services.c2pa.manifest import COMPOSITE, GENERATED, image_sign
from editor.services.c2pa.signing import signature_raw
from tests.editor.test_edits_api import mask_png, photo_png, post_edit
from tests.editor.test_pages import page_sign_in

pytestmark = pytest.mark.usefixtures("local_stack")


def stored_output(edit_id: str, index: int = 0) -> tuple[bytes, str]:
    output = ImageEdit.get(edit_id).outputs[index]
    return storage.object_get(key=output.key), output.content_type


def read(data: bytes, content_type: str = "image/png") -> tuple[str, dict]:
    with c2pa.Reader(content_type, io.BytesIO(data)) as reader:
        store = json.loads(reader.json())
        return reader.get_validation_state(), store


def active(store: dict) -> dict:
    return store["manifests"][store["active_manifest"]]


def main_action(manifest: dict) -> dict:
    actions = next(a for a in manifest["assertions"] if a["label"].startswith("c2pa.actions"))["data"][
        "actions"
    ]
    return next(action for action in actions if action["action"] in ("c2pa.edited", "c2pa.created"))


def succeeded(response) -> dict:
    assert response.status_code == 201, response.content
    edit = response.json()
    assert edit["status"] == SUCCEEDED, edit
    return edit


def test_an_edit_result_has_a_valid_manifest_with_action_source_type_and_model(api):
    edit = succeeded(post_edit(api, "erase", image=photo_png(), mask=mask_png()))
    assert edit["outputs"][0]["content_credentials"] == "development"
    state, store = read(*stored_output(edit["id"]))
    assert state in ("Valid", "Trusted")
    action = main_action(active(store))
    assert action["action"] == "c2pa.edited"
    assert action["digitalSourceType"] == COMPOSITE
    assert action["parameters"]["model"] == edit["model_id"]
    assert action["parameters"]["task"] == "erase"
    assert action["softwareAgent"]["name"] == "imageedit"
    ingredient = active(store)["ingredients"][0]
    assert ingredient["relationship"] == "parentOf"
    assert not ingredient.get("active_manifest")  # an uploaded photo without credentials of its own


def test_a_result_of_a_result_has_its_parents_manifest_as_ingredient(api):
    first = succeeded(post_edit(api, "erase", image=photo_png(), mask=mask_png()))
    second = succeeded(post_edit(api, "erase", mask=mask_png(box=(10, 10, 30, 30)), parent_id=first["id"]))
    _, first_store = read(*stored_output(first["id"]))
    state, store = read(*stored_output(second["id"]))
    assert state in ("Valid", "Trusted")
    ingredient = active(store)["ingredients"][0]
    assert ingredient["relationship"] == "parentOf"
    assert ingredient["active_manifest"] == first_store["active_manifest"]
    # The parent's whole manifest travels inside the child: the chain stays whole.
    assert main_action(store["manifests"][first_store["active_manifest"]])["action"] == "c2pa.edited"


def test_prompts_stay_out_of_the_manifest_unless_a_setting_says_so(api, settings):
    edit = succeeded(
        post_edit(api, "inpaint", image=photo_png(), mask=mask_png(), prompt="my neighbours' garden")
    )
    _, store = read(*stored_output(edit["id"]))
    assert "neighbours" not in json.dumps(store)
    settings.C2PA_INCLUDE_PROMPT = True
    edit = succeeded(
        post_edit(api, "inpaint", image=photo_png(), mask=mask_png(), prompt="my neighbours' garden")
    )
    _, store = read(*stored_output(edit["id"]))
    assert main_action(active(store))["parameters"]["prompt"] == "my neighbours' garden"


@pytest.mark.parametrize("kind", ["PNG", "JPEG", "WEBP"])
def test_text_to_image_is_created_by_a_trained_model_in_every_output_format(kind):
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (96, 64), (10, 120, 200)).save(out, kind)
    content_type = f"image/{kind.lower()}"
    edit = ImageEdit(id="0" * 8 + "-generated", task="generate", prompt="a lighthouse")
    image = GeneratedImage(data=out.getvalue(), content_type=content_type, width=96, height=64)
    signed = image_sign(edit=edit, model_id="stability.sd3-5-large-v1:0", image=image, source=None)
    state, store = read(signed, content_type)
    assert state in ("Valid", "Trusted")
    action = main_action(active(store))
    assert (action["action"], action["digitalSourceType"]) == ("c2pa.created", GENERATED)
    assert action["parameters"]["model"] == "stability.sd3-5-large-v1:0"
    assert "ingredients" not in active(store) or not active(store)["ingredients"]


def test_a_tampered_image_fails_verification_and_the_panel_says_so(user):
    client = page_sign_in(user["username"])
    response = client.post(
        "/api/v1/edits",
        {"task": "erase", "image": io.BytesIO(photo_png()), "mask": io.BytesIO(mask_png())},
        HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value,
    )
    edit = succeeded(response)
    page = client.get(f"/edits/{edit['id']}").content.decode()
    assert "Content Credentials" in page and 'data-credentials-state="verified"' in page
    assert "data-credentials-development" in page

    data, content_type = stored_output(edit["id"])
    tampered = bytearray(data)
    pixels = tampered.index(b"IDAT") + 12
    tampered[pixels] ^= 0xFF
    assert read(bytes(tampered))[0] == "Invalid"
    storage.object_put(
        key=ImageEdit.get(edit["id"]).outputs[0].key, data=bytes(tampered), content_type=content_type
    )
    # The page shows the verdict recorded when the result was stored, and says so...
    page = client.get(f"/edits/{edit['id']}").content.decode()
    assert 'data-credentials-state="verified"' in page and 'data-credentials-checked="recorded"' in page
    # ...and reads the stored image again when asked.
    page = client.get(f"/edits/{edit['id']}?verify=1").content.decode()
    assert 'data-credentials-state="invalid"' in page and 'data-credentials-checked="now"' in page
    assert "The signature does not verify" in page


def test_the_detail_page_does_not_download_the_result_to_show_its_credentials(user, monkeypatch):
    client = page_sign_in(user["username"])
    response = client.post(
        "/api/v1/edits",
        {"task": "erase", "image": io.BytesIO(photo_png()), "mask": io.BytesIO(mask_png())},
        HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value,
    )
    edit = succeeded(response)
    recorded = ImageEdit.get(edit["id"]).credentials_panels
    assert recorded["checked_at"] and [panel["verified"] for panel in recorded["panels"]] == [True]
    reads = []
    original = storage.object_get
    monkeypatch.setattr(storage, "object_get", lambda *, key: reads.append(key) or original(key=key))
    page = client.get(f"/edits/{edit['id']}").content.decode()
    assert 'data-credentials-state="verified"' in page and reads == []
    client.get(f"/edits/{edit['id']}?verify=1")
    assert reads == [ImageEdit.get(edit["id"]).outputs[0].key]


def test_when_signing_fails_the_edit_fails_with_a_code_by_default(api, settings):
    settings.C2PA_KMS_KEY_ID = "00000000-0000-0000-0000-000000000000"  # no such key: KMS refuses to sign
    response = post_edit(api, "erase", image=photo_png(), mask=mask_png())
    edit = response.json()
    assert edit["status"] == FAILED
    assert edit["error"]["code"] == "signing_failed"
    assert edit["outputs"] == []


def test_a_deployer_may_keep_unsigned_results_and_they_say_so(api, user, settings):
    settings.C2PA_KMS_KEY_ID = "00000000-0000-0000-0000-000000000000"
    settings.C2PA_ON_SIGNING_FAILURE = "unsigned"
    client = page_sign_in(api.user["username"])
    edit = succeeded(post_edit(api, "erase", image=photo_png(), mask=mask_png()))
    assert edit["outputs"][0]["content_credentials"] == "unsigned"
    with pytest.raises(c2pa.C2paError):
        read(*stored_output(edit["id"]))
    page = client.get(f"/edits/{edit['id']}").content.decode()
    assert 'data-credentials-state="unsigned"' in page and "Not signed." in page


def test_kms_der_signatures_become_cose_raw_signatures():
    key = ec.generate_private_key(ec.SECP256R1())
    der = key.sign(b"claim", ec.ECDSA(hashes.SHA256()))
    raw = signature_raw(der)
    assert len(raw) == 64
    r, s = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
    key.public_key().verify(encode_dss_signature(r, s), b"claim", ec.ECDSA(hashes.SHA256()))

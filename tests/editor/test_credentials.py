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
from editor.services.c2pa.manifest import COMPOSITE, GENERATED, image_sign, manifest_definition
from editor.services.c2pa.reading import credentials_read
from editor.services.c2pa.signing import signature_raw
from tests.editor.helpers import mask_png, page_sign_in, photo_png, post_edit

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


# --- issue 19, finding 10: a valid signature is not a known signer ---------------------------------------


def _pem(certificate) -> str:
    from cryptography.hazmat.primitives import serialization

    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def foreign_signer(*, root=None, serial: int | None = None):
    """A signer this deployment never configured: its own key, a certificate under `root` (or a new root).
    Returns (key, leaf certificate, root key, root certificate)."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    from devstack.signing import _root, signer_certificate

    root_key, root_cert = root or _root(None)
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = signer_certificate(key.public_key(), root_key, root_cert)
    if serial is not None:
        # The same certificate with a chosen serial number (to copy another signer's identity).
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "copycat")]))
            .issuer_name(root_cert.subject)
            .public_key(key.public_key())
            .serial_number(serial)
            .not_valid_before(leaf.not_valid_before_utc)
            .not_valid_after(leaf.not_valid_after_utc)
        )
        for extension in leaf.extensions:
            builder = builder.add_extension(extension.value, critical=extension.critical)
        leaf = builder.sign(root_key, hashes.SHA256())
    return key, leaf, root_key, root_cert


def signed_by(key, chain: str) -> bytes:
    """A PNG with a valid C2PA manifest, signed by `key` with the certificate chain `chain`."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 90, 160)).save(out, "PNG")
    edit = ImageEdit(id="f" * 8 + "-foreign", task="generate", prompt="")
    definition = manifest_definition(edit=edit, model_id="elsewhere", content_type="image/png", edited=False)

    def sign(data: bytes) -> bytes:
        return signature_raw(key.sign(data, ec.ECDSA(hashes.SHA256())))

    settings_ = c2pa.Settings.from_dict({"builder": {"thumbnail": {"enabled": False}}})
    with (
        c2pa.Context(settings_) as context,
        c2pa.Builder(definition, context) as builder,
        c2pa.Signer.from_callback(sign, c2pa.C2paSigningAlg.ES256, chain, None) as signer,
    ):
        signed = io.BytesIO()
        builder.sign(signer, "image/png", io.BytesIO(out.getvalue()), signed)
    return signed.getvalue()


def trust_list(tmp_path, *certificates) -> str:
    path = tmp_path / "C2PA-TRUST-LIST.pem"
    path.write_text("".join(_pem(certificate) for certificate in certificates))
    return str(path)


def test_this_deployments_results_say_they_are_signed_by_it(api, user):
    edit = succeeded(post_edit(api, "erase", image=photo_png(), mask=mask_png()))
    panel = credentials_read(data=stored_output(edit["id"])[0], content_type="image/png")
    assert (panel["verified"], panel["trusted"], panel["trust"]) == (True, True, "deployment")
    assert panel["trust_label"] == "Signed by this deployment" and panel["problems"] == []
    page = page_sign_in(user["username"]).get(f"/edits/{edit['id']}").content.decode()
    assert 'data-credentials-trust="deployment"' in page and "Signed by this deployment." in page


def test_a_valid_signature_by_an_unknown_signer_is_said_to_be_one(api, user):
    edit = succeeded(post_edit(api, "erase", image=photo_png(), mask=mask_png()))
    key, leaf, _, root = foreign_signer()
    foreign = signed_by(key, _pem(leaf) + _pem(root))
    panel = credentials_read(data=foreign, content_type="image/png")
    assert panel["verified"] and panel["state"] == "Valid"  # the signature itself is fine
    assert (panel["trusted"], panel["trust"]) == (False, "unknown")
    assert panel["trust_label"] == "Valid signature, unknown signer"
    # What the detail page shows when such an image is what is stored (read again: ?verify=1; a plain view
    # shows the verdict recorded when the result was stored).
    storage.object_put(key=ImageEdit.get(edit["id"]).outputs[0].key, data=foreign, content_type="image/png")
    page = page_sign_in(user["username"]).get(f"/edits/{edit['id']}?verify=1").content.decode()
    assert 'data-credentials-trust="unknown"' in page and "Valid signature, unknown signer." in page
    assert "Signed by this deployment" not in page


def test_a_signer_on_the_configured_c2pa_trust_list_is_c2pa_trusted(settings, tmp_path):
    key, leaf, _, root = foreign_signer()
    settings.C2PA_TRUST_LIST_PATH = trust_list(tmp_path, root)
    panel = credentials_read(data=signed_by(key, _pem(leaf) + _pem(root)), content_type="image/png")
    assert (panel["trusted"], panel["trust"]) == (True, "c2pa")
    assert panel["trust_label"] == "Signed by a C2PA-trusted signer"
    settings.C2PA_TRUST_LIST_PATH = ""  # without the list, the same image is an unknown signer's
    again = credentials_read(data=signed_by(key, _pem(leaf) + _pem(root)), content_type="image/png")
    assert again["trust"] == "unknown"


def test_a_deployment_certified_by_a_listed_ca_is_itself_and_others_under_that_ca_are_not(settings, tmp_path):
    """A production deployment whose certificate a CA on the C2PA list issued: no root of its own."""
    listed_ca = foreign_signer()[2:]
    key, leaf, _, root = foreign_signer(root=listed_ca)
    settings.C2PA_TRUST_LIST_PATH = trust_list(tmp_path, root)
    settings.C2PA_CERT_CHAIN = _pem(leaf)  # this deployment's chain: the signer alone, no self-signed root
    ours = credentials_read(data=signed_by(key, _pem(leaf) + _pem(root)), content_type="image/png")
    assert ours["trust"] == "deployment"
    other_key, other_leaf, _, _ = foreign_signer(root=listed_ca)
    theirs = credentials_read(
        data=signed_by(other_key, _pem(other_leaf) + _pem(root)), content_type="image/png"
    )
    assert theirs["trust"] == "c2pa"
    # The same issuer name and serial number under a root nobody listed is not this deployment.
    copy_key, copy_leaf, _, copy_root = foreign_signer(serial=leaf.serial_number)
    copied = credentials_read(
        data=signed_by(copy_key, _pem(copy_leaf) + _pem(copy_root)), content_type="image/png"
    )
    assert copied["trust"] == "unknown"


def test_a_trust_list_path_that_does_not_exist_stops_the_app():
    from tests.helpers import PRODUCTION, manage

    result = manage("check", environment={**PRODUCTION, "C2PA_TRUST_LIST_PATH": "/nonexistent/list.pem"})
    assert result.returncode != 0 and "C2PA_TRUST_LIST_PATH" in result.stderr

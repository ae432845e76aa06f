"""Make moto's S3 browser POST (presigned POST) more like S3's: enforce the policy, apply the `tagging` field.

moto 5.2.5 stores whatever is posted: it ignores the policy's expiry and conditions (content-length-range,
exact Content-Type), fields the policy does not list (acl=public-read made an object public,
success_action_redirect redirected) and the `tagging` field. S3 refuses such uploads (403/400) and tags the
object; the app checks uploads itself anyway (design.md section 5), and this only keeps the local stack
honest. S3's rule (POST Policy, "Conditions"): every form field but x-amz-signature, file, policy and
x-ignore-* must have a condition, else 403 "Invalid according to Policy: Extra input fields: ...".
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

_installed = False
# Form fields S3 does not look for in the policy's conditions (the signature, the policy itself, the file;
# AWSAccessKeyId and signature are Signature Version 2's names for the first).
EXEMPT_FIELDS = ("x-amz-signature", "file", "policy", "awsaccesskeyid", "signature")


def _error(status: int, code: str, message: str):
    body = f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code><Message>{escape(message)}"
    body += "</Message></Error>"
    return status, {"Content-Type": "application/xml"}, body


def _fields(response) -> dict[str, str]:
    return {name.lower(): values[0] for name, values in response.querystring.items() if values}


def _policy_violation(response, bucket_name: str):
    """None if the POST satisfies its policy; else the error S3 answers with."""
    fields = _fields(response)
    encoded = fields.get("policy")
    if not encoded:
        return None
    try:
        policy = json.loads(base64.b64decode(encoded))
        expires = dt.datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
    except (ValueError, KeyError, TypeError):
        return _error(400, "InvalidPolicyDocument", "Invalid Policy: Invalid JSON.")
    if expires < dt.datetime.now(dt.UTC):
        return _error(403, "AccessDenied", "Invalid according to Policy: Policy expired.")
    extra = _extra_fields(response, policy.get("conditions", []))
    if extra:
        return _error(
            403, "AccessDenied", f"Invalid according to Policy: Extra input fields: {', '.join(extra)}"
        )
    fields["bucket"] = bucket_name
    size = len(response.body or b"")
    for condition in policy.get("conditions", []):
        if isinstance(condition, dict):
            ((name, wanted),) = condition.items()
            operator, name = "eq", name.lower()
        elif condition[0] == "content-length-range":
            low, high = int(condition[1]), int(condition[2])
            if size > high:
                return _error(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
            if size < low:
                return _error(
                    400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size"
                )
            continue
        else:
            operator, name, wanted = condition[0], condition[1].lstrip("$").lower(), condition[2]
        value = fields.get(name, "")
        if (operator == "eq" and value != wanted) or (
            operator == "starts-with" and not value.startswith(wanted)
        ):
            return _error(
                403,
                "AccessDenied",
                "Invalid according to Policy: Policy Condition failed: "
                f'["{operator}", "${name}", "{wanted}"]',
            )
    return None


def _extra_fields(response, conditions: list) -> list[str]:
    """The posted form fields no condition names, in the order sent (S3 names them in its refusal)."""
    named = set()
    for condition in conditions:
        if isinstance(condition, dict):
            named.update(name.lower() for name in condition)
        elif isinstance(condition, list) and len(condition) == 3 and isinstance(condition[1], str):
            named.add(condition[1].lstrip("$").lower())
    return [
        name
        for name in response.form_data
        if name.lower() not in named
        and name.lower() not in EXEMPT_FIELDS
        and not name.lower().startswith("x-ignore-")
    ]


def _tags(xml: str) -> dict[str, str]:
    root = ET.fromstring(xml)  # noqa: S314 (our own loopback stand-in, parsing the app's own field)
    return {tag.findtext("Key"): tag.findtext("Value") or "" for tag in root.iter("Tag")}


def install() -> None:
    """Patch moto's S3 POST handler once per process."""
    global _installed
    if _installed:
        return
    from moto.s3.responses import S3Response

    original = S3Response._bucket_response_post

    def faithful_post(self, request, bucket_name):
        if "policy" in {name.lower() for name in self.querystring}:
            violation = _policy_violation(self, bucket_name)
            if violation:
                return violation
        result = original(self, request, bucket_name)
        fields = _fields(self)
        if "tagging" in fields and "key" in fields and result[0] < 300:
            key = self.backend.get_object(bucket_name, fields["key"])
            if key is not None:
                self.backend.put_object_tagging(key, _tags(fields["tagging"]))
        return result

    S3Response._bucket_response_post = faithful_post
    _installed = True

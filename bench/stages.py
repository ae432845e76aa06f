"""Where an edit's own time goes: each named stage's exclusive time, and each AWS call's client side.

A bench-only instrument: it wraps the app's functions where they are looked up (every editor module that
imported them) and botocore's client, keeps a per-thread stack, and charges each stage its own time only
(a stage's time minus that of the stages it called). An AWS call's client side is its time in botocore's
_make_api_call minus the HTTP send (the wait on moto or the engine, which AwsCallTimer counts apart).
"""

from __future__ import annotations

import functools
import importlib
import sys
import threading
import time
from collections import defaultdict

# (stage label, module, attribute path): the functions an edit passes through, in the order it does.
STAGES = [
    ("parse: multipart body", "rest_framework.parsers", "MultiPartParser.parse"),
    ("auth: verify the token", "editor.authentication", "CognitoJWTAuthentication.authenticate"),
    ("check: photo headers", "editor.services.imaging.photos", "photo_inspect"),
    ("check: mask decode + box", "editor.services.imaging.photo_edits", "mask_prepare"),
    ("check: model view size", "editor.services.imaging.full_resolution", "view_check"),
    ("idempotency fingerprint", "editor.services.edits.admission", "request_fingerprint"),
    ("decode: photo", "editor.services.imaging.photos", "photo_decode"),
    ("decode: mask", "editor.services.imaging.photos", "mask_decode"),
    ("crop + scale", "editor.services.imaging.photo_edits", "mask_local_prepare"),
    ("encode: crop for the model", "editor.services.imaging.photo_edits", "_for_model"),
    ("encode: mask for the model", "editor.services.imaging.photo_edits", "_png"),
    ("model call: body, base64, answer", "editor.services.bedrock.generation", "model_run"),
    ("decode: model answer", "editor.services.imaging.photo_edits", "_answer"),
    ("composite", "editor.services.imaging.regions", "composite_crop"),
    ("encode: result", "editor.services.imaging.photos", "photo_encode"),
    ("finish glue", "editor.services.imaging.photo_edits", "mask_local_finish"),
    ("C2PA: manifest", "editor.services.c2pa.manifest", "manifest_definition"),
    ("C2PA: build + sign", "editor.services.c2pa.manifest", "image_sign"),
    ("C2PA: KMS signature (local)", "editor.services.c2pa.signing", "signature_raw"),
    ("C2PA: read back (beside the S3 put)", "editor.services.c2pa.reading", "credentials_record"),
    ("presenter", "editor.presenters", "edit_present"),
    ("storage: put wrapper", "editor.services.storage", "object_put"),
    ("job: spec from the item", "editor.services.edits.running", "spec_from_edit"),
    ("job: claim and finish writes", "editor.services.edits.running", "update_conditionally"),
    ("admission: item and counters", "editor.services.edits.admission", "edit_admit"),
    ("metrics and logs", "editor.metrics", "metrics_edit_finished"),
]
AWS_PREFIX = "AWS client side: "
CALLS_PREFIX = "calls: "  # not a time: how many calls of that operation


class StageTimer:
    """Install the wrappers; take() returns {stage: ms} since the last take and starts again."""

    def __init__(self) -> None:
        self._totals: dict[str, float] = defaultdict(float)
        self._lock = threading.Lock()
        self._local = threading.local()
        self._undo: list[tuple[object, str, object]] = []
        for label, module_name, path in STAGES:
            try:
                self._wrap(label, module_name, path)
            except (ImportError, AttributeError, KeyError) as exc:
                # A function moved or renamed: its time falls into "the rest" until STAGES is updated.
                print(f"stages: {label} not timed ({module_name}.{path}: {exc!r})", flush=True)
        self._wrap_aws()

    def _stack(self) -> list[float]:
        if not hasattr(self._local, "stack"):
            self._local.stack = []
        return self._local.stack

    def _charge(self, label: str, elapsed: float, children: float) -> None:
        with self._lock:
            self._totals[label] += elapsed - children
            if label.startswith(AWS_PREFIX):
                self._totals[label.replace(AWS_PREFIX, CALLS_PREFIX)] += 1

    def _timed(self, label: str, function, exclude_send: bool = False):
        timer = self

        @functools.wraps(function)
        def timed(*args, **kwargs):
            stack = timer._stack()
            stack.append(0.0)  # time of the stages this one calls
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - started
                children = stack.pop()
                if stack:
                    stack[-1] += elapsed
                name = label(args) if callable(label) else label
                timer._charge(name, elapsed, children)

        timed.__wrapped_by_stage_timer__ = function
        return timed

    def _replace(self, owner, attribute: str, new) -> None:
        self._undo.append((owner, attribute, owner.__dict__[attribute] if isinstance(owner, type) else None))
        setattr(owner, attribute, new)

    def _wrap(self, label: str, module_name: str, path: str) -> None:
        module = importlib.import_module(module_name)
        if "." in path:
            class_name, method = path.split(".")
            owner = getattr(module, class_name)
            original = owner.__dict__[method]
            self._replace(owner, method, self._timed(label, original))
            return
        original = getattr(module, path)
        wrapped = self._timed(label, original)
        # Every module that imported the function by name holds its own reference: replace each.
        for name, other in list(sys.modules.items()):
            if (name.startswith("editor") or other is module) and getattr(other, path, None) is original:
                self._undo.append((other, path, original))
                setattr(other, path, wrapped)

    def _wrap_aws(self) -> None:
        import botocore.client
        import botocore.endpoint

        timer = self
        original_call = botocore.client.BaseClient._make_api_call
        original_send = botocore.endpoint.Endpoint._send

        def send(endpoint, request):
            # The wait on the service is not the client's: charged apart and left out of own time.
            stack = timer._stack()
            stack.append(0.0)
            started = time.perf_counter()
            try:
                return original_send(endpoint, request)
            finally:
                elapsed = time.perf_counter() - started
                stack.pop()
                if stack:
                    stack[-1] += elapsed

        def label(args):
            client, operation = args[0], args[1]
            return f"{AWS_PREFIX}{client.meta.service_model.service_name} {operation}"

        self._undo.append((botocore.client.BaseClient, "_make_api_call", original_call))
        self._undo.append((botocore.endpoint.Endpoint, "_send", original_send))
        botocore.client.BaseClient._make_api_call = self._timed(label, original_call)
        botocore.endpoint.Endpoint._send = send

    def take(self) -> dict[str, float]:
        with self._lock:
            totals, self._totals = dict(self._totals), defaultdict(float)
        return {
            label: value if label.startswith(CALLS_PREFIX) else value * 1000
            for label, value in totals.items()
        }

    def close(self) -> None:
        for owner, attribute, original in reversed(self._undo):
            setattr(owner, attribute, original)
        self._undo.clear()


def stages_table(samples: list[dict[str, float]], own_ms: float) -> tuple[str, list[dict]]:
    """The median of each stage over the samples, largest first, and what is left of the own time."""
    import statistics

    labels = {label for sample in samples for label in sample}
    medians = {label: statistics.median(sample.get(label, 0.0) for sample in samples) for label in labels}
    calls = {
        label[len(CALLS_PREFIX) :]: medians.pop(label)
        for label in list(medians)
        if label.startswith(CALLS_PREFIX)
    }
    rows = sorted(medians.items(), key=lambda item: -item[1])
    counted = sum(medians.values())
    lines = [f"{'stage (own time, median per edit)':<56} {'ms':>8} {'share':>6}"]
    for label, ms in rows:
        count = calls.get(label[len(AWS_PREFIX) :]) if label.startswith(AWS_PREFIX) else None
        label = f"{label} x{count:g}" if count else label
        lines.append(f"{label[:56]:<56} {ms:>8.2f} {ms / own_ms * 100 if own_ms else 0:>5.0f}%")
    rest = own_ms - counted
    lines.append(
        f"{'Django, DRF, the job hand-off and the rest':<56} {rest:>8.2f} {rest / own_ms * 100:>5.0f}%"
    )
    lines.append(f"{'edit overhead (median)':<56} {own_ms:>8.2f}")
    return "\n".join(lines), [{"stage": label, "ms": round(ms, 2)} for label, ms in rows]

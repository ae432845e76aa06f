"""Errors and delays that tests queue for the next InvokeModel calls."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from devstack.bedrock.protocol import ERROR_STATUS
from devstack.bedrock.schema import Field, check_object


@dataclass
class Fault:
    error: str
    remaining: int
    model: str | None = None
    delay_seconds: float = 0.0


class FaultQueue:
    """Errors and delays queued by tests; each matching invoke consumes one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, spec: Any) -> None:
        check_object(
            spec,
            {
                "error": Field("string", required=True, choices=(*ERROR_STATUS, "delay")),
                "count": Field("integer", minimum=1),
                "model": Field("string"),
                "delay_seconds": Field("number", minimum=0),
            },
        )
        fault = Fault(spec["error"], spec.get("count", 1), spec.get("model"), spec.get("delay_seconds", 0.0))
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, model_id: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.model is None or fault.model in model_id:
                    fault.remaining -= 1
                    if not fault.remaining:
                        self._faults.remove(fault)
                    return fault
        return None

    def pending(self) -> list[dict[str, Any]]:
        with self._lock:
            return [vars(fault).copy() for fault in self._faults]

"""What handlers may touch: the broker and the job runner's wake-up call."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from threadline.ports import Broker

__all__ = ["HandlerDeps"]


@dataclass(frozen=True, slots=True)
class HandlerDeps:
    broker: Broker
    wake_jobs: Callable[[], None]

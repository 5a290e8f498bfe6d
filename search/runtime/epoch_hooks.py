"""Callables the Train worker runs at the end of every epoch, before reporting it: (the trial's nested config,
the Train run's name, the epoch). Empty in a search. A module of its own, importing nothing, so that a Ray
worker-process setup hook can add to it cheaply (the tests' fault injection does: ``tests.faults.install``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

EPOCH_HOOKS: list[Callable[[Mapping[str, Any], str, int], None]] = []

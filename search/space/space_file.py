"""A space file as a search runs it: its YAML read, the command line's overrides (``--max-epochs``,
``--num-samples``...) set on top. ``search.space.spec`` validates it; the experiment folder keeps it as its
space.yaml (``search.api.new_experiment``), which ``--resume``, ``search.report`` and ``search.retrain`` read."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from search.space.resolve import deep_merge, unflatten
from search.space.typed_config import ConfigError


def read_space(path: Path, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The sections of the space file ``path``, with ``overrides`` ({dotted key: value}) set.

    Raises:
        ConfigError: the file cannot be read, is no YAML or holds no mapping (the caller names the file).
    """
    raw = read_yaml(path)
    for key, value in (overrides or {}).items():
        raw = deep_merge(raw, unflatten({key: value}))
    scheduler = raw.get("scheduler")
    if "scheduler.max_t" in (overrides or {}) and isinstance(scheduler, dict):
        # A shorter budget from the command line lowers the file's grace period with it.
        max_t, grace = scheduler["max_t"], scheduler.get("grace_period")
        if isinstance(max_t, int) and isinstance(grace, int) and grace > max_t:
            scheduler["grace_period"] = max(1, max_t)
    return raw


def read_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ConfigError("", "no such file; give a search space such as spaces/fusion.yaml")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise ConfigError("", f"invalid YAML: {where}{problem}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError("", f"cannot read the file: {e}") from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError("", f"expected a mapping of sections at the top level, got {type(raw).__name__}")
    return raw

"""Plain mappings (YAML, Tune trial configs, JSON) -> typed, frozen config dataclasses.

The one place where user-supplied settings are checked: unknown keys (with "did you mean"), wrong types,
and the value checks each component's ``Config.__post_init__`` makes. Every error names the key path.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from collections.abc import Mapping
from typing import Any, Literal, TypeVar, Union

from common.errors import UserError
from models.classifier import Component
from models.registry import Registry

T = TypeVar("T")


class ConfigError(UserError, ValueError):
    """A user-facing configuration problem. ``str(e)`` is one line: where, what, and how to fix it."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        self.message = message
        super().__init__(f"{path}: {message}" if path else message)

    def __reduce__(self) -> tuple:
        return (type(self), (self.path, self.message))  # Ray pickles a worker's exception to the driver


def did_you_mean(word: str, options: typing.Iterable[str]) -> str:
    """' (did you mean 'x'?)' when a close match exists, else ''."""
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def check_keys(data: Mapping[str, Any], allowed: typing.Iterable[str], path: str) -> None:
    """Reject keys not in ``allowed``, suggesting the closest valid one."""
    allowed = list(allowed)
    for key in data:
        if key not in allowed:
            raise ConfigError(
                join(path, str(key)),
                f"unknown key{did_you_mean(str(key), allowed)}; valid keys: {', '.join(allowed)}",
            )


def join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def from_dict(cls: type[T], data: Any, path: str = "") -> T:
    """Build dataclass ``cls`` from a mapping, converting and checking every field.

    Args:
        cls: a dataclass; fields holding a ``Component`` carry ``metadata={"registry": Registry}``.
        data: the mapping (missing keys take the dataclass defaults).
        path: the key path of ``data``, for error messages.

    Returns:
        An instance of ``cls``.

    Raises:
        ConfigError: naming the key path, for unknown keys, wrong types and rejected values.

    Example:
        >>> from_dict(HeadConfig, {"hidden": [64], "dropout": 0.2}, "model.head")
        HeadConfig(hidden=(64,), dropout=0.2, batch_norm=False)
    """
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ConfigError(path, f"expected a mapping, got {type(data).__name__} {data!r}")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    check_keys(data, fields, path)
    hints = typing.get_type_hints(cls)
    values = {}
    for name, value in data.items():
        field = fields[name]
        registry = field.metadata.get("registry")
        key_path = join(path, name)
        if registry is not None:
            values[name] = component_from_dict(registry, value, key_path)
        else:
            values[name] = convert(hints[name], value, key_path)
    missing = [n for n, f in fields.items() if n not in values and no_default(f)]
    if missing:
        raise ConfigError(join(path, missing[0]), "required key is missing")
    try:
        return cls(**values)
    except ConfigError as e:  # a check that names the key inside ``cls`` it is about
        raise ConfigError(join(path, e.path), e.message) from None
    except (ValueError, TypeError) as e:
        raise ConfigError(path, str(e)) from None


def component_from_dict(registry: Registry, data: Any, path: str) -> Component:
    """``{"name": "lstm", "hidden": 64, ...}`` -> Component(name, the registered class's Config)."""
    if isinstance(data, str):
        data = {"name": data}
    if not isinstance(data, Mapping) or "name" not in data:
        raise ConfigError(path, f"expected a mapping with a 'name' key (one of: {', '.join(sorted(registry))})")
    name = data["name"]
    if name not in registry:
        raise ConfigError(
            join(path, "name"),
            f"unknown {registry.kind} {name!r}{did_you_mean(str(name), registry)}; valid: {', '.join(sorted(registry))}",
        )
    params = {k: v for k, v in data.items() if k != "name"}
    return Component(name, from_dict(registry[name].Config, params, path))


def no_default(field: dataclasses.Field) -> bool:
    return field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING


def type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def convert(tp: Any, value: Any, path: str) -> Any:
    """Check ``value`` against type hint ``tp`` and convert it (lists -> tuples, ints -> floats)."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        options = [a for a in args if a is not type(None)]
        if len(options) == 1:  # an optional value: its own error, with the key path inside it
            return convert(options[0], value, path)
        errors = []
        for arg in options:
            try:
                return convert(arg, value, path)
            except ConfigError as e:
                errors.append(e.message)
        raise ConfigError(path, " or ".join(errors))
    if origin is Literal:
        if value not in args or isinstance(value, bool) != any(isinstance(a, bool) for a in args):
            raise ConfigError(path, f"got {value!r}; valid: {', '.join(map(repr, args))}")
        return value
    if origin in (dict, Mapping):
        if not isinstance(value, Mapping) or not value:
            raise ConfigError(path, f"expected a mapping {{name: value}}, got {type(value).__name__} {value!r}")
        return {convert(args[0], k, path): convert(args[1], v, join(path, str(k))) for k, v in value.items()}
    if origin in (tuple, list):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(path, f"expected a list, got {type(value).__name__} {value!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(convert(args[0], v, join(path, i)) for i, v in enumerate(value))
        return tuple(value)
    if dataclasses.is_dataclass(tp):
        return from_dict(tp, value, path)
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(path, f"expected true or false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(path, f"expected an integer, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(path, f"expected a number, got {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(path, f"expected a string, got {value!r}")
        return value
    if tp is Any:
        return value
    raise TypeError(f"{path}: unsupported config type {type_name(tp)}")  # internal: a Config uses an odd type

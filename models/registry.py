"""Name -> class registries, so that YAML can name a component and adding one is a class and a line."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T", bound=type)


class Registry(dict[str, type]):
    """A dict from the name used in YAML to the class that builds the component.

    Every registered class has a nested ``Config`` dataclass (its typed, validated settings).

    Example:
        >>> FUSIONS = Registry("fusion")
        >>> @FUSIONS.register("concat")
        ... class ConcatFusion(nn.Module): ...
    """

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind

    def register(self, name: str) -> Callable[[T], T]:
        def add(cls: T) -> T:
            if name in self:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            if not hasattr(cls, "Config"):
                raise TypeError(f"{cls.__name__} needs a nested Config dataclass")
            self[name] = cls
            return cls

        return add

    def get_class(self, name: str) -> type:
        """The class registered under ``name``; a KeyError listing the valid names otherwise."""
        try:
            return self[name]
        except KeyError:
            raise KeyError(f"unknown {self.kind} {name!r}; valid: {', '.join(sorted(self))}") from None

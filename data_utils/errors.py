"""Exception type for user-facing data problems."""

from __future__ import annotations

from common.errors import OneLineError

__all__ = ["DataError"]


class DataError(OneLineError, ValueError):
    """A user-facing data problem; str(e) is one line naming the file and the fix.

    It subclasses ValueError so callers that already guard against bad values
    keep working.
    """

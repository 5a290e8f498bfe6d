"""Exception type for user-facing data problems."""

from __future__ import annotations

__all__ = ["DataError"]


class DataError(ValueError):
    """A user-facing data problem; str(e) is one line naming the file and the fix.

    It subclasses ValueError so callers that already guard against bad values
    keep working, while the CLI can catch exactly this type and print the
    message without a traceback.
    """

    def __init__(self, message: str) -> None:
        # Messages often embed reprs of arrays, shapes or OS error strings that
        # can contain newlines; collapsing them keeps the "one line" promise the
        # CLI relies on when it prints `error: <message>`.
        super().__init__(" ".join(str(message).split()))

"""The one base class of every problem the user can fix (a bad space file, data folder, cluster address,
model folder or flag). The command lines catch it alone and print it as one line, exit code 2."""

from __future__ import annotations


class UserError(Exception):
    """A problem the user can fix; ``str(e)`` is one line: what is wrong, where (file, key, flag), how to fix it.

    Subclasses say which kind: ``ConfigError`` (space files), ``DataError`` (data folders), ``ClusterError``
    (Ray clusters), ``ExportError`` (model folders). ``search.cli.command`` prints any of them as
    ``error: <message>`` and exits 2.
    """


class OneLineError(UserError):
    """A user error whose message may embed reprs or OS error strings with newlines: they are collapsed,
    keeping the one-line promise."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))

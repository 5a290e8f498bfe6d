"""What the command lines (``search.run``, ``.predict``, ``.evaluate``, ``.report``) share: bad input is one line and exit code 2."""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from common.atomic import atomic_write_text
from common.errors import UserError

__all__ = ["ArgumentParser", "UserError", "command", "positive_int", "write_output"]

Main = Callable[[Sequence[str] | None], int]


def command(main: Main) -> Main:
    """A command line's ``main``, with every user error (any ``UserError``) printed as one line, exit code 2."""

    @functools.wraps(main)
    def run(argv: Sequence[str] | None = None) -> int:
        try:
            return main(argv)
        except UserError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2

    return run


class ArgumentParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, not argparse's usage block: the fix is in the message or in --help.
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def positive_int(text: str) -> int:
    """An argparse ``type``: a bad value is reported with the flag's name, before any file is read."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def write_output(path: Path, text: str) -> None:
    """Write a command's ``--out`` file atomically; a path that cannot be written is the user's to fix."""
    try:
        atomic_write_text(path, text)
    except OSError as e:
        raise UserError(f"cannot write {path}: {e.strerror or e}; pick a writable --out path") from None

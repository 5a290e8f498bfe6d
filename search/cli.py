"""What the command lines (``search.run``, ``.predict``, ``.evaluate``, ``.report``) share: bad input is one line and exit code 2."""
from __future__ import annotations

import argparse
from typing import NoReturn


class UserError(Exception):
    """A problem the user can fix; reported as one line, exit code 2."""


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

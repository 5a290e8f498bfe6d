"""A quiet console: the search's own lines on the terminal, Ray's and Tune's output in a log file.

Ray and Tune print to the terminal from many places: Tune's boxed configuration table and its
TensorBoard hint (``print``), their loggers' warnings, the raylet's warnings relayed to the driver, and
the C++ core worker's messages (straight to file descriptor 2). Inside ``quiet_console`` file
descriptors 1 and 2 lead to the log file, so whatever Ray writes below Python lands there, and
``sys.stdout`` / ``sys.stderr`` become streams that send a write to the terminal, unless the code that
wrote it is Ray's: Ray's ``print`` calls go to the log file, and so do the records of Ray's loggers.
"""

from __future__ import annotations

import io
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TextIO

# Modules that write on someone else's behalf: the writer is whoever called them. Ray's tqdm module puts its
# safe_print in place of the builtin print once Ray relays a worker's output, for everyone's prints.
RELAYS = ("logging", "warnings", __name__, "ray.experimental.tqdm_ray")


def writer_module(frame: FrameType | None) -> str:
    """The module of the first caller, from ``frame`` up, that is not a relay."""
    while frame is not None:
        name = frame.f_globals.get("__name__", "")
        if not any(name == r or name.startswith(r + ".") for r in RELAYS):
            return name
        frame = frame.f_back
    return ""


class Routed(io.TextIOBase):
    """A text stream that sends Ray's writes to ``log`` and every other write to ``console``."""

    def __init__(self, console: TextIO, log: TextIO) -> None:
        self.console, self.log = console, log

    def write(self, text: str) -> int:
        target = self.log if writer_module(sys._getframe(1)).split(".")[0] == "ray" else self.console
        target.write(text)
        if target is self.console:
            target.flush()
        return len(text)

    def flush(self) -> None:
        self.console.flush()
        self.log.flush()

    @property
    def closed(self) -> bool:  # colorama, which Ray imports, asks at exit
        return self.console.closed

    def isatty(self) -> bool:
        return not self.console.closed and self.console.isatty()

    def fileno(self) -> int:
        return self.console.fileno()


def where_to_watch(dashboard: str | None, tensorboard: Path, journal: Path) -> str:
    """The lines that tell, at a search's start, where to follow it."""
    lines = [f"  Ray dashboard: http://{dashboard}"] if dashboard else []
    lines += [f"  tensorboard --logdir {tensorboard}", f"  optuna-dashboard {journal}"]
    return "\n".join(lines)


def terminal(stream: TextIO, fd: int) -> TextIO:
    """Where ``stream``'s writes go once file descriptor ``fd`` leads to the log: a copy of ``fd``, or
    ``stream`` itself when it does not write to ``fd`` (a caller's capture, as pytest's)."""
    try:
        if stream.fileno() != fd:
            return stream
    except (OSError, ValueError, io.UnsupportedOperation):
        return stream
    return open(os.dup(fd), "w", buffering=1, encoding="utf-8", errors="replace")


@contextmanager
def quiet_console(log_path: Path, verbose: bool = False) -> Iterator[Path | None]:
    """Ray's and Tune's output to ``log_path`` (appended), the rest to the terminal; yields the log's path.

    ``verbose``: change nothing (yields None), as before this existed.
    """
    if verbose:
        yield None
        return
    log_path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = {fd: os.dup(fd) for fd in (1, 2)}
    streams = sys.stdout, sys.stderr
    console = {1: terminal(sys.stdout, 1), 2: terminal(sys.stderr, 2)}
    log = open(log_path, "a", buffering=1, encoding="utf-8", errors="replace")  # noqa: SIM115
    ray_logger = logging.getLogger("ray")  # Ray's loggers propagate to it, and it to no one
    handlers = ray_logger.handlers[:]
    to_log = logging.StreamHandler(log)
    to_log.setFormatter(logging.Formatter("%(asctime)s\t%(levelname)s %(filename)s:%(lineno)s -- %(message)s"))
    for fd in (1, 2):
        os.dup2(log.fileno(), fd)
    sys.stdout, sys.stderr = Routed(console[1], log), Routed(console[2], log)
    ray_logger.handlers = [to_log]
    try:
        yield log_path
    finally:
        ray_logger.handlers = handlers
        sys.stdout.flush()
        sys.stderr.flush()
        sys.stdout, sys.stderr = streams
        for fd in (1, 2):
            os.dup2(saved[fd], fd)
            os.close(saved[fd])
            if console[fd] is not streams[fd - 1]:
                console[fd].close()
        log.close()

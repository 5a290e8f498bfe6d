"""The quiet console: the search's lines on the terminal, Ray's (Python prints, log records, C++ writes) in the log."""

from __future__ import annotations

import logging
import os
import sys
import types

import ray  # noqa: F401  (Ray's loggers and their handlers, as a search has them)
from ray.experimental.tqdm_ray import safe_print

from search.runtime.console import quiet_console


def _print(text: str) -> None:
    print(text)


# The same function, as if Ray's module had it, as Tune's output code has its prints.
ray_print = types.FunctionType(_print.__code__, {"__name__": "ray.tune.experimental.output", "__builtins__": __builtins__})


def test_ray_output_goes_to_the_log_and_ours_to_the_terminal(tmp_path, capfd):
    log = tmp_path / "ray.log"
    with quiet_console(log) as path:
        assert path == log
        print("progress line")
        safe_print("next progress line")  # Ray's tqdm module makes it the builtin print, for every print
        print("error line", file=sys.stderr)
        ray_print("╭── Configuration for experiment")
        logging.getLogger("ray.tune").warning("may be a performance bottleneck")
        os.write(2, b"*** SIGTERM received (C++ core worker)\n")
    out, err = capfd.readouterr()
    assert out == "progress line\nnext progress line\n"
    assert err == "error line\n"
    written = log.read_text()
    for line in ("Configuration for experiment", "performance bottleneck", "SIGTERM received"):
        assert line in written
    assert "progress line" not in written
    print("after")  # the terminal is back
    assert capfd.readouterr().out == "after\n"


def test_verbose_changes_nothing(tmp_path, capfd):
    with quiet_console(tmp_path / "ray.log", verbose=True) as path:
        ray_print("Configuration for experiment")
    assert path is None
    assert "Configuration for experiment" in capfd.readouterr().out
    assert not (tmp_path / "ray.log").exists()


def test_a_callers_own_capture_of_sys_stdout_still_gets_our_lines(tmp_path, capsys):
    with quiet_console(tmp_path / "ray.log"):
        print("summary line")
        print("error: one line", file=sys.stderr)
        ray_print("Ray's line")
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("summary line\n", "error: one line\n")
    assert (tmp_path / "ray.log").read_text() == "Ray's line\n"

"""``python -m search.report results/NAME``: rebuild an experiment's leaderboard and its report.md.

``report.md`` says what a search found: the top of the leaderboard, learning curves, how many trials
survived each ASHA rung, fANOVA hyperparameter importance, the retrained configs, the modality ablation
and the best retrained config's confusion matrix. Its figures are PNG files under ``figures/``,
referenced by relative path. Everything is read from the experiment folder, so a finished, resumed or
killed search is served alike; a section whose input is missing says so in one line.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from search.cli import ArgumentParser, UserError, command
from search.results.leaderboard import trial_table, write_leaderboard
from search.results.report import read_retrained, write_report
from search.results.saved_experiment import load_experiment


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = ArgumentParser(prog="python -m search.report", description=__doc__.splitlines()[0], allow_abbrev=False)
    p.add_argument("experiment", help="an experiment folder, e.g. results/fusion")
    return p.parse_args(argv)


@command
def main(argv: Sequence[str] | None = None) -> int:
    root = Path(parse_args(argv).experiment)
    try:
        spec = load_experiment(root)
        table = trial_table(root, spec.search, spec.resolver())
        write_leaderboard(root, table, spec.name, spec.search, read_retrained(root))
        path = write_report(root, spec, table)
    except OSError as e:  # a results folder that cannot be read or written
        raise UserError(f"{e.filename or root}: {e.strerror or e}") from None
    print(f"report: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

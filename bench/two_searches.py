"""Two local searches at once on one machine (two terminals, two experiments), as a user would start them.

Runs the pair of ASHA searches that `tests/search/runtime/test_two_searches.py` checks
(`tests.helpers.side_by_side`: each its own local Ray cluster, started `--gap` seconds apart) and prints, for
each, its exit code and time, how many trials ASHA stopped, any process it left behind, and whether its
cluster's dashboard agent could bind its HTTP port (Ray 2.60's is fixed: 52365).

    python bench/two_searches.py [--trials 6] [--epochs 4] [--gap 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.helpers import side_by_side

AGENT_PORT_TAKEN = "Failed to start HTTP server"  # the dashboard agent's own words (ray/dashboard/agent.py)
SESSIONS = Path("/tmp/ray")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--trials", type=int, default=6)
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--gap", type=float, default=3.0, help="seconds between the two starts")
    args = p.parse_args()
    before = set(SESSIONS.glob("session_2*"))
    with tempfile.TemporaryDirectory() as tmp:
        for run in side_by_side(Path(tmp), args.trials, args.epochs, args.gap):
            stopped = sum(s.startswith("stopped early") for s in run.statuses)
            print(
                f"{run.name}: exit {run.code} after {run.seconds:.0f} s; {len(run.statuses)} trials, {stopped} stopped "
                f"early by ASHA; left behind: {run.left_behind or 'nothing'}"
            )
            if run.code != 0:
                print(run.output[-3000:])
    for session in sorted(set(SESSIONS.glob("session_2*")) - before):
        logs = [p.read_text(errors="replace") for p in (session / "logs").glob("dashboard_agent*")]
        taken = any(AGENT_PORT_TAKEN in text for text in logs)
        print(f"{session.name}: dashboard agent {'without its HTTP port (taken)' if taken else 'listening on its HTTP port'}")


if __name__ == "__main__":
    main()

"""The experiment folder results/<name>/ and what is read from it: its layout (folder), atomic writes
(atomic), the leaderboard, per-trial TensorBoard runs, fANOVA importance, plots and report.md."""

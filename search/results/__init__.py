"""The experiment folder results/<name>/ and what is read from it: its layout, files and readers (folder), the
leaderboard, the Pareto front (pareto, front), per-trial TensorBoard runs, fANOVA importance, plots and report.md."""

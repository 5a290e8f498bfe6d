"""The experiment folder results/<name>/ and what is read from it: its layout, files and readers (folder), the
leaderboard, the Pareto front (pareto, front), per-trial TensorBoard runs, fANOVA importance, plots, the export
stage (export_stage: retrained models to model folders) and report.md."""

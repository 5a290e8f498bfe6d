"""Ray Tune hyperparameter search over the models: the command lines (run, predict, evaluate, report, each
its argparse and main, sharing search.cli) over three subpackages: space (the space-file language), runtime
(everything that drives Ray) and results (the experiment folder and what is read from it)."""

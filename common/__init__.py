"""What every package shares and nothing else: the user-error base class (errors), the constants with one
home (constants: input shapes, class count, metric names with their directions), the mean and sample std
(stats) and atomic file writes (atomic). Imports nothing of the project."""

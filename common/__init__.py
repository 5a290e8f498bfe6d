"""What every package shares and nothing else: the user-error base class and the constants with one home
(input shapes, class count, metric names with their directions). Imports nothing of the project."""

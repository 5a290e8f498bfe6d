"""Training one model on one split, knowing nothing of Ray or YAML: its typed config (config), the loop
(trainer) and the metrics (metrics)."""

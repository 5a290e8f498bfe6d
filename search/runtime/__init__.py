"""The Ray runtime of a search: the cluster (cluster), the Tune layer and the Tuner built in one place
(tuner), each trial's Train run (torch_trainer, ddp_trainer) and worker (worker), the experiment pipeline
(experiment), retraining of the best configs (retrain), the compute budget and progress view (budget,
progress), and every Ray private API and workaround (ray_workarounds, history)."""

"""A trained model outside the search: export (TorchScript, state dict, optional ONNX, model card),
loading it back, predicting a test set and evaluating it under corruptions. Nothing here imports Ray."""

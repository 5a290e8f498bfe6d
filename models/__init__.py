"""Multimodal (image + audio) digit classifiers assembled from registered encoders, fusions and a head."""

from models.audio_encoders import AUDIO_ENCODERS
from models.classifier import (
    Component,
    HeadConfig,
    ModelConfig,
    MultimodalClassifier,
    build_model,
    count_parameters,
)
from models.fusion import FUSIONS
from models.image_encoders import IMAGE_ENCODERS

__all__ = [
    "AUDIO_ENCODERS",
    "FUSIONS",
    "IMAGE_ENCODERS",
    "Component",
    "HeadConfig",
    "ModelConfig",
    "MultimodalClassifier",
    "build_model",
    "count_parameters",
]

"""The typed config of one trial: everything needed to reproduce it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from data_utils.augment import AugmentConfig
from data_utils.preprocess import PreprocessConfig
from models.classifier import ModelConfig


@dataclass(frozen=True)
class TrainConfig:
    optimizer: Literal["adam", "adamw", "sgd"] = "adam"
    lr: float = 1e-3  # peak learning rate for one-cycle
    weight_decay: float = 0.0
    momentum: float = 0.9  # SGD only
    schedule: Literal["none", "cosine", "onecycle"] = "none"  # stepped per batch
    label_smoothing: float = 0.0
    batch_size: int = 64
    epochs: int = 10
    class_weights: bool = False  # weight the loss by inverse class frequency of the training split
    amp: bool = True  # bfloat16 autocast, on CUDA only
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0 < self.lr < 10:
            raise ValueError(f"lr must be in (0, 10), got {self.lr}")
        if self.weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0, got {self.weight_decay}")
        if not 0 <= self.momentum < 1:
            raise ValueError(f"momentum must be in [0, 1), got {self.momentum}")
        if not 0 <= self.label_smoothing < 1:
            raise ValueError(f"label_smoothing must be in [0, 1), got {self.label_smoothing}")
        if self.batch_size < 2:
            raise ValueError(f"batch_size must be >= 2 (batch norm needs two samples), got {self.batch_size}")
        if self.epochs < 1:
            raise ValueError(f"epochs must be >= 1, got {self.epochs}")


@dataclass(frozen=True)
class TrialConfig:
    model: ModelConfig
    preprocess: PreprocessConfig = field(default_factory=PreprocessConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

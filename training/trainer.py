"""Train one trial config, fast: the dataset lives as tensors on the device and batches are drawn by index.

Small models on MNIST-sized data are bound by Python and data-loading overhead, not by FLOPs, so there
is no DataLoader and no per-sample Python: the splits are normalized once, and each step is one gather.
The trainer knows nothing of Ray or YAML; a caller (a Ray Train worker, a test, a benchmark) passes an
``on_epoch`` hook to report metrics and save checkpoints, and ``resume`` to continue from one.
"""

from __future__ import annotations

import copy
import time
import warnings
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.hooks import RemovableHandle

from data_utils.augment import augment
from data_utils.corruptions import corrupt
from data_utils.dataset import Split
from data_utils.preprocess import Preprocessor, audio_shape
from models.classifier import MultimodalClassifier, build_model, count_parameters, to_dict
from training.config import TrainConfig, TrialConfig
from training.metrics import macro_f1

Checkpoint = dict[str, Any]
EpochHook = Callable[[dict[str, float], Callable[[], Checkpoint]], None]

# val_robust_f1 is the mean macro F1 over these versions of the validation split (data_utils.corruptions):
# a model that leans on one modality scores low when that modality goes missing.
ROBUST_CORRUPTIONS = ("clean", "audio_noise", "image_blank")
# Not the trial's seed: every trial, whatever its seed, is scored on the same corrupted inputs.
CORRUPTION_SEED = 0
# An epoch's work in sample-epochs (search.runtime.budget) counts a validation sample at this fraction of a training one:
# a forward pass, against a training step's forward and backward (about twice the forward), augmentation aside.
EVAL_COST = 1 / 3


@dataclass
class DeviceSplit:
    """One split, normalized once, on the training device."""

    image: Tensor  # (N, 1, 28, 28) float32
    audio: Tensor  # (N, 39, 13) float32, before the audio layout
    labels: Tensor  # (N,) int64

    def __len__(self) -> int:
        return self.labels.shape[0]


@dataclass
class TrainResult:
    history: list[dict[str, float]]  # one row per epoch, see ``train``
    model: MultimodalClassifier
    preprocessor: Preprocessor


def as_tensor(array: np.ndarray, device: torch.device) -> Tensor:
    # Arrays read zero-copy from Ray's object store are read-only; we never write to them (every use
    # below makes a new tensor), so torch's warning about it is noise.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return torch.as_tensor(array).to(device)


def to_device(split: Split, pre: Preprocessor, device: torch.device, corruption: str = "clean") -> DeviceSplit:
    """``split`` on ``device``, corrupted (see data_utils.corruptions, seeded with CORRUPTION_SEED), then normalized."""
    if split.labels is None:
        raise ValueError("training and evaluation need a labelled split")
    images, audio = corrupt(corruption, as_tensor(split.images, device), as_tensor(split.audio, device), CORRUPTION_SEED)
    image, audio = pre.normalize(images, audio)
    return DeviceSplit(image, audio, as_tensor(split.labels, device).long())


def fit_preprocessor(config: TrialConfig, split: Split, device: torch.device) -> Preprocessor:
    return Preprocessor.fit(config.preprocess, as_tensor(split.images, device), as_tensor(split.audio, device))


def make_optimizer(cfg: TrainConfig, params: Any) -> torch.optim.Optimizer:
    # fused: one kernel for all parameters instead of a handful of ops each; small models have many
    # small tensors, so this is a tenth of the step time on CPU.
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay, nesterov=True, fused=True)
    opt = torch.optim.AdamW if cfg.optimizer == "adamw" else torch.optim.Adam
    return opt(params, lr=cfg.lr, weight_decay=cfg.weight_decay, fused=True)


def make_schedule(cfg: TrainConfig, opt: torch.optim.Optimizer, steps_per_epoch: int) -> torch.optim.lr_scheduler.LRScheduler:
    total = cfg.epochs * steps_per_epoch
    if cfg.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total)
    if cfg.schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=total)
    return torch.optim.lr_scheduler.LambdaLR(opt, lambda _: 1.0)


def class_weights(labels: Tensor, num_classes: int) -> Tensor:
    counts = torch.bincount(labels, minlength=num_classes).float()
    return counts.sum() / (num_classes * counts.clamp(min=1))


def autocast(device: torch.device, enabled: bool) -> Any:
    if enabled and device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return nullcontext()


def batches(n: int, batch_size: int, gen: torch.Generator, device: torch.device) -> list[Tensor]:
    order = torch.randperm(n, generator=gen, device=device)
    # A last batch of one sample would break batch norm; its sample is seen in another epoch.
    return [b for b in order.split(batch_size) if b.numel() > 1]


def eval_batch_size(device: torch.device) -> int:
    # On CPU, past a few hundred samples the conv activations of a batch spill out of the caches: the
    # report1 model evaluates 1.5x faster in batches of 256 than of 1024. A GPU wants fewer, larger launches.
    return 256 if device.type == "cpu" else 1024


@torch.no_grad()
def evaluate(
    model: nn.Module, pre: Preprocessor, data: DeviceSplit, batch_size: int | None = None, amp: bool = True
) -> dict[str, Any]:
    """Loss, accuracy, macro F1 and predictions of ``model`` on a normalized split.

    Args:
        batch_size: samples per forward pass; None picks ``eval_batch_size`` of the split's device.

    Returns:
        {"loss": float, "accuracy": float, "f1": float, "predictions": Tensor (N,)}
    """
    model.eval()
    device = data.labels.device
    if batch_size is None:
        batch_size = eval_batch_size(device)
    losses, preds = [], []
    for start in range(0, len(data), batch_size):
        sl = slice(start, start + batch_size)
        with autocast(device, amp):
            logits = model(data.image[sl], pre.layout(data.audio[sl])).float()
        losses.append(F.cross_entropy(logits, data.labels[sl], reduction="sum"))
        preds.append(logits.argmax(1))
    pred = torch.cat(preds)
    num_classes = logits.shape[1]
    return {
        "loss": (torch.stack(losses).sum() / len(data)).item(),
        "accuracy": (pred == data.labels).float().mean().item(),
        "f1": macro_f1(pred, data.labels, num_classes),
        "predictions": pred,
    }


def channels_last_grad(grad: Tensor) -> Tensor:
    return grad.contiguous(memory_format=torch.channels_last)


def keep_backward_channels_last(model: nn.Module) -> list[RemovableHandle]:
    """Keep the backward pass channels-last through every Flatten of a channels-last feature map.

    Flatten copies the map to the contiguous layout and autograd hands its gradient back in that layout, so
    the backward kernels of the blocks before it (dropout, max-pool, ReLU, batch norm, conv) get mixed
    layouts and take slow paths: max-pool's alone copies its input, indices and gradient to match. Turning
    that one small gradient back to channels-last keeps them on their fast paths; the math is unchanged.

    Returns:
        The hooks' handles: remove them before scripting or exporting the model (TorchScript rejects hooks).
    """

    def on_flatten(module: nn.Module, args: tuple[Tensor, ...]) -> None:
        (x,) = args
        if x.requires_grad and x.dim() == 4 and x.is_contiguous(memory_format=torch.channels_last):
            x.register_hook(channels_last_grad)

    return [m.register_forward_pre_hook(on_flatten) for m in model.modules() if isinstance(m, nn.Flatten)]


def distributed_rank() -> tuple[int, int]:
    """(rank, world size) of this process in a torch.distributed group (a Ray Train worker group), or (0, 1)."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return 0, 1


def shard(n: int, rank: int, world: int) -> np.ndarray:
    """The indices of ``rank``'s shard of ``n`` samples: every ``world``-th one from ``rank``. The shards are
    disjoint and of equal size (DDP synchronizes every step, so every rank must take as many), and cover
    all but the last ``n % world`` samples."""
    return np.arange(rank, (n // world) * world, world)


def train(
    config: TrialConfig,
    train_split: Split,
    val_split: Split,
    device: str | torch.device = "cpu",
    on_epoch: EpochHook | None = None,
    resume: Checkpoint | None = None,
) -> TrainResult:
    """Train ``config`` on ``train_split`` and evaluate on ``val_split`` after every epoch.

    Args:
        config: the trial's typed config (model, preprocessing, augmentation, optimization).
        train_split, val_split: labelled splits (numpy arrays; read-only arrays are fine).
        device: "cpu", "cuda", ...; mixed precision (bfloat16) is used on CUDA.
        on_epoch: called after each epoch with the metrics row and a function that builds a checkpoint
            (a plain dict of tensors and numbers, loadable with ``torch.load(weights_only=True)``).
        resume: a checkpoint from ``on_epoch``; training continues after its epoch, bit for bit as if
            it had never stopped (on CPU).

    In a torch.distributed group (a Ray Train run with several workers) each rank trains on its
    ``shard`` of ``train_split``, DistributedDataParallel averages the gradients, and every rank's
    history holds the whole group's train_loss and train_samples.

    Returns:
        The per-epoch history — rows of epoch, train_loss, val_loss, val_accuracy, val_f1,
        val_robust_f1 (see ``ROBUST_CORRUPTIONS``), lr, seconds, cpu_seconds, params (the model's parameter count),
        train_samples and val_samples (samples through the model, over every rank and validation pass) and
        sample_epochs (the epoch's work: train_samples + EVAL_COST * val_samples) — and the trained model and
        preprocessor.

    Example:
        >>> result = train(config, train_split, val_split)
        >>> result.history[-1]["val_f1"]
    """
    device = torch.device(device)
    cfg = config.train
    torch.manual_seed(cfg.seed)
    gen = torch.Generator(device=device)
    gen.manual_seed(cfg.seed)

    pre = fit_preprocessor(config, train_split, device)  # on the whole split: every rank normalizes alike
    model = build_model(config.model, audio_shape(config.preprocess.audio_layout)).to(device)
    rank, world = distributed_rank()
    if world > 1:
        train_split = train_split.subset(shard(len(train_split), rank, world))
    train_data = to_device(train_split, pre, device)
    # Corrupted copies made once: each epoch only runs the model over them, two passes more than over val.
    val_sets = {name: to_device(val_split, pre, device, name) for name in ROBUST_CORRUPTIONS}
    # channels-last convolutions and pooling are faster on both oneDNN (CPU) and cuDNN (GPU).
    model = model.to(memory_format=torch.channels_last)
    for split in (train_data, *val_sets.values()):
        split.image = split.image.contiguous(memory_format=torch.channels_last)
    layout_hooks = keep_backward_channels_last(model)
    net: nn.Module = model
    if world > 1:
        net = nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)

    params = count_parameters(model)
    opt = make_optimizer(cfg, model.parameters())
    full, rest = divmod(len(train_data), cfg.batch_size)
    steps = full + (rest > 1)  # as many as batches() yields, without drawing a permutation
    sched = make_schedule(cfg, opt, steps)
    weight = class_weights(train_data.labels, config.model.num_classes) if cfg.class_weights else None
    history: list[dict[str, float]] = []
    if resume is not None:
        model.load_state_dict(resume["model"])
        opt.load_state_dict(resume["optimizer"])
        sched.load_state_dict(resume["scheduler"])
        torch.set_rng_state(resume["rng"]["torch"])
        gen.set_state(resume["rng"]["generator"].to(gen.get_state().device))
        history = list(resume["history"])

    def checkpoint() -> Checkpoint:
        # A snapshot: state_dict() shares storage with tensors that the next step updates in place.
        return copy.deepcopy(
            {
                "model": model.state_dict(),
                "preprocessor": pre.state_dict(),
                "optimizer": opt.state_dict(),
                "scheduler": sched.state_dict(),
                "rng": {"torch": torch.get_rng_state(), "generator": gen.get_state()},
                "epoch": len(history),
                "history": list(history),
                "config": to_dict(config),
            }
        )

    for epoch in range(len(history) + 1, cfg.epochs + 1):
        start, cpu_start = time.perf_counter(), time.process_time()
        net.train()
        total = torch.zeros((), device=device)
        seen = 0
        for idx in batches(len(train_data), cfg.batch_size, gen, device):
            image, audio = train_data.image[idx], train_data.audio[idx]
            if config.augment.active:
                image, audio = augment(image, audio, config.augment, gen)
            with autocast(device, cfg.amp):
                logits = net(image, pre.layout(audio))
                loss = F.cross_entropy(logits.float(), train_data.labels[idx], weight=weight, label_smoothing=cfg.label_smoothing)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.detach() * idx.numel()
            seen += idx.numel()
        sums = torch.stack([total, torch.tensor(float(seen), device=device)])
        if world > 1:
            torch.distributed.all_reduce(sums)  # the epoch's loss and samples over every rank's shard
        loss_sum, samples = sums.tolist()
        lr = opt.param_groups[0]["lr"]
        scores = {name: evaluate(model, pre, data, amp=cfg.amp) for name, data in val_sets.items()}
        val = scores["clean"]
        val_samples = world * sum(len(data) for data in val_sets.values())  # every rank evaluates the whole split
        history.append(
            {
                "epoch": epoch,
                "train_loss": loss_sum / samples,
                "train_samples": int(samples),  # over every rank's shard
                "val_loss": val["loss"],
                "val_accuracy": val["accuracy"],
                "val_f1": val["f1"],
                "val_robust_f1": sum(score["f1"] for score in scores.values()) / len(scores),
                "lr": lr,
                "seconds": time.perf_counter() - start,
                "cpu_seconds": time.process_time()
                - cpu_start,  # this process's, all its threads: a busy machine inflates only seconds
                "params": params,
                "val_samples": val_samples,
                "sample_epochs": samples + EVAL_COST * val_samples,
            }
        )
        if on_epoch is not None:
            on_epoch(history[-1], checkpoint)
    for hook in layout_hooks:
        hook.remove()
    return TrainResult(history, model, pre)

"""The trainer's speed-ups change where the work happens, never the numbers: layouts and batch sizes only."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from data_utils import make_demo_dataset, train_val_split
from data_utils.preprocess import PreprocessConfig, Preprocessor
from models import build_model
from search.space.spec import parse_trial_config
from training.trainer import (
    eval_batch_size,
    evaluate,
    keep_backward_channels_last,
    to_device,
    train,
)

CNN_MODEL = {
    "image": {"name": "cnn", "channels": [8, 16], "kernels": [3, 3], "dropout": 0.25, "fc": [32]},
    "audio": {"name": "cnn2d", "channels": [4], "kernels": [3]},
    "fusion": {"name": "concat"},
}


@pytest.fixture(scope="module")
def splits():
    torch.set_num_threads(1)
    return train_val_split(make_demo_dataset(0).train, 0.2, 0)


def channels_last_model() -> nn.Module:
    torch.manual_seed(0)
    config = parse_trial_config({"model": CNN_MODEL})
    return build_model(config.model, (39, 13)).to(memory_format=torch.channels_last).train()


def pooling_grads_and_weight_grads(hooked: bool) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """The gradients reaching each max-pool, and the parameters' gradients, after one backward pass."""
    model = channels_last_model()
    if hooked:
        keep_backward_channels_last(model)
    seen: list[torch.Tensor] = []
    for module in model.modules():
        if isinstance(module, nn.MaxPool2d):
            module.register_full_backward_hook(lambda m, grad_in, grad_out: seen.append(grad_out[0]))
    torch.manual_seed(1)
    image = torch.randn(8, 1, 28, 28).contiguous(memory_format=torch.channels_last)
    F.cross_entropy(model(image, torch.randn(8, 39, 13)), torch.arange(8) % 10).backward()
    return seen, [p.grad for p in model.parameters()]


def test_the_backward_pass_stays_channels_last_and_computes_the_same_gradients():
    plain_pool_grads, plain = pooling_grads_and_weight_grads(hooked=False)
    pool_grads, hooked = pooling_grads_and_weight_grads(hooked=True)
    # Without the hook the gradient out of each Flatten is contiguous, so the last pool of each encoder gets it
    # in the other layout; with it, every pool does its backward in channels-last.
    assert not all(g.is_contiguous(memory_format=torch.channels_last) for g in plain_pool_grads)
    assert all(g.is_contiguous(memory_format=torch.channels_last) for g in pool_grads)
    for a, b in zip(plain, hooked):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated")
def test_train_returns_the_model_without_its_layout_hooks(splits):
    config = parse_trial_config({"model": CNN_MODEL, "train": {"epochs": 1, "batch_size": 64}})
    model = train(config, *splits).model
    assert not any(m._forward_pre_hooks for m in model.modules())
    torch.jit.script(model)  # what export does; TorchScript rejects Python hooks


def test_evaluation_batch_size_changes_no_result(splits):
    train_split, val_split = splits
    pre = Preprocessor.fit(PreprocessConfig(), torch.as_tensor(train_split.images), torch.as_tensor(train_split.audio))
    data = to_device(val_split, pre, torch.device("cpu"))
    assert eval_batch_size(torch.device("cpu")) < len(data) < 1024  # the default splits the set, 1024 does not
    model = channels_last_model().eval()
    default, one_batch = evaluate(model, pre, data), evaluate(model, pre, data, batch_size=1024)
    assert torch.equal(default["predictions"], one_batch["predictions"])
    assert default["loss"] == pytest.approx(one_batch["loss"], rel=1e-6)

"""Classification metrics computed on the device, so evaluation never copies predictions to the host."""

from __future__ import annotations

import torch
from torch import Tensor


def confusion_matrix(pred: Tensor, target: Tensor, num_classes: int) -> Tensor:
    """(num_classes, num_classes) counts; rows are true classes, columns predictions."""
    return torch.bincount(target * num_classes + pred, minlength=num_classes**2).view(num_classes, num_classes)


def macro_f1(pred: Tensor, target: Tensor, num_classes: int) -> float:
    """Macro F1 over the classes present in ``target`` or ``pred``, as scikit-learn computes it."""
    cm = confusion_matrix(pred, target, num_classes).double()
    tp = cm.diag()
    support = cm.sum(1)
    predicted = cm.sum(0)
    denom = support + predicted
    present = denom > 0
    f1 = torch.where(present, 2 * tp / denom.clamp(min=1), torch.zeros_like(tp))
    return (f1[present].mean()).item() if present.any() else 0.0

"""``retrain.ensemble: k``: the top k retrained models as one TorchScript model that averages their
probabilities, exported to ``results/<name>/ensemble/`` with its held-out metrics beside the single best's.

The members are the retrained runs of the full (fused) configs in the search's order (best config first),
each config's seeds in turn: the held-out set never chooses them.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.metrics import f1_score
from torch import Tensor, nn

from data_utils.loaders import Split
from data_utils.preprocess import Preprocessor
from serving.checks import check_close, dumps, probe_inputs
from serving.export import ExportedClassifier, quiet_jit, script, write_folder
from serving.layout import METRICS_FILE, MODEL_FILE

MEMBERS_FILE = "members.json"
EVAL_BATCH = 512


class EnsembleClassifier(nn.Module):
    """Raw inputs -> the log of the members' mean class probabilities (B, num_classes).

    Each member is an ``ExportedClassifier`` with its own preprocessing, so members may differ in layout,
    scaling or architecture. The log keeps the output usable as the single model's logits are:
    ``.argmax(1)`` gives the digit and ``softmax`` the averaged probabilities.
    """

    def __init__(self, members: Sequence[ExportedClassifier]) -> None:
        super().__init__()
        if not members:
            raise ValueError("an ensemble needs at least one member")
        self.members = nn.ModuleList(members)

    def forward(self, images: Tensor, audio: Tensor) -> Tensor:
        probabilities = torch.zeros(0)
        for i, member in enumerate(self.members):
            p = torch.softmax(member(images, audio), dim=1)  # (B, C)
            probabilities = p if i == 0 else probabilities + p
        return torch.log(probabilities / len(self.members))


def members_in_order(rows: Sequence[dict[str, Any]], sources: Sequence[str], k: int) -> list[dict[str, Any]]:
    """The first ``k`` fused runs: by their config's place in the search (``sources``), then seed."""
    fused = [r for r in rows if r["variant"] == "fused" and r["source"] in sources]
    return sorted(fused, key=lambda r: (sources.index(r["source"]), r["seed"]))[:k]


def scores(model: torch.jit.ScriptModule, split: Split) -> dict[str, Any]:
    """Accuracy and macro F1 of an exported model on a labelled split of raw inputs."""
    with torch.no_grad():
        predictions = np.concatenate(
            [
                model(torch.from_numpy(split.images[i : i + EVAL_BATCH]), torch.from_numpy(split.audio[i : i + EVAL_BATCH]))
                .argmax(1)
                .numpy()
                for i in range(0, len(split.labels), EVAL_BATCH)
            ]
        )
    return {
        "accuracy": float((predictions == split.labels).mean()),
        "f1": float(f1_score(split.labels, predictions, average="macro")),
    }


def export_ensemble(
    folder: Path,
    k: int,
    rows: Sequence[dict[str, Any]],
    models: dict[str, tuple[nn.Module, Preprocessor]],
    sources: Sequence[str],
    eval_split: Split,
    evaluated_on: str,
) -> dict[str, Any] | None:
    """Write ``folder`` (model.ts, metrics.json, members.json); the metrics for retrain.json.

    Args:
        rows: the retrained runs' rows (``search.retrain``), with their held-out ``accuracy`` and ``f1``.
        models: run name -> (final model, preprocessor).
        sources: the retrained configs' trial ids, best first.
    """
    chosen = members_in_order(rows, sources, k)
    if len(chosen) < 2:
        return None
    wrapped = EnsembleClassifier([ExportedClassifier(*_cpu(models[r["run"]])).eval() for r in chosen]).eval()
    scripted = script(wrapped)
    probe = probe_inputs()
    with torch.no_grad():
        check_close("ensemble TorchScript", scripted(*probe), wrapped(*probe), 1e-5)
    single = chosen[0]
    metrics = {
        "evaluated_on": evaluated_on,
        "members": len(chosen),
        "ensemble": scores(scripted, eval_split),
        "single_best": {"run": single["run"], "accuracy": single["accuracy"], "f1": single["f1"]},
    }
    buffer = io.BytesIO()
    with quiet_jit():
        torch.jit.save(scripted, buffer)
    write_folder(
        folder,
        {
            MODEL_FILE: buffer.getvalue(),
            METRICS_FILE: dumps(metrics),
            MEMBERS_FILE: dumps([{k: r[k] for k in ("run", "source", "seed", "accuracy", "f1")} for r in chosen]),
        },
    )
    print(f"ensemble of {len(chosen)} exported to {folder}: F1 {metrics['ensemble']['f1']:.4f} (single best {single['f1']:.4f})")
    return metrics


def _cpu(member: tuple[nn.Module, Preprocessor]) -> tuple[Preprocessor, nn.Module]:
    model, pre = member
    return pre.cpu().eval(), model.cpu().eval()

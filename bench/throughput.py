"""Training samples/s: our trainer vs the reports' plain loop (DataLoader over a TensorDataset).

Same model (preset report1_c of spaces/seeds.yaml), same data, same optimizer, measured side by side in
one run and alternated, so machine noise hits both alike. Prints both figures and the ratio.

    python bench/throughput.py                       # demo data, CPU, batch 32 and 256
    python bench/throughput.py --threads 1           # as a search trial's worker runs
    python bench/throughput.py --data ../shared/datasets/avdigits --device cuda --batch 512
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from data_utils import load_dataset, train_val_split
from data_utils.preprocess import audio_shape
from models import build_model
from search.api import load_spec, parse_trial_config
from training.trainer import fit_preprocessor, to_device, train

SEEDS = Path(__file__).resolve().parents[1] / "spaces" / "seeds.yaml"


def preset_config(batch: int, epochs: int):
    spec = load_spec(SEEDS)
    raw = spec.trial_config({"preset": "report1_c"})
    raw["train"].update(batch_size=batch, epochs=epochs)
    return parse_trial_config(raw)


def ours(config, train_split, val_split, device) -> float:
    start = time.perf_counter()
    train(config, train_split, val_split, device=device)
    return config.train.epochs * len(train_split) / (time.perf_counter() - start)


def reference(config, train_split, val_split, device) -> float:
    """The loop as the reports wrote it: tensors in a TensorDataset, a DataLoader, per-epoch evaluation."""
    start = time.perf_counter()
    torch.manual_seed(config.train.seed)
    pre = fit_preprocessor(config, train_split, device)
    tr, va = to_device(train_split, pre, device), to_device(val_split, pre, device)
    model = build_model(config.model, audio_shape(config.preprocess.audio_layout)).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=config.train.lr)
    loader = DataLoader(TensorDataset(tr.image, tr.audio, tr.labels), batch_size=config.train.batch_size, shuffle=True)
    for _ in range(config.train.epochs):
        model.train()
        for image, audio, labels in loader:
            if len(labels) < 2:
                continue
            opt.zero_grad()
            loss = F.cross_entropy(model(image, pre.layout(audio)), labels)
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            for image, audio, labels in DataLoader(TensorDataset(va.image, va.audio, va.labels), batch_size=256):
                model(image, pre.layout(audio)).argmax(1).eq(labels).sum().item()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return config.train.epochs * len(train_split) / (time.perf_counter() - start)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="demo")
    p.add_argument("--device", default="cpu")
    p.add_argument("--batch", type=int, nargs="+", default=[32, 256])
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--repeats", type=int, default=3)
    # A search trial runs torch on cpus_per_worker threads (search/runtime/worker.py): 1 in spaces/seeds.yaml.
    p.add_argument("--threads", type=int, help="torch threads for both loops (default: torch's, one per core)")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    dataset = load_dataset(args.data)
    train_split, val_split = train_val_split(dataset.train, 0.1, 0)
    print(
        f"data: {dataset.source}; {len(train_split)} training samples/epoch; device {device}; "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; load average {os.getloadavg()[0]:.1f}"
    )
    # One-time costs (imports on the first optimizer, oneDNN kernels for each shape) would land on
    # whichever loop ran first.
    for warm_up in (ours, reference):
        warm_up(preset_config(32, 1), train_split, val_split, device)
    print(f"{'batch':>6} {'ours (samples/s)':>18} {'reference b32 (samples/s)':>26} {'ratio':>7} {'median of pairs':>16}")
    ref_config = preset_config(32, args.epochs)
    for batch in args.batch:
        config = preset_config(batch, args.epochs)
        ours_runs, ref_runs = [], []
        for _ in range(args.repeats):  # alternate, so that the machine's noise hits both alike
            ours_runs.append(ours(config, train_split, val_split, device))
            ref_runs.append(reference(ref_config, train_split, val_split, device))
        # Best of each, and the median ratio of runs taken back to back (steadier on a shared machine).
        paired = statistics.median(o / r for o, r in zip(ours_runs, ref_runs))
        print(
            f"{batch:>6} {max(ours_runs):>18,.0f} {max(ref_runs):>26,.0f} {max(ours_runs) / max(ref_runs):>6.2f}x {paired:>15.2f}x"
        )
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()

"""The library's entry points, for scripts and notebooks (``bench/`` uses them; ``python -m search.run`` is their
command line): load a space and the data it names, make its experiment folder, run the experiment; a
trial's typed config from its config dict (``parse_trial_config``).

    spec = load_spec("spaces/quickstart.yaml", {"name": "mine"})
    root = Path("results") / spec.name
    new_experiment(root, "spaces/quickstart.yaml", {"name": "mine"})
    code = run_experiment(spec, load_splits(spec), root)
    ExperimentFolder(root).history(...)  # what it left: search.results.folder

Imports no Ray until an experiment runs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from common.atomic import atomic_write_text
from common.errors import UserError
from data_utils import DataError, Split, duplicate_groups, load_dataset, train_val_split
from search.results.folder import ExperimentFolder
from search.space.space_file import read_space
from search.space.spec import DataSection, SearchSpec, load_spec, parse_trial_config

__all__ = [
    "ExperimentFolder",
    "SearchSpec",
    "cluster",
    "forget",
    "load_spec",
    "load_splits",
    "new_experiment",
    "parse_trial_config",
    "run_experiment",
    "validation_split",
    "writable_folder",
]


def validation_split(data: DataSection, train: Split) -> tuple[Split, Split]:
    """(train, validation) of ``train`` as a space file's data section says."""
    groups = duplicate_groups(train) if data.group_duplicates else None
    if groups is not None and groups.max() + 1 < len(groups):
        print(
            f"data: the {len(groups)} training samples form {groups.max() + 1} groups sharing an audio clip or an image; "
            "each group stays on one side of the split (data.group_duplicates)"
        )
    return train_val_split(train, data.val_fraction, data.seed, groups)


def load_splits(spec: SearchSpec) -> dict[str, Any]:
    """The data ``spec`` names, split as its data section says: {"train", "val", "test" (or None), "source"}."""
    dataset = load_dataset(spec.data.source, seed=spec.data.seed)
    try:
        train, val = validation_split(spec.data, dataset.train)
    except DataError as e:
        # The split's messages name the class and data.val_fraction; say which data set, too.
        raise DataError(f"{dataset.source}: {e}") from None
    print(
        f"data: {dataset.source}: {len(train)} train / {len(val)} validation samples"
        + (f", {len(dataset.test)} held-out test samples (not used by the search)" if dataset.test is not None else "")
    )
    if dataset.synthetic_audio:
        print("data: NOTE the demo's audio is SYNTHETIC; point --data at a Kaggle/Zenodo folder for real speech")
    return {"train": train, "val": val, "test": dataset.test, "source": dataset.source}


def new_experiment(
    root: Path, space: Path, overrides: Mapping[str, Any], previous: Sequence[Mapping[str, Any]] = ()
) -> ExperimentFolder:
    """Make the experiment folder ``root`` and save in it the space as it will run: the file ``space`` with
    ``overrides`` ({dotted key: value}), what ``--resume`` continues; and the ``--warm-start`` trials, if any.

    Raises:
        UserError: ``root`` cannot be written.
    """
    folder = writable_folder(root)
    atomic_write_text(folder.spec, yaml.safe_dump(read_space(Path(space), overrides), sort_keys=False))
    if previous:
        atomic_write_text(folder.warm_start, json.dumps(list(previous)))
    return folder


def writable_folder(root: Path) -> ExperimentFolder:
    """``root``, made if need be and known to be writable (``UserError`` if not)."""
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = root / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as e:
        raise UserError(f"cannot write results to {root}: {e.strerror}; pick a writable --results folder") from None
    return ExperimentFolder(root)


def forget(root: Path) -> None:
    """Undo an experiment that never started: only its saved space, warm start and Ray's log are in the folder."""
    folder = ExperimentFolder(root)
    for path in (folder.spec, folder.warm_start, folder.ray_log):
        path.unlink(missing_ok=True)
    if root.is_dir() and not any(root.iterdir()):
        root.rmdir()


@contextmanager
def cluster(address: str | None = None) -> Iterator[str | None]:
    """A Ray cluster for several experiments: joined at ``address`` or started here; experiments run inside
    it keep it (``search.runtime.cluster.ray_cluster``). Yields the local cluster's dashboard address."""
    from search.runtime.cluster import ray_cluster

    with ray_cluster(address) as dashboard:
        yield dashboard


def run_experiment(spec: SearchSpec, splits: dict[str, Any], root: Path, address: str | None = None, resume: bool = False) -> int:
    """Search, rank, retrain and report into ``root`` (made by ``new_experiment``); the process exit code
    (``search.runtime.experiment.run_experiment``: 0, or 130/143 after Ctrl-C/SIGTERM, ready to resume)."""
    from search.runtime.experiment import run_experiment as run

    return run(spec, splits, root, address=address, resume=resume)

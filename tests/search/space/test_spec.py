"""Search space files: parsing, every validation error, and conditional sampling."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import optuna
import pytest

from common.constants import METRIC_MODES
from search.space.params import RecordingSuggester, sample
from search.space.resolve import is_structural
from search.space.spec import load_spec, parse_trial_config
from search.space.typed_config import ConfigError

SPACES = Path(__file__).resolve().parents[3] / "spaces"

MINIMAL = """
fixed:
  model:
    image: {name: mlp}
    audio: {name: mlp}
    fusion: {name: concat}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "space.yaml"
    path.write_text(textwrap.dedent(text))
    return path


@pytest.mark.parametrize("name", ["fusion", "seeds", "smoke"])
def test_shipped_spaces_load(name):
    spec = load_spec(SPACES / f"{name}.yaml")
    assert spec.name == name


def test_fusion_space_covers_every_component():
    from models import AUDIO_ENCODERS, FUSIONS, IMAGE_ENCODERS

    params = {p.key: p for p in load_spec(SPACES / "fusion.yaml").params}
    assert set(params["model.image.name"].choices) == set(IMAGE_ENCODERS)
    assert set(params["model.audio.name"].choices) == set(AUDIO_ENCODERS)
    assert set(params["model.fusion.name"].choices) == set(FUSIONS) - {"image_only", "audio_only"}
    assert set(params["preprocess.audio_layout"].choices) == {"frames", "chunks", "flat", "spectrogram"}


@pytest.mark.parametrize("metric", sorted(METRIC_MODES))
def test_metric_flag_sets_the_metric_and_its_direction(metric):
    from search.run import overrides, parse_args

    spec = load_spec(SPACES / "fusion.yaml", overrides(parse_args(["spaces/fusion.yaml", "--metric", metric])))
    assert (spec.search.metric, spec.search.mode) == (metric, "min" if metric == "val_loss" else "max")


def test_overrides_apply_on_top_of_the_file():
    spec = load_spec(SPACES / "fusion.yaml", {"search.num_samples": 3, "scheduler.max_t": 2, "data.source": "elsewhere"})
    assert (spec.search.num_samples, spec.scheduler.max_t, spec.data.source) == (3, 2, "elsewhere")
    assert spec.scheduler.grace_period <= 2  # lowered to fit the shorter budget


BAD_SPACES = [
    ("search: {num_samples: 3", "invalid YAML: line"),
    ("- a\n- b\n", "expected a mapping of sections"),
    (MINIMAL + "serach: {}\n", "serach: unknown key (did you mean 'search'?)"),
    (MINIMAL + "search: {num_sample: 3}\n", "search.num_sample: unknown key (did you mean 'num_samples'?)"),
    (MINIMAL + "search: {num_samples: three}\n", "search.num_samples: expected an integer, got 'three'"),
    (MINIMAL + "search: {num_samples: 0}\n", "num_samples must be >= 1, got 0"),
    (MINIMAL + "search: {compute_budget_s: 0}\n", "compute_budget_s must be > 0, got 0"),
    (MINIMAL + "search: {time_budget_s: -5}\n", "time_budget_s must be > 0, got -5"),
    (MINIMAL + "search: {budget_sample_epochs: 0}\n", "search: budget_sample_epochs must be > 0, got 0"),
    (MINIMAL + "search: {budget_sample_epochs: 2.5e6}\n", "search.budget_sample_epochs: expected an integer, got '2.5e6'"),
    (
        MINIMAL + "search: {budget_sample_epochs: 1000, compute_budget_s: 60}\n",
        "search: compute_budget_s and budget_sample_epochs are two caps",
    ),
    (MINIMAL + "search: {metric: val_loss, mode: max}\n", "does not fit metric"),
    (
        MINIMAL + "search: {metric: val_f2}\n",
        "search.metric: got 'val_f2'; valid: 'val_f1', 'val_accuracy', 'val_loss', 'val_robust_f1'",
    ),
    (MINIMAL + "search: {metric: val_robust_f1, mode: min}\n", "does not fit metric"),
    (MINIMAL + "searcher: {name: bayes}\n", "searcher.name: got 'bayes'; valid: 'tpe', 'random', 'grid', 'gp', 'cmaes', 'qmc'"),
    (
        MINIMAL + "searcher: {name: grid}\nspace: {train.lr: {loguniform: [0.001, 0.1]}}\n",
        "space.yaml: space.train.lr: a loguniform parameter has no grid",
    ),
    (
        MINIMAL + "searcher: {name: grid}\nsearch: {num_samples: 5}\nspace: {train.batch_size: {choice: [32, 64]}}\n",
        "search.num_samples: the grid has 2 points and runs each once: remove num_samples or set it to 2, got 5",
    ),
    (MINIMAL + "scheduler: {max_t: 4, grace_period: 9}\n", "grace_period must be in [1, max_t=4], got 9"),
    (MINIMAL + "resources: {cpus_per_worker: 0}\n", "cpus_per_worker must be > 0"),
    (MINIMAL + "resources: {gpus_per_worker: 1.5}\n", "above 1 must be a whole number"),
    (MINIMAL + "resources: {distributed: yes please}\n", "resources.distributed: expected"),
    (
        MINIMAL + "resources: {workers_per_trial: 2, gpus_per_worker: 0.5}\n",
        "resources: gpus_per_worker 0.5 with workers_per_trial 2: two workers of one trial could share a GPU, which NCCL refuses; use gpus_per_worker: 1",
    ),
    (MINIMAL + "data: {val_fraction: 1.5}\n", "val_fraction must be in (0, 1)"),
    (MINIMAL + "space: {train.lr: {choice: []}}\n", "space.train.lr.choice: expected a non-empty list"),
    (MINIMAL + "space: {train.lr: {uniform: [0.1, 0.01]}}\n", "space.train.lr.uniform: low must be < high"),
    (MINIMAL + "space: {train.lr: {loguniform: [0, 0.1]}}\n", "a log range needs low > 0"),
    (MINIMAL + "space: {train.batch_size: {int: [0, 64], log: true}}\n", "a log range needs low > 0"),
    (MINIMAL + "space: {train.batch_size: {int: [16.5, 64]}}\n", "int bounds must be integers"),
    (MINIMAL + "space: {train.lr: {uniform: [0.1]}}\n", "expected [low, high]"),
    (MINIMAL + "space: {train.lr: {quniform: [0.1, 1, 0]}}\n", "the quantum q must be > 0"),
    (MINIMAL + "space: {train.lr: {uniform: [0.1, 1], choice: [1]}}\n", "give exactly one of"),
    (MINIMAL + "space: {train.lr: {unifrom: [0.1, 1]}}\n", "unknown key (did you mean 'uniform'?)"),
    (MINIMAL + "space: {train.lr: {uniform: [0.1, 1], step: 2}}\n", "use quniform"),
    (MINIMAL + "space: {train.lr: 0.1}\n", "expected a mapping like"),
    (
        MINIMAL + "space: {model.audio.hidden: {int: [8, 16], when: {model.audio.name: [lstm]}}}\n",
        "must name an earlier parameter",
    ),
    (
        MINIMAL
        + "space:\n  model.audio.name: {choice: [gru]}\n  model.audio.hidden: {int: [8, 16], when: {model.audio.name: [lstn]}}\n",
        "'lstn' is not one of that parameter's choices",
    ),
    (MINIMAL + "space: {model.image.channels: {choice: [8], repeat: _blocks}}\n", "must be an earlier int parameter"),
    (
        MINIMAL + "space: {model.fusion.name: {choice: [concat, bilinar]}}\n",
        "model.fusion.name: unknown fusion 'bilinar' (did you mean 'bilinear'?); valid:",
    ),
    (MINIMAL + "space: {model.audio.name: {choice: [lstm, transformer]}}\n", "unknown audio encoder 'transformer'"),
    (MINIMAL + "space: {model.head.dropout: {uniform: [0.0, 1.5]}}\n", "dropout must be in [0, 1)"),
    (MINIMAL + "space: {model.audio.hiden: {int: [8, 16]}}\n", "model.audio.hiden: unknown key"),
    (MINIMAL + "space: {train.epochs: {int: [1, 3]}}\n", "train.epochs: is set by scheduler.max_t"),
    (MINIMAL + "space: {train.optimizer: {choice: [adam, lbfgs]}}\n", "train.optimizer: got 'lbfgs'"),
    (
        "fixed: {model: {image: {name: cnn, channels: [8, 16], kernels: [3]}, audio: mlp, fusion: concat}}\n",
        "one entry per block",
    ),
    ("fixed: {model: {image: {name: mlp}, audio: {name: mlp}}}\n", "model.fusion: required key is missing"),
    ("fixed: {model: {image: {name: mlp}, audio: {name: mlp}, fusion: {name: add, dim: -3}}}\n", "dim must be >= 1"),
    ("fixed: {model: {image: {name: mlp, fc: 64}, audio: mlp, fusion: concat}}\n", "model.image.fc: expected a list, got int 64"),
    ("fixed: {model: {image: {name: mlp, batch_norm: 'yes'}, audio: mlp, fusion: concat}}\n", "expected true or false"),
    (MINIMAL + "presets: {a: {train: {lr: 0.1}}}\nspace: {train.lr: {uniform: [0.1, 1]}}\n", "remove the space section"),
    (MINIMAL + "name: a/b\n", "expected a plain experiment name"),
]


@pytest.mark.parametrize("text, message", BAD_SPACES, ids=[m for _, m in BAD_SPACES])
def test_every_invalid_space_gets_one_clear_line(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_spec(path)
    text = str(err.value)
    assert message in text
    assert text.startswith(str(path))
    assert "\n" not in text


def test_a_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_spec(tmp_path / "nope.yaml")


def test_conditional_sampling_never_reaches_a_trial_with_unused_parameters():
    spec = load_spec(SPACES / "fusion.yaml")
    rng = np.random.default_rng(1)
    for _ in range(300):
        suggester = RecordingSuggester(rng)
        sampled = sample(list(spec.params), suggester)
        config = spec.trial_config(sampled)
        trial = parse_trial_config(config)  # every key is a field of the chosen component
        recurrent = trial.model.audio.name in ("lstm", "gru")
        assert ("model.audio.num_layers" in sampled) == recurrent
        assert ("model.audio.bidirectional" in sampled) == recurrent
        if trial.model.fusion.name == "late":  # decision-level fusion has no head to tune
            assert not any(k.startswith("model.head") or k == "_head_layers" for k in sampled)
        if trial.model.image.name == "cnn":  # one channel count and kernel per block that exists
            blocks = sampled["_image_blocks"]
            assert len(trial.model.image.params.channels) == len(trial.model.image.params.kernels) == blocks
            assert {n for n in suggester.names if n.startswith("model.image.kernels.")} == {
                f"model.image.kernels.{i}" for i in range(blocks)
            }
        else:
            assert "_image_blocks" not in sampled and "model.image.kernels" not in sampled
        assert not any(is_structural(k) for k in config)
        assert "fusion" in config["model"]


def test_optuna_sees_the_conditional_structure():
    spec = load_spec(SPACES / "fusion.yaml")
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    seen = []
    for _ in range(40):
        trial = study.ask()
        sample(list(spec.params), trial)
        seen.append(trial.params)
        study.tell(trial, 0.5)
    for params in seen:
        recurrent = params["model.audio.name"] in ("lstm", "gru")
        assert ("model.audio.hidden" in params) == recurrent
        assert ("model.fusion.heads" in params) == (params["model.fusion.name"] == "attention")
    assert any("model.audio.hidden" in p for p in seen) and any("model.audio.hidden" not in p for p in seen)


def test_presets_run_as_given():
    spec = load_spec(SPACES / "seeds.yaml")
    config = parse_trial_config(spec.trial_config({"preset": "report3_spectrogram_cnn", "train.seed": 2}))
    assert config.preprocess.audio_layout == "spectrogram"
    assert config.train.lr == 5e-4 and config.train.seed == 2
    assert config.train.epochs == spec.scheduler.max_t


def test_configs_from_rays_optuna_searcher_build_for_every_kind_of_parameter():
    """What Tune hands a trial (per-block names, choice indices and the define-by-run values) resolves."""
    import pickle

    from search.runtime.tuner import make_searcher

    spec = load_spec(SPACES / "fusion.yaml")
    searcher = make_searcher(spec)
    for i in range(40):
        config = searcher.suggest(f"t{i}")
        trial = parse_trial_config(spec.trial_config(config))
        if trial.model.image.name == "cnn":
            assert len(trial.model.image.params.channels) == config["_image_blocks"]
    err = pickle.loads(pickle.dumps(ConfigError("a.b", "bad")))  # raised in Ray workers, unpickled by the driver
    assert str(err) == "a.b: bad"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_compute_budget_counts_each_reported_epochs_seconds_and_then_ends_the_search():
    from search.runtime.budget import ComputeBudget

    budget = ComputeBudget(2.0, max_epochs=9, clock=Clock())  # the clock stands still: whoever reported is in flight
    assert budget("a", {"epoch": 1, "seconds": 0.5}) is False  # 0.5 spent, a's next 0.5 in flight
    assert not budget.stop_all()
    assert budget("b", {"epoch": 1}) is False  # a result without seconds costs nothing
    assert not budget.stop_all()
    assert budget("b", {"epoch": 1, "seconds": 0.5}) is False  # 1.0 spent, 1.0 in flight: it all fits
    assert not budget.stop_all()
    assert budget("a", {"epoch": 2, "seconds": 0.5})  # 1.5 spent and b's 0.5 in flight: no room for a's next
    assert not budget.stop_all()  # b's epoch still fits
    assert budget("b", {"epoch": 2, "seconds": 0.5})  # 2.0 spent
    assert budget.stop_all()
    assert budget.spent == 2.0


def test_the_compute_budget_stops_a_trial_whose_next_epoch_would_overrun_it():
    from search.runtime.budget import ComputeBudget

    clock = Clock()
    budget = ComputeBudget(10.0, max_epochs=9, clock=clock)
    assert budget("cheap", {"epoch": 1, "seconds": 1.0}) is False
    clock.now += 100  # long after: cheap is no longer in flight (ASHA stopped it, say)
    assert budget("costly", {"epoch": 1, "seconds": 4.0}) is False  # 5 spent: 4 more fits
    assert budget("costly", {"epoch": 2, "seconds": 4.0})  # 9 spent: another 4 s epoch would overrun; stopped before it
    assert not budget.stop_all()  # ... but a 1 s epoch still fits: the search goes on
    assert budget("new", {"epoch": 1, "seconds": 1.0})  # 10 spent
    assert budget.stop_all()


def test_the_compute_budget_ends_the_search_before_epochs_in_flight_overrun_it():
    from search.runtime.budget import ComputeBudget

    clock = Clock()
    budget = ComputeBudget(100.0, max_epochs=9, clock=clock)
    assert budget("cnn", {"epoch": 1, "seconds": 30.0}) is False  # its next 30 s epoch starts
    clock.now += 10
    assert budget("mlp", {"epoch": 1, "seconds": 65.0})  # 95 spent: the cnn's epoch in flight leaves no room
    assert budget.stop_all()  # nor for the cnn's epoch itself: stop it now rather than overrun
    # a trial that reported its last epoch is not in flight
    budget = ComputeBudget(100.0, max_epochs=2, clock=clock)
    assert budget("cnn", {"epoch": 2, "seconds": 30.0}) is False
    assert budget("mlp", {"epoch": 1, "seconds": 35.0}) is False  # 65 spent, its next 35 fits
    assert not budget.stop_all()
    clock.now += 60  # 1.5 epochs after its report, a trial is taken to have stopped
    assert budget("other", {"epoch": 1, "seconds": 1.0}) is False
    assert budget.in_flight_cost() == 1.0

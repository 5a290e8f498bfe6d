"""Audio encoders: (B, T, F) -> (B, out_dim). Registered in ``AUDIO_ENCODERS`` by their YAML name.

Preprocessing lays the audio out as T steps of F features: ``frames`` (39, 13), ``chunks`` (10, 50),
``flat`` (507, 1) or ``spectrogram`` (any T, F). Every encoder accepts every layout.
"""

from dataclasses import dataclass
from typing import ClassVar

from torch import Tensor, nn

from models.layers import (
    ConvConfig,
    MLPEncoder,
    check_dropout,
    check_positive,
    check_widths,
    conv_encoder,
    mlp,
)
from models.registry import Registry

AUDIO_ENCODERS = Registry("audio encoder")
AUDIO_ENCODERS.register("mlp")(MLPEncoder)


class RNNEncoder(nn.Module):
    """Recurrent encoder over the T steps; its features are the final hidden states. Subclasses pick the cell.

    With ``skip`` the final states of all layers are concatenated (a skip connection from the lower layers
    to the output) instead of keeping the last layer's only, so
    ``out_dim = hidden * directions * (num_layers if skip else 1)``, before the optional FC stack.
    """

    cell: ClassVar[type[nn.RNNBase]]

    @dataclass(frozen=True)
    class Config:
        hidden: int = 64
        num_layers: int = 1  # 1 to 3
        bidirectional: bool = False
        skip: bool = False  # concatenate every layer's final state, not only the last layer's
        dropout: float = 0.0  # on the output features
        layer_dropout: float = 0.0  # between stacked layers (torch's RNN dropout); needs num_layers >= 2
        fc: tuple[int, ...] = ()
        fc_dropout: float = 0.0

        def __post_init__(self) -> None:
            check_positive("hidden", self.hidden)
            if not 1 <= self.num_layers <= 3:
                raise ValueError(f"num_layers must be in [1, 3], got {self.num_layers!r}")
            check_dropout("dropout", self.dropout)
            check_dropout("layer_dropout", self.layer_dropout)
            if self.layer_dropout and self.num_layers < 2:
                raise ValueError(f"layer_dropout acts between layers: it needs num_layers >= 2, got {self.num_layers!r}")
            check_widths("fc", self.fc)
            check_dropout("fc_dropout", self.fc_dropout)

    def __init__(self, cfg: Config, input_shape: tuple[int, int]) -> None:
        super().__init__()
        self.directions = 2 if cfg.bidirectional else 1
        self.skip = cfg.skip
        self.rnn = self.cell(
            input_shape[1],
            cfg.hidden,
            num_layers=cfg.num_layers,
            batch_first=True,
            bidirectional=cfg.bidirectional,
            dropout=cfg.layer_dropout,
        )
        self.dropout = nn.Dropout(cfg.dropout)
        rnn_dim = cfg.hidden * self.directions * (cfg.num_layers if cfg.skip else 1)
        self.fc, self.out_dim = mlp(rnn_dim, cfg.fc, cfg.fc_dropout, batch_norm=False)

    def forward(self, x: Tensor) -> Tensor:  # (B, T, F) -> (B, out_dim)
        _, state = self.rnn(x)
        h = state[0] if isinstance(state, tuple) else state  # LSTM state is (h, c); keep h
        # h: (layers * directions, B, H), layer-major
        if not self.skip:
            h = h[-self.directions :]
        h = h.transpose(0, 1).reshape(x.size(0), -1)  # (B, layers * directions * H)
        return self.fc(self.dropout(h))


@AUDIO_ENCODERS.register("lstm")
class LSTMEncoder(RNNEncoder):
    """LSTM encoder; see RNNEncoder."""

    cell = nn.LSTM


@AUDIO_ENCODERS.register("gru")
class GRUEncoder(RNNEncoder):
    """GRU encoder; see RNNEncoder."""

    cell = nn.GRU


@AUDIO_ENCODERS.register("cnn1d")
class AudioCNN1d(nn.Module):
    """1-D conv blocks over time with the F features as input channels, then global average pooling over
    time (``global_pool``) or flatten, then an optional FC stack."""

    @dataclass(frozen=True)
    class Config(ConvConfig):
        global_pool: bool = True  # False = flatten (channels x remaining steps)

    def __init__(self, cfg: Config, input_shape: tuple[int, int]) -> None:
        super().__init__()
        steps, features = input_shape
        self.net, self.out_dim = conv_encoder(cfg, features, (steps,), cfg.global_pool)

    def forward(self, x: Tensor) -> Tensor:  # (B, T, F) -> (B, out_dim)
        return self.net(x.transpose(1, 2))  # (B, F, T): features are the channels


@AUDIO_ENCODERS.register("cnn2d")
class AudioCNN2d(nn.Module):
    """2-D conv blocks over the (T, F) map read as a 1-channel image, flatten, then an optional FC stack."""

    @dataclass(frozen=True)
    class Config(ConvConfig):
        pass

    def __init__(self, cfg: Config, input_shape: tuple[int, int]) -> None:
        super().__init__()
        self.net, self.out_dim = conv_encoder(cfg, 1, tuple(input_shape))

    def forward(self, x: Tensor) -> Tensor:  # (B, T, F) -> (B, out_dim)
        return self.net(x.unsqueeze(1))  # (B, 1, T, F)

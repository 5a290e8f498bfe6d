"""Image encoders: (B, C, H, W) -> (B, out_dim). Registered in ``IMAGE_ENCODERS`` by their YAML name."""

from dataclasses import dataclass

from torch import Tensor, nn

from models.layers import ConvConfig, MLPEncoder, conv_encoder
from models.registry import Registry

IMAGE_ENCODERS = Registry("image encoder")
IMAGE_ENCODERS.register("mlp")(MLPEncoder)


@IMAGE_ENCODERS.register("cnn")
class ImageCNN(nn.Module):
    """Conv blocks (conv -> BN -> ReLU -> 2x2 pool -> Dropout2d), flatten, then an optional FC stack.

    Example:
        >>> import torch
        >>> enc = ImageCNN(ImageCNN.Config(channels=(16, 32), kernels=(3, 3), fc=(100, 72)), (1, 28, 28))
        >>> enc(torch.zeros(4, 1, 28, 28)).shape
        torch.Size([4, 72])
    """

    @dataclass(frozen=True)
    class Config(ConvConfig):
        pass

    def __init__(self, cfg: Config, input_shape: tuple[int, int, int]) -> None:
        super().__init__()
        self.net, self.out_dim = conv_encoder(cfg, input_shape[0], input_shape[1:])

    def forward(self, x: Tensor) -> Tensor:  # (B, C, H, W) -> (B, out_dim)
        return self.net(x)

"""The hand-tuned models of the earlier reports, as ModelConfigs: baselines for the search to beat.

``PRESET_AUDIO_LAYOUT`` names the audio layout (preprocessing) each preset was built for.
"""
from models.audio_encoders import AudioCNN1d, AudioCNN2d, LSTMEncoder
from models.classifier import Component, HeadConfig, ModelConfig
from models.fusion import AddFusion, ConcatFusion
from models.image_encoders import ImageCNN

# Report 1: CNN image branch and a 2-layer LSTM over 10 chunks of 50 features whose two final states are
# concatenated (72 = 2 x 36), both 72 wide so that they can be added without a projection.
_REPORT1_IMAGE = Component(
    "cnn",
    ImageCNN.Config(
        channels=(16, 32), kernels=(3, 3), pool="max", batch_norm=True, dropout=0.25, fc=(100, 72), fc_dropout=0.5
    ),
)
_REPORT1_AUDIO = Component("lstm", LSTMEncoder.Config(hidden=36, num_layers=2, skip=True))
_REPORT1_HEAD = HeadConfig(hidden=(60, 46))

# Report 2: each branch ends in a 10-wide layer ("logits" in the report); the two are concatenated (20)
# and a small MLP classifies them. The audio is the raw 507-step MFCC sequence.
_REPORT2_IMAGE = Component(
    "cnn", ImageCNN.Config(channels=(32, 64), kernels=(3, 3), pool="max", batch_norm=False, fc=(10,))
)
_REPORT2_AUDIO = Component(
    "cnn1d",
    AudioCNN1d.Config(channels=(16, 32), kernels=(5, 5), pool="max", batch_norm=False, global_pool=False, fc=(10,)),
)

# Report 3: two conv layers (32 then 64 filters) per pathway, flattened, concatenated; the audio
# pathway reads the STFT spectrogram as an image.
_REPORT3_CONV = dict(channels=(32, 64), kernels=(3, 3), pool="max", batch_norm=False)

PRESETS: dict[str, ModelConfig] = {
    "report1_add": ModelConfig(
        image=_REPORT1_IMAGE, audio=_REPORT1_AUDIO, fusion=Component("add", AddFusion.Config()), head=_REPORT1_HEAD
    ),
    "report1_concat": ModelConfig(
        image=_REPORT1_IMAGE,
        audio=_REPORT1_AUDIO,
        fusion=Component("concat", ConcatFusion.Config()),
        head=_REPORT1_HEAD,
    ),
    "report2_logit_mlp": ModelConfig(
        image=_REPORT2_IMAGE,
        audio=_REPORT2_AUDIO,
        fusion=Component("concat", ConcatFusion.Config()),
        head=HeadConfig(hidden=(32,)),
    ),
    "report3_spectrogram_cnn": ModelConfig(
        image=Component("cnn", ImageCNN.Config(**_REPORT3_CONV)),
        audio=Component("cnn2d", AudioCNN2d.Config(**_REPORT3_CONV)),
        fusion=Component("concat", ConcatFusion.Config()),
        head=HeadConfig(hidden=(128,), dropout=0.5),
    ),
}

PRESET_AUDIO_LAYOUT: dict[str, str] = {
    "report1_add": "chunks",
    "report1_concat": "chunks",
    "report2_logit_mlp": "flat",
    "report3_spectrogram_cnn": "spectrogram",
}

"""Tiny randomly initialised encoder checkpoints, written in the on-disk layout of the real ones.

The tests (and the studies' tests) load these through exactly the code path a downloaded
checkpoint takes (:mod:`saz.features.hf`, :mod:`saz.features.vggish`), so nothing here is a
stand-in for the loader: only the sizes are small.

- :func:`write_hubert`, :func:`write_data2vec`, :func:`write_wav2vec2`: a Hugging Face folder
  (``config.json``, ``model.safetensors``, ``preprocessor_config.json``) saved by the transformers
  model class itself, as ``m-a-p/MusicHuBERT``-style, ``m-a-p/music2vec-v1`` and
  ``facebook/wav2vec2-base`` snapshots are.
- :func:`write_mert`: a ``m-a-p/MERT-v1-95M``-style snapshot: ``config.json`` with
  ``model_type: mert_model`` and an ``auto_map`` naming its own ``configuration_MERT.py`` and
  ``modeling_MERT.py``, which are in the folder (a small faithful version of MERT's remote code:
  the HuBERT convolutional front end and transformer, with MERT's configuration fields), so
  loading needs ``trust_remote_code`` exactly as the real one does.
- :func:`write_vggish`: the two files of harritaylor/torchvggish: a ``.pth`` state dict with its
  key layout (``features.{0,3,6,8,11,13}``, ``embeddings.{0,2,4}``, as ``vggish-10086976.pth``)
  and beside it ``vggish_pca_params.pth``, a dict of numpy arrays ``pca_eigen_vectors`` (128, 128)
  and ``pca_means`` (128,) as ``vggish_pca_params-970ea276.pth``; narrower convolutions and
  hidden layers than the real 72M-parameter model, the same 128-d output.

:func:`write_tiny` dispatches on the saz feature name. Every writer is deterministic in ``seed``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

TINY = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
            conv_dim=(16, 16, 16, 16), conv_stride=(5, 4, 4, 4), conv_kernel=(10, 8, 4, 4),
            num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=4,
            hidden_dropout=0.0, attention_dropout=0.0, activation_dropout=0.0, feat_proj_dropout=0.0,
            layerdrop=0.0, mask_time_prob=0.0)
"""Shared tiny sizes: 2 transformer layers (3 hidden states with the embedding output), width 32,
a 320-sample hop as in the real models (50 frames/s at 16 kHz, 75 at 24 kHz)."""

N_LAYERS = TINY["num_hidden_layers"] + 1
DIM = TINY["hidden_size"]

MERT_CONFIG_PY = '''"""MERT configuration (small faithful copy of m-a-p/MERT-v1's configuration_MERT.py)."""
from transformers import HubertConfig


class MERTConfig(HubertConfig):
    model_type = "mert_model"

    def __init__(self, feature_extractor_cqt=False, feature_extractor_cqt_bins=336, deepnorm=False,
                 attention_relax=-1.0, sample_rate=24000, **kwargs):
        super().__init__(**kwargs)
        self.feature_extractor_cqt = feature_extractor_cqt
        self.feature_extractor_cqt_bins = feature_extractor_cqt_bins
        self.deepnorm = deepnorm
        self.attention_relax = attention_relax
        self.sample_rate = sample_rate
'''

MERT_MODELING_PY = '''"""MERT model (small faithful copy of m-a-p/MERT-v1's modeling_MERT.py: HuBERT's front end and encoder)."""
from transformers.models.hubert.modeling_hubert import HubertModel

from .configuration_MERT import MERTConfig


class MERTModel(HubertModel):
    config_class = MERTConfig
    base_model_prefix = "mert_model"

    def __init__(self, config):
        if config.feature_extractor_cqt:
            raise NotImplementedError("this copy has no CQT front end")
        super().__init__(config)
'''


MERT_95M: dict = {}
"""m-a-p/MERT-v1-95M's sizes: HuBERT base (7 convolutions, 320x, 768 wide, 12 layers, 12 heads, 3072 FFN,
positional convolution of 128 taps in 16 groups), at 24 kHz."""
MERT_330M = dict(hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, intermediate_size=4096,
                 feat_extract_norm="layer", do_stable_layer_norm=True, conv_bias=True)
"""m-a-p/MERT-v1-330M's sizes: HuBERT large (1024 wide, 24 layers, 16 heads, 4096 FFN, layer-norm front end)."""


def _sizes(sizes: dict | None) -> dict:
    return TINY if sizes is None else sizes


def _seeded(seed: int) -> None:
    torch.manual_seed(seed)


def _preprocessor(folder: Path, sr: int, do_normalize: bool) -> None:
    (folder / "preprocessor_config.json").write_text(json.dumps({
        "do_normalize": do_normalize, "feature_extractor_type": "Wav2Vec2FeatureExtractor", "feature_size": 1,
        "padding_side": "right", "padding_value": 0.0, "return_attention_mask": True, "sampling_rate": sr}, indent=2))


def _save(model: torch.nn.Module, folder: Path, sr: int, do_normalize: bool) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    model.eval().save_pretrained(folder)
    _preprocessor(folder, sr, do_normalize)
    return folder


def write_hubert(folder: str | Path, seed: int = 0, sizes: dict | None = None) -> Path:
    """A tiny HuBERT (MusicHuBERT) checkpoint folder at 16 kHz (``sizes``: other configuration
    values instead of :data:`TINY`, ``{}`` for the base model's)."""
    from transformers import HubertConfig, HubertModel
    _seeded(seed)
    return _save(HubertModel(HubertConfig(**_sizes(sizes))), Path(folder), 16000, False)


def write_data2vec(folder: str | Path, seed: int = 0, sizes: dict | None = None) -> Path:
    """A tiny Data2Vec-audio (Music2vec) checkpoint folder at 16 kHz (``sizes``: as :func:`write_hubert`)."""
    from transformers import Data2VecAudioConfig, Data2VecAudioModel
    cfg = {k: v for k, v in TINY.items() if k != "num_conv_pos_embeddings"} | {"conv_pos_kernel_size": 5}
    _seeded(seed)
    return _save(Data2VecAudioModel(Data2VecAudioConfig(**(cfg if sizes is None else sizes))), Path(folder), 16000, True)


def write_wav2vec2(folder: str | Path, seed: int = 0, sizes: dict | None = None) -> Path:
    """A tiny wav2vec 2.0 checkpoint folder at 16 kHz (``sizes``: as :func:`write_hubert`)."""
    from transformers import Wav2Vec2Config, Wav2Vec2Model
    _seeded(seed)
    return _save(Wav2Vec2Model(Wav2Vec2Config(**_sizes(sizes))), Path(folder), 16000, True)


def write_mert(folder: str | Path, seed: int = 0, sizes: dict | None = None) -> Path:
    """A tiny MERT-v1-style snapshot at 24 kHz, with its remote code, needing ``trust_remote_code``
    (``sizes``: as :func:`write_hubert`; :data:`MERT_95M`, :data:`MERT_330M` the real ones)."""
    from transformers import HubertConfig, HubertModel
    folder = Path(folder)
    _seeded(seed)
    _save(HubertModel(HubertConfig(**_sizes(sizes))), folder, 24000, True)
    cfg = json.loads((folder / "config.json").read_text())
    cfg.update(model_type="mert_model", architectures=["MERTModel"], feature_extractor_cqt=False,
               feature_extractor_cqt_bins=336, deepnorm=False, attention_relax=-1.0, sample_rate=24000,
               auto_map={"AutoConfig": "configuration_MERT.MERTConfig", "AutoModel": "modeling_MERT.MERTModel"})
    (folder / "config.json").write_text(json.dumps(cfg, indent=2))
    (folder / "configuration_MERT.py").write_text(MERT_CONFIG_PY)
    (folder / "modeling_MERT.py").write_text(MERT_MODELING_PY)
    return folder


VGGISH_CHANNELS = (4, 8, 8, 8, 8, 8)
"""Tiny widths of VGGish's six convolutions (the real ones: 64, 128, 256, 256, 512, 512)."""


def vggish_state_dict(seed: int = 0, channels: tuple[int, ...] = VGGISH_CHANNELS, hidden: int = 16) -> dict[str, torch.Tensor]:
    """A random state dict in torchvggish's key layout (features.*, embeddings.*)."""
    g = torch.Generator().manual_seed(seed)
    sd: dict[str, torch.Tensor] = {}
    c_in = 1
    for idx, c in zip((0, 3, 6, 8, 11, 13), channels):
        sd[f"features.{idx}.weight"] = torch.randn(c, c_in, 3, 3, generator=g) * (2.0 / (9 * c_in)) ** 0.5
        sd[f"features.{idx}.bias"] = torch.zeros(c)
        c_in = c
    dims = (c_in * 6 * 4, hidden, hidden, 128)
    for idx, (a, b) in zip((0, 2, 4), zip(dims[:-1], dims[1:])):
        sd[f"embeddings.{idx}.weight"] = torch.randn(b, a, generator=g) * (2.0 / a) ** 0.5
        sd[f"embeddings.{idx}.bias"] = torch.full((b,), 0.01)
    return sd


def vggish_pca(seed: int = 0) -> dict[str, np.ndarray]:
    """Random PCA parameters as the port ships them: numpy arrays, eigenvectors (128, 128), means (128,)."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((128, 128)))
    return {"pca_eigen_vectors": q.astype(np.float32), "pca_means": (rng.standard_normal(128) * 0.1).astype(np.float32)}


VGGISH_FULL = dict(channels=(64, 128, 256, 256, 512, 512), hidden=4096)
"""The real VGGish's widths (72.1M parameters), for ``write_vggish(..., sizes=VGGISH_FULL)``."""


def write_vggish(path: str | Path, seed: int = 0, pca: bool = True, sizes: dict | None = None) -> Path:
    """A tiny VGGish ``.pth`` and (unless ``pca=False``) ``vggish_pca_params.pth`` beside it; returns the weights."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(vggish_state_dict(seed, **(sizes or {})), path)
    if pca:
        torch.save(vggish_pca(seed), path.with_name(VGGISH_PCA))
    return path


VGGISH_PCA = "vggish_pca_params.pth"


WRITERS = {"musichubert": write_hubert, "music2vec": write_data2vec, "wav2vec2": write_wav2vec2,
           "mert": write_mert, "vggish": write_vggish}


def write_tiny(feature: str, where: str | Path, seed: int = 0) -> Path:
    """The tiny checkpoint of the saz feature ``feature`` under ``where``: a folder, or for VGGish
``where/vggish.pth`` (its PCA file: ``where/vggish_pca_params.pth``, :data:`VGGISH_PCA`)."""
    where = Path(where)
    if feature == "vggish":
        return write_vggish(where / "vggish.pth", seed)
    return WRITERS[feature](where / feature, seed)

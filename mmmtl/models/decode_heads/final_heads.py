# Copyright (c) mmmtl contributors. All rights reserved.
"""Building the final per-task heads of the distillation decoders."""
from typing import Dict, Sequence

import torch.nn as nn
from mmseg.registry import MODELS


def build_final_heads(cfg: dict, tasks: Sequence[str], channels: int,
                      out_channels: Dict[str, int], norm_cfg: dict,
                      act_cfg: dict) -> nn.ModuleDict:
    """One final head per task from a config of a registered module.

    Args:
        cfg (dict): ``dict(type=<MODELS name>, ...)`` of a module called as
            ``head(x, predict)`` that returns ``(features, prediction)``,
            e.g. ``dict(type='PredictionHead')`` or
            ``dict(type='ASPPPredictionHead', dilations=(1, 6, 12, 18))``.
        tasks (Sequence[str]): Tasks, one head each.
        channels (int): Input channels and feature width of every head.
        out_channels (dict[str, int]): Prediction channels per task.
        norm_cfg (dict): Norm layer config (unless ``cfg`` gives one).
        act_cfg (dict): Activation config (unless ``cfg`` gives one).

    Returns:
        nn.ModuleDict: task -> head.
    """
    if not isinstance(cfg, dict) or 'type' not in cfg:
        raise TypeError(
            f"final_head must be a config dict of a registered head, e.g. "
            f"dict(type='PredictionHead') or dict(type='ASPPPredictionHead', "
            f"dilations=(1, 6, 12, 18)); got {cfg!r}")
    for key in ('in_channels', 'channels', 'out_channels'):
        if key in cfg:
            raise ValueError(f'final_head={cfg!r} sets {key!r}, which the '
                             f'decode head sets itself')
    heads = {}
    for task in tasks:
        head_cfg = dict(norm_cfg=norm_cfg, act_cfg=act_cfg)
        head_cfg.update(cfg)
        head_cfg.update(in_channels=channels, channels=channels,
                        out_channels=out_channels[task])
        heads[task] = MODELS.build(head_cfg)
    return nn.ModuleDict(heads)

# Copyright (c) mmmtl contributors. All rights reserved.
from .base_loss_weighting_hook import BaseLossWeightingHook
from .broadcast_buffers_hook import BroadcastBuffersHook
from .dump_predictions_hook import DumpPredictionsHook
from .dwa_hook import DWAHook
from .equal_weighting_hook import EqualWeightingHook
from .loss_prioritization_hook import LPSHook
from .nonfinite_loss_hook import (LossSpikeError, NonFiniteLossError,
                                  NonFiniteLossHook, step_was_skipped)
from .progress_bar_hook import ProgressBarHook
from .rank_consistency_hook import RankConsistencyHook
from .safe_checkpoint_hook import SafeCheckpointHook
from .visualization_hook import MultiTaskVisualizationHook

__all__ = [
    'BaseLossWeightingHook', 'BroadcastBuffersHook', 'DumpPredictionsHook',
    'DWAHook', 'EqualWeightingHook', 'LPSHook',
    'LossSpikeError', 'NonFiniteLossError', 'NonFiniteLossHook',
    'ProgressBarHook', 'RankConsistencyHook', 'SafeCheckpointHook',
    'MultiTaskVisualizationHook', 'step_was_skipped'
]

# Copyright (c) mmmtl contributors. All rights reserved.
"""Make every rank hold rank 0's buffers before validation and at the end
of training."""
from mmengine.hooks import Hook
from mmseg.registry import HOOKS

from mmmtl.utils.distributed import (broadcast_buffers_from_rank0,
                                     unwrap_model)


@HOOKS.register_module()
class BroadcastBuffersHook(Hook):
    """Broadcast rank 0's buffers before validation and after training.

    With plain BatchNorm, DDP (``broadcast_buffers=True``) copies rank 0's
    buffers to the other ranks at the start of each training forward, so
    after the last iteration of a training phase every rank holds the
    running statistics of its own last batch. Validation shards the data
    over the ranks and each rank evaluates with its own model, so without
    this hook the distributed validation metric mixes models whose
    BatchNorm statistics differ from the checkpoint rank 0 saves. With it,
    every rank validates exactly the model of the checkpoint, and the
    metric equals ``tools/test.py`` on that checkpoint. The training
    trajectory is unchanged (see :func:`~mmmtl.utils.distributed.
    broadcast_buffers_from_rank0`). In a single process it does nothing.

    ``setup_runtime`` adds it to every training config.
    """
    priority = 'HIGH'

    def before_val(self, runner) -> None:
        """Rank 0's buffers to every rank before validating."""
        broadcast_buffers_from_rank0(unwrap_model(runner.model))

    def after_train(self, runner) -> None:
        """Rank 0's buffers to every rank when training ends."""
        broadcast_buffers_from_rank0(unwrap_model(runner.model))

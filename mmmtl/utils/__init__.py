# Copyright (c) mmmtl contributors. All rights reserved.
from .atomic_io import atomic_write
from .checkpoint_safety import (SAFE_CHECKPOINT_GLOBALS, UnsafeCheckpointError,
                                register_safe_checkpoint_globals)
from .collect_env import collect_env
from .distributed import (CPUDistributedDataParallel, CPUSyncBatchNorm,
                          convert_sync_batchnorm_for_cpu, unwrap_model)
from .prediction_io import save_panel, save_predictions, save_task_prediction
from .runtime import setup_runtime
from .task_consistency import check_task_consistency

__all__ = [
    'SAFE_CHECKPOINT_GLOBALS', 'UnsafeCheckpointError',
    'register_safe_checkpoint_globals', 'collect_env',
    'CPUDistributedDataParallel', 'CPUSyncBatchNorm',
    'convert_sync_batchnorm_for_cpu', 'check_task_consistency',
    'setup_runtime', 'atomic_write', 'save_panel', 'save_predictions',
    'save_task_prediction', 'unwrap_model'
]

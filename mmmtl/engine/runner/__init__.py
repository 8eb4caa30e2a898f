# Copyright (c) mmmtl contributors. All rights reserved.
from .multitask_runner import MultiTaskRunner, prepare_runtime_cfg

__all__ = ['MultiTaskRunner', 'prepare_runtime_cfg']

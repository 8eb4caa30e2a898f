# Copyright (c) mmmtl contributors. All rights reserved.
"""Small builders shared by the test suite (tiny models and random batches)."""
from .builders import (TINY_TASKS, fit_steps, random_batch, random_sample,
                       tiny_model_cfg)

__all__ = [
    'TINY_TASKS', 'fit_steps', 'tiny_model_cfg', 'random_sample',
    'random_batch'
]

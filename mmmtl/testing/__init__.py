# Copyright (c) mmmtl contributors. All rights reserved.
"""Helpers of the test suite: tiny models and random batches, and the
test-only :class:`FaultInjectionHook`.

Not imported by ``import mmmtl``: the hook is registered (into
MMSegmentation's ``HOOKS``) only where ``mmmtl.testing`` is imported, e.g.
by ``custom_imports = dict(imports=['mmmtl', 'mmmtl.testing'])`` in a test
config.
"""
from .builders import (TINY_TASKS, fit_steps, random_batch, random_sample,
                       tiny_model_cfg)
from .fault_injection_hook import FaultInjectionHook

__all__ = [
    'TINY_TASKS', 'fit_steps', 'tiny_model_cfg', 'random_sample',
    'random_batch', 'FaultInjectionHook'
]

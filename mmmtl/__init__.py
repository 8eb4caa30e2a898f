# Copyright (c) mmmtl contributors. All rights reserved.
"""mmmtl: multi-task dense prediction for MMSegmentation.

Importing the package registers its datasets, transforms, models, metrics,
hooks and visualizers into MMSegmentation's registries, so a config needs
only ``custom_imports = dict(imports=['mmmtl'], allow_failed_imports=False)``
and ``default_scope = 'mmseg'``.

It also arms the runtime safeguards that do not depend on the training
script: with ``MMMTL_DEVICE=cpu`` the GPUs are hidden from PyTorch (see
:func:`~mmmtl.utils.runtime.hide_gpus_if_cpu_forced`), checkpoints load with
``weights_only`` and an allow-list, and checkpoint files are written
atomically (:mod:`mmmtl.utils.checkpoint_safety`). The rest (safe
checkpoint hook, non-finite-loss guard, CPU distributed settings) is applied
by :class:`~mmmtl.engine.runner.MultiTaskRunner`, which
``configs/_base_/default_runtime.py`` declares as ``runner_type``.
"""
from .version import __version__, version_info

from .utils.runtime import hide_gpus_if_cpu_forced  # noqa: E402

hide_gpus_if_cpu_forced()

# Before anything imports mmpretrain: contain its optional multimodal import
# (fails with transformers >= 5, see mmmtl.utils.optional_imports).
from .utils.optional_imports import guard_mmpretrain_multimodal  # noqa: E402

guard_mmpretrain_multimodal()

from . import structures  # noqa: E402,F401  (isort:skip)
from . import datasets  # noqa: E402,F401  (isort:skip)
from . import models  # noqa: E402,F401  (isort:skip)
from . import evaluation  # noqa: E402,F401  (isort:skip)

from . import engine  # noqa: E402,F401  (isort:skip)
from . import visualization  # noqa: E402,F401  (isort:skip)

__all__ = ['__version__', 'version_info']

# Copyright (c) mmmtl contributors. All rights reserved.
"""mmmtl: multi-task dense prediction for MMSegmentation.

Importing the package registers its datasets, transforms, models, metrics,
hooks and visualizers into MMSegmentation's registries, so a config needs
only ``custom_imports = dict(imports=['mmmtl'], allow_failed_imports=False)``
and ``default_scope = 'mmseg'``.
"""
from .version import __version__, version_info

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

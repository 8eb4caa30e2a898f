# Copyright (c) mmmtl contributors. All rights reserved.
"""Multi-task evaluation: :class:`MultiTaskMetric` and its per-task parts."""
from .functional import *  # noqa: F401,F403
from .functional import __all__ as _functional_all
from .metrics import MultiTaskMetric

__all__ = ['MultiTaskMetric'] + list(_functional_all)

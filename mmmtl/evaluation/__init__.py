# Copyright (c) mmmtl contributors. All rights reserved.
"""Multi-task evaluation: :class:`MultiTaskMetric` and its per-task parts."""
from .statistics import *  # noqa: F401,F403
from .statistics import __all__ as _statistics_all
from .metrics import MultiTaskMetric

__all__ = ['MultiTaskMetric'] + list(_statistics_all)

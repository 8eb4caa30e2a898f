# Copyright (c) mmmtl contributors. All rights reserved.
"""Per-task sufficient statistics (stateful accumulators) of MultiTaskMetric
and the formulas that turn them into metrics."""
from .base import (TASK_STATISTICS, TaskStatistic, build_task_statistic,
                   register_task_statistic)
from .boundary_statistic import BoundaryFStatistic
from .delta_m import delta_m, primary_directions, relative_gain
from .depth import DepthStatistic, depth_metrics, depth_sums
from .edge_loss import EdgeLossStatistic, balanced_bce_sum
from .exact_sum import exact_zeros, from_fixed_point, to_fixed_point
from .normals import (NormalsStatistic, angle_histogram, histogram_median,
                      normals_angles)
from .saliency import (SALIENCY_PRESETS, SaliencyStatistic, make_thresholds,
                       threshold_counts)
from .segmentation import (ConfusionStatistic, confusion_matrix,
                           iou_per_class, mean_iou, pixel_accuracy)

__all__ = [
    'TASK_STATISTICS', 'TaskStatistic', 'build_task_statistic',
    'register_task_statistic', 'BoundaryFStatistic', 'delta_m',
    'primary_directions',
    'relative_gain', 'DepthStatistic', 'depth_metrics', 'depth_sums',
    'EdgeLossStatistic', 'balanced_bce_sum', 'exact_zeros',
    'from_fixed_point', 'to_fixed_point', 'NormalsStatistic',
    'angle_histogram', 'histogram_median', 'normals_angles',
    'SALIENCY_PRESETS', 'SaliencyStatistic', 'make_thresholds',
    'threshold_counts', 'ConfusionStatistic', 'confusion_matrix',
    'iou_per_class', 'mean_iou', 'pixel_accuracy'
]

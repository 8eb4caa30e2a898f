# Copyright (c) mmmtl contributors. All rights reserved.
"""Data sample carrying one ground-truth and one prediction map per task."""
from typing import Dict, Optional

import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from .tasks import TASKS, TaskSpec, get_task


class MultiTaskDataSample(SegDataSample):
    """A :class:`~mmseg.structures.SegDataSample` with a field per task.

    The field names come from the task table
    (:data:`mmmtl.structures.tasks.TASKS`): ``gt_sem_seg`` / ``pred_sem_seg``
    (inherited), ``gt_depth_map`` / ``pred_depth_map``, ``gt_normals`` /
    ``pred_normals``, ``gt_edge_map`` / ``pred_edge_map``, ``gt_saliency`` /
    ``pred_saliency`` and ``gt_human_parts`` / ``pred_human_parts``. Every
    field is a :class:`~mmengine.structures.PixelData` whose ``data`` has shape
    ``(C, H, W)``.

    Examples:
        >>> sample = MultiTaskDataSample()
        >>> sample.gt_depth_map = PixelData(data=torch.ones(1, 4, 5))
        >>> sample.get_gt('depth').data.shape
        torch.Size([1, 4, 5])
    """

    def get_gt(self, task: str) -> Optional[PixelData]:
        """Ground truth of ``task``, or ``None`` when the sample has none."""
        return getattr(self, get_task(task).gt_field, None)

    def get_pred(self, task: str) -> Optional[PixelData]:
        """Prediction of ``task``, or ``None`` when the sample has none."""
        return getattr(self, get_task(task).pred_field, None)

    def set_gt(self, task: str, data: torch.Tensor) -> None:
        """Store ``data`` (C, H, W) as the ground truth of ``task``."""
        setattr(self, get_task(task).gt_field, PixelData(data=data))

    def set_pred(self, task: str, data: torch.Tensor) -> None:
        """Store ``data`` of shape (C, H, W) as the prediction of ``task``."""
        setattr(self, get_task(task).pred_field, PixelData(data=data))

    def gt_tasks(self) -> Dict[str, PixelData]:
        """All ground-truth maps present, keyed by task name."""
        return {name: getattr(self, spec.gt_field)
                for name, spec in TASKS.items() if spec.gt_field in self}


def _add_field(field_name: str) -> None:
    """Give :class:`MultiTaskDataSample` a typed property for a task field."""
    if hasattr(MultiTaskDataSample, field_name):
        return  # inherited from SegDataSample (gt_sem_seg, pred_sem_seg, ...)
    private = '_' + field_name

    def getter(self) -> PixelData:
        return getattr(self, private)

    def setter(self, value: PixelData) -> None:
        self.set_field(value, private, dtype=PixelData)

    def deleter(self) -> None:
        delattr(self, private)

    setattr(MultiTaskDataSample, field_name,
            property(getter, setter, deleter, doc=f'``{field_name}``'))


def _register_fields(spec: TaskSpec) -> None:
    _add_field(spec.gt_field)
    _add_field(spec.pred_field)


for _spec in TASKS.values():
    _register_fields(_spec)

# Copyright (c) mmmtl contributors. All rights reserved.
"""Visualizer that draws multi-task panels."""
from typing import List, Optional, Sequence

import mmcv
import numpy as np
from mmengine.dist import master_only
from mmseg.registry import VISUALIZERS
from mmseg.visualization import SegLocalVisualizer

from mmmtl.structures import TASKS, MultiTaskDataSample
from mmmtl.structures.tasks import check_tasks
from .panels import draw_task_panel


def unpadded_gt(sample: MultiTaskDataSample, field: str) -> np.ndarray:
    """A ground-truth map without the batch padding of the pre-processor.

    In validation the pre-processor pads ground truth at the bottom/right
    to the batch size; the sample's ``img_shape`` is the unpadded size.

    Args:
        sample (MultiTaskDataSample): Sample after the model's test step.
        field (str): Ground-truth field, e.g. ``'gt_depth_map'``.

    Returns:
        np.ndarray: (C, h, w) map cropped to ``img_shape``.
    """
    data = sample.get(field).data
    data = data.detach().cpu().numpy() if hasattr(data, 'detach') else \
        np.asarray(data)
    if 'padding_size' in sample.metainfo and 'img_shape' in sample.metainfo:
        h, w = sample.img_shape[:2]
        data = data[:, :h, :w]
    return data


@VISUALIZERS.register_module()
class MultiTaskVisualizer(SegLocalVisualizer):
    """Draws the image and, per task, ground truth above prediction.

    Built on MMSegmentation's :class:`~mmseg.visualization.
    SegLocalVisualizer` (same backends and arguments); the panel layout is
    :func:`~mmmtl.visualization.panels.draw_task_panel`: a column per task,
    ground truth above prediction, depth on one colour scale shared by both
    (with a colour bar), a legend of class colours for discrete tasks.

    Panels go to every configured visualization backend (local files,
    TensorBoard) through :meth:`add_image`, and to ``out_file`` if given.
    Class palettes and names come from ``dataset_meta`` (set by the runner
    from the dataset's metainfo, by the inferencer from the model's).

    Args:
        name (str): Instance name (MMEngine's visualizer manager).
        tasks (list[str], optional): Tasks drawn (columns in the task
            table's order, those a sample has ground truth or a prediction
            of). By default the tasks of ``dataset_meta['tasks']``.
        **kwargs: Arguments of :class:`mmseg.visualization.
            SegLocalVisualizer` (``name``, ``vis_backends``, ``save_dir``).
    """

    def __init__(self,
                 name: str = 'visualizer',
                 tasks: Optional[Sequence[str]] = None,
                 **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        self.tasks = None if tasks is None else check_tasks(
            tasks, 'MultiTaskVisualizer.tasks')

    def drawn_tasks(self) -> List[str]:
        """The tasks to draw: ``tasks``, else ``dataset_meta['tasks']``."""
        if self.tasks is not None:
            return self.tasks
        meta_tasks = (self.dataset_meta or {}).get('tasks')
        if meta_tasks is None:
            raise ValueError(
                "MultiTaskVisualizer has no tasks to draw: give tasks=[...] "
                "or set dataset_meta with 'tasks' (the runner sets it from "
                "the dataset's metainfo, the inferencer from the model's)")
        return check_tasks(meta_tasks, "MultiTaskVisualizer.dataset_meta"
                           "['tasks']")

    @master_only
    def add_datasample(self,
                       name: str,
                       image: np.ndarray,
                       data_sample: Optional[MultiTaskDataSample] = None,
                       draw_gt: bool = True,
                       draw_pred: bool = True,
                       show: bool = False,
                       wait_time: float = 0,
                       out_file: Optional[str] = None,
                       step: int = 0,
                       **kwargs) -> np.ndarray:
        """Draw a panel for one sample.

        Args:
            name (str): Image identifier (the backends' key).
            image (np.ndarray): (H, W, 3) uint8 RGB image at the prediction
                size.
            data_sample (MultiTaskDataSample, optional): Ground truth and/or
                predictions.
            draw_gt (bool): Draw ground-truth maps.
            draw_pred (bool): Draw predictions.
            show (bool): Display the panel in a window.
            wait_time (float): Window delay in seconds.
            out_file (str, optional): Also write the panel to this file.
            step (int): Global step for the backends.

        Returns:
            np.ndarray: The (H', W', 3) RGB panel.
        """
        gts, preds = {}, {}
        if data_sample is not None:
            for task in self.drawn_tasks():
                spec = TASKS[task]
                if draw_gt and spec.gt_field in data_sample:
                    gts[task] = unpadded_gt(data_sample, spec.gt_field)
                if draw_pred and spec.pred_field in data_sample:
                    preds[task] = data_sample.get(spec.pred_field).data
        panel = draw_task_panel(image, gts, preds, self.dataset_meta or {})
        self.set_image(panel)
        if show:
            self.show(panel, win_name=name, wait_time=wait_time)
        if out_file is not None:
            mmcv.imwrite(mmcv.rgb2bgr(panel), out_file)
        else:
            self.add_image(name, panel, step)
        return panel

# Copyright (c) mmmtl contributors. All rights reserved.
"""Writes multi-task panels during validation and testing."""
import os.path as osp
from typing import Optional, Sequence

import numpy as np
from mmengine.hooks import Hook
from mmengine.runner import Runner
from mmseg.registry import HOOKS

from mmmtl.datasets.transforms import read_rgb_image
from mmmtl.structures import MultiTaskDataSample


def load_display_image(sample: MultiTaskDataSample) -> np.ndarray:
    """The sample's image as (H, W, 3) uint8 RGB at its original size."""
    img = read_rgb_image(sample.img_path)
    return np.clip(img, 0, 255).astype(np.uint8)


@HOOKS.register_module()
class MultiTaskVisualizationHook(Hook):
    """Draw panels (image, GT and prediction of each task) for a few images.

    * Validation: the first ``num_images`` validation images of every
      evaluation go to the visualizer's backends (local files under the
      work dir's ``vis_data``, TensorBoard when that backend is on), tagged
      with the training iteration.
    * Testing (``draw=True``, as ``tools/test.py --show-dir`` sets it):
      a panel per image (all of them unless ``num_images`` is set) is
      written to ``show_dir``.

    Args:
        num_images (int, optional): Images per evaluation (validation
            default 4; testing default all).
        draw (bool): Draw at test time.
        show_dir (str, optional): Folder for test-time panels (relative
            paths are under the work dir).
    """
    priority = 'NORMAL'

    def __init__(self, num_images: Optional[int] = 4, draw: bool = False,
                 show_dir: Optional[str] = None):
        self.num_images = num_images
        self.draw = draw
        self.show_dir = show_dir
        self._seen = 0

    def before_val_epoch(self, runner: Runner) -> None:
        """Restart the image count."""
        self._seen = 0

    def before_test_epoch(self, runner: Runner) -> None:
        """Restart the image count."""
        self._seen = 0

    def after_val_iter(self, runner: Runner, batch_idx: int,
                       data_batch: dict,
                       outputs: Sequence[MultiTaskDataSample]) -> None:
        """Send the first panels to the visualizer's backends."""
        for sample in outputs:
            if self.num_images is not None and self._seen >= self.num_images:
                return
            self._seen += 1
            name = f'val_{osp.splitext(osp.basename(sample.img_path))[0]}'
            runner.visualizer.add_datasample(
                name, load_display_image(sample), data_sample=sample,
                step=runner.iter)

    def after_test_iter(self, runner: Runner, batch_idx: int,
                        data_batch: dict,
                        outputs: Sequence[MultiTaskDataSample]) -> None:
        """Write one panel per test image to ``show_dir``."""
        if not self.draw:
            return
        show_dir = osp.join(runner.work_dir, self.show_dir or 'panels')
        for sample in outputs:
            if self.num_images is not None and self._seen >= self.num_images:
                return
            self._seen += 1
            stem = osp.splitext(osp.basename(sample.img_path))[0]
            runner.visualizer.add_datasample(
                stem, load_display_image(sample), data_sample=sample,
                out_file=osp.join(show_dir, f'{stem}.png'))

# Copyright (c) mmmtl contributors. All rights reserved.
"""Normalises, pads and batches images and every task's ground truth."""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmseg.models.data_preprocessor import SegDataPreProcessor
from mmseg.registry import MODELS

from mmmtl.structures import TASKS, MultiTaskDataSample


def padded_size(sizes: Sequence[Tuple[int, int]],
                size: Optional[Tuple[int, int]] = None,
                size_divisor: Optional[int] = None) -> Tuple[int, int]:
    """Common (H, W) a batch is padded to.

    Args:
        sizes (Sequence[tuple[int, int]]): (H, W) of each image.
        size (tuple[int, int], optional): Fixed (H, W); must not be smaller
            than any image.
        size_divisor (int, optional): Round the largest size up to a
            multiple of this.

    Returns:
        tuple[int, int]: Padded (H, W).
    """
    max_h = max(s[0] for s in sizes)
    max_w = max(s[1] for s in sizes)
    if size is not None:
        if size[0] < max_h or size[1] < max_w:
            raise ValueError(f'data_preprocessor size {tuple(size)} is '
                             f'smaller than an input of size {(max_h, max_w)}')
        return int(size[0]), int(size[1])
    if size_divisor:
        max_h = -(-max_h // size_divisor) * size_divisor
        max_w = -(-max_w // size_divisor) * size_divisor
    return max_h, max_w


def pad_bottom_right(tensor: torch.Tensor, target: Tuple[int, int],
                     value: float) -> torch.Tensor:
    """Pad a (C, H, W) tensor at the bottom and right to ``target`` (H, W)."""
    pad_h = target[0] - tensor.shape[-2]
    pad_w = target[1] - tensor.shape[-1]
    if pad_h == 0 and pad_w == 0:
        return tensor
    return F.pad(tensor, (0, pad_w, 0, pad_h), value=value)


@MODELS.register_module()
class MultiTaskDataPreProcessor(SegDataPreProcessor):
    """Data pre-processor for multi-task batches.

    Like :class:`mmseg.models.SegDataPreProcessor` (same arguments: ``mean``,
    ``std``, ``bgr_to_rgb``, ``size``, ``size_divisor``, ``pad_val``,
    ``batch_augments``, ``test_cfg``) but every task's ground truth is padded
    with *its own* pad value from the task table: labels with 255, depth with
    0 (invalid), normals with the zero vector (invalid). MMSegmentation pads
    depth with ``seg_pad_val`` (255), which turns padding into valid depth;
    here padded pixels are always ignored.

    Images are padded at the bottom/right to a common size in training and at
    test time (so test batches may mix image sizes); each sample's metainfo
    gets ``pad_shape`` and ``padding_size`` ``[left, right, top, bottom]``,
    which the segmentor uses to crop predictions back.

    CompL auxiliary views (``ssl_views`` fields of (V, 3, h, w), added by
    :class:`~mmmtl.datasets.composite_dataset.CompositeDataset`) get the
    same channel conversion and normalisation as the images and are
    written back to each sample as float tensors; they are not padded (the
    auxiliary pipeline crops them to a fixed size, and the segmentor checks
    that a batch's views share one shape). ``batch_augments`` do not touch
    them.
    """

    def forward(self, data: dict, training: bool = False) -> Dict:
        """Normalise, pad and stack a batch.

        Args:
            data (dict): ``inputs`` (list of (3, H, W) tensors) and
                ``data_samples`` (list of MultiTaskDataSample).
            training (bool): Whether this is a training batch.

        Returns:
            dict: ``inputs`` (B, 3, H, W) float tensor and ``data_samples``.
        """
        data = self.cast_data(data)
        inputs: List[torch.Tensor] = data['inputs']
        samples: Optional[List[MultiTaskDataSample]] = data.get(
            'data_samples')
        if self.channel_conversion and inputs[0].size(0) == 3:
            inputs = [img[[2, 1, 0], ...] for img in inputs]
        inputs = [img.float() for img in inputs]
        if self._enable_normalize:
            inputs = [(img - self.mean) / self.std for img in inputs]
        size, size_divisor = self.size, self.size_divisor
        test_cfg = getattr(self, 'test_cfg', None)
        if not training and test_cfg:
            size = test_cfg.get('size', None)
            size_divisor = test_cfg.get('size_divisor', None)
        target = padded_size([img.shape[-2:] for img in inputs], size,
                             size_divisor)
        batch = torch.stack(
            [pad_bottom_right(img, target, self.pad_val) for img in inputs])
        if samples is not None:
            for img, sample in zip(inputs, samples):
                self._pad_sample(sample, tuple(img.shape[-2:]), target,
                                 pad_gt=training)
                self._normalise_ssl_views(sample)
            if training and self.batch_augments is not None:
                for augment in self.batch_augments:
                    batch, samples = augment(batch, samples)
        return dict(inputs=batch, data_samples=samples)

    def _normalise_ssl_views(self, sample: MultiTaskDataSample) -> None:
        """Convert and normalise the sample's (V, 3, h, w) ``ssl_views``."""
        views = sample.get('ssl_views')
        if views is None:
            return
        if views.dim() != 4 or views.shape[1] != 3:
            raise ValueError(f'ssl_views must be (V, 3, h, w), got '
                             f'{tuple(views.shape)}')
        if self.channel_conversion:
            views = views[:, [2, 1, 0], ...]
        views = views.float()
        if self._enable_normalize:
            views = (views - self.mean) / self.std
        sample.ssl_views = views

    @staticmethod
    def _pad_sample(sample: MultiTaskDataSample, img_size: Tuple[int, int],
                    target: Tuple[int, int], pad_gt: bool = True) -> None:
        """Record the padding in the metainfo and pad each task map with
        its pad value; at test time (``pad_gt=False``) ground truth keeps
        the image size, as in MMSegmentation, because predictions are
        cropped back to it."""
        for spec in TASKS.values() if pad_gt else ():
            gt = sample.get(spec.gt_field)
            if gt is not None:
                sample.set_gt(spec.name,
                              pad_bottom_right(gt.data, target,
                                               spec.pad_value))
        sample.set_metainfo(
            dict(img_shape=img_size, pad_shape=target,
                 padding_size=[0, target[1] - img_size[1], 0,
                               target[0] - img_size[0]]))

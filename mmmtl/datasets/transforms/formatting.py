# Copyright (c) mmmtl contributors. All rights reserved.
"""Packing of a multi-task ``results`` dict into model inputs."""
from typing import Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS

from mmmtl.structures import TASKS, MultiTaskDataSample

_DTYPES = {'long': torch.long, 'float': torch.float32}


def to_chw_tensor(array: np.ndarray, dtype: str) -> torch.Tensor:
    """(H, W) or (H, W, C) array -> contiguous (C, H, W) tensor."""
    if array.ndim == 2:
        array = array[None]
    else:
        array = array.transpose(2, 0, 1)
    return torch.from_numpy(np.ascontiguousarray(array)).to(_DTYPES[dtype])


@TRANSFORMS.register_module()
class PackMultiTaskInputs(BaseTransform):
    """Pack the image and every task map into ``inputs`` and a data sample.

    Added keys: ``inputs`` (uint8/float tensor (3, H, W)) and
    ``data_samples`` (:class:`~mmmtl.structures.MultiTaskDataSample` with one
    ground-truth field per task found in ``results``, each
    ``PixelData(data=(C, H, W))`` of the task table's dtype).

    Args:
        meta_keys (Sequence[str]): Keys copied into the sample's metainfo.
    """

    def __init__(self,
                 meta_keys: Sequence[str] = ('img_path', 'ori_shape',
                                             'img_shape', 'pad_shape',
                                             'scale_factor', 'flip',
                                             'flip_direction', 'tasks',
                                             'sample_idx')):
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: dict) -> dict:
        """Build ``inputs`` and ``data_samples``."""
        img = results['img']
        if img.ndim == 2:
            img = img[..., None]
        packed = dict(inputs=to_chw_tensor(img, 'float').contiguous()
                      if img.dtype != np.uint8 else
                      torch.from_numpy(
                          np.ascontiguousarray(img.transpose(2, 0, 1))))
        sample = MultiTaskDataSample()
        for spec in TASKS.values():
            array = results.get(spec.results_key)
            if array is not None:
                sample.set_gt(spec.name, to_chw_tensor(array, spec.gt_dtype))
        sample.set_metainfo({k: results[k] for k in self.meta_keys
                             if k in results})
        packed['data_samples'] = sample
        return packed

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(meta_keys={self.meta_keys})'

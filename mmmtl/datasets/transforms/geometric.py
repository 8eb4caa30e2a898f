# Copyright (c) mmmtl contributors. All rights reserved.
"""Geometric transforms that move every task map with the image.

MMCV's ``Resize`` and ``RandomFlip`` only touch ``gt_seg_map``. These
subclasses apply the same geometry to every key in ``results['seg_fields']``
using each task's rule from the task table: nearest-neighbour resizing for
label maps, valid-aware bilinear resizing for continuous maps, and negation
of the mirrored component of surface normals on flips. ``RandomCrop`` of
MMSegmentation already crops every ``seg_fields`` entry and is reused as is.
"""
from typing import Tuple

import cv2
import mmcv
import numpy as np
from mmcv.transforms import RandomFlip, RandomResize, Resize
from mmseg.registry import TRANSFORMS

from mmmtl.structures import TaskSpec, task_of_results_key


def _target_size(shape: Tuple[int, int], scale: Tuple[int, int],
                 keep_ratio: bool) -> Tuple[int, int]:
    """(w, h) that ``mmcv.imrescale``/``imresize`` would produce."""
    h, w = shape
    if keep_ratio:
        new_w, new_h = mmcv.rescale_size((w, h), scale)
        return new_w, new_h
    return int(scale[0]), int(scale[1])


def invalid_mask(array: np.ndarray, spec: TaskSpec) -> np.ndarray:
    """(H, W) bool mask of invalid pixels of a canonical map."""
    invalid = array == spec.ignore_value
    return invalid.all(axis=-1) if array.ndim == 3 else invalid


def resize_valid(array: np.ndarray, spec: TaskSpec,
                 size: Tuple[int, int]) -> np.ndarray:
    """Bilinear resize that never blends valid with invalid pixels.

    Values and the validity mask are resized bilinearly; each output value is
    the resized values divided by the resized mask, i.e. bilinear weights
    renormalised over the valid neighbours only. An output pixel is valid
    when at least half of its interpolation weight falls on valid pixels.
    Unit vectors (normals) are renormalised to unit length.

    Args:
        array (np.ndarray): (H, W) or (H, W, C) float map.
        spec (TaskSpec): Its task (gives the invalid value).
        size (tuple[int, int]): Output (w, h).

    Returns:
        np.ndarray: (h, w) or (h, w, C) float32 map.
    """
    valid = (~invalid_mask(array, spec)).astype(np.float32)
    values = np.where(valid[..., None] > 0 if array.ndim == 3 else valid > 0,
                      array, 0).astype(np.float32)
    values = cv2.resize(values, size, interpolation=cv2.INTER_LINEAR)
    weight = cv2.resize(valid, size, interpolation=cv2.INTER_LINEAR)
    if values.ndim == 3:
        weight = weight[..., None]
    out = values / np.maximum(weight, 1e-6)
    keep = weight >= 0.5
    if spec.unit_norm:
        norm = np.linalg.norm(out, axis=-1, keepdims=True)
        keep = keep & (norm > 1e-6)
        out = out / np.maximum(norm, 1e-6)
    return np.where(keep, out, spec.ignore_value).astype(np.float32)


def resize_task_map(array: np.ndarray, spec: TaskSpec,
                    size: Tuple[int, int]) -> np.ndarray:
    """Resize a canonical task map to ``size`` (w, h) by the task's rule."""
    if spec.interpolation == 'nearest':
        # OpenCV has no int64 resize; mmcv returns int32: restore the dtype.
        return mmcv.imresize(array, size,
                             interpolation='nearest').astype(array.dtype)
    if spec.interpolation == 'bilinear_valid':
        return resize_valid(array, spec, size)
    raise ValueError(f'task {spec.name!r} has unknown interpolation '
                     f'{spec.interpolation!r}')


@TRANSFORMS.register_module()
class MultiTaskResize(Resize):
    """``mmcv.transforms.Resize`` that resizes every task map in
    ``seg_fields`` with its task's interpolation rule.

    Arguments are those of :class:`mmcv.transforms.Resize`.
    """

    def _resize_seg(self, results: dict) -> None:
        size = None
        for key in results.get('seg_fields', []):
            spec = task_of_results_key(key)
            if spec is None or results.get(key) is None:
                continue
            array = results[key]
            if size is None:
                size = _target_size(array.shape[:2], results['scale'],
                                    self.keep_ratio)
                if self.keep_ratio:
                    # Match the image exactly (imrescale may round
                    # differently for maps of another size).
                    size = results['img'].shape[1::-1]
            results[key] = resize_task_map(array, spec, tuple(size))


@TRANSFORMS.register_module()
class MultiTaskRandomResize(RandomResize):
    """``mmcv.transforms.RandomResize`` using :class:`MultiTaskResize`.

    Arguments are those of :class:`mmcv.transforms.RandomResize`; the
    resize type defaults to ``'MultiTaskResize'``.
    """

    def __init__(self, scale, ratio_range=None,
                 resize_type: str = 'MultiTaskResize', **resize_kwargs):
        super().__init__(scale, ratio_range, resize_type, **resize_kwargs)
        self.resize = TRANSFORMS.build({'scale': 0, **self.resize_cfg})


def flip_task_map(array: np.ndarray, spec: TaskSpec,
                  direction: str) -> np.ndarray:
    """Flip a task map and negate its mirrored vector components.

    Args:
        array (np.ndarray): (H, W) or (H, W, C) canonical map.
        spec (TaskSpec): Its task.
        direction (str): ``'horizontal'``, ``'vertical'`` or ``'diagonal'``.

    Returns:
        np.ndarray: The flipped map (a new array).
    """
    flipped = mmcv.imflip(array, direction=direction).copy()
    for channel in spec.flip_negate_channels.get(direction, ()):
        flipped[..., channel] = -flipped[..., channel]
    return flipped


@TRANSFORMS.register_module()
class MultiTaskRandomFlip(RandomFlip):
    """``mmcv.transforms.RandomFlip`` that flips every task map.

    Surface normals have their mirrored component negated (x for horizontal
    flips, y for vertical ones), so a flipped scene has correct normals and
    flipping twice is the identity. Arguments are those of
    :class:`mmcv.transforms.RandomFlip` (``prob``, ``direction``).
    """

    def _flip(self, results: dict) -> None:
        direction = results['flip_direction']
        results['img'] = mmcv.imflip(results['img'], direction=direction)
        for key in results.get('seg_fields', []):
            spec = task_of_results_key(key)
            if spec is not None and results.get(key) is not None:
                results[key] = flip_task_map(results[key], spec, direction)

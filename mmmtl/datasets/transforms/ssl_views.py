# Copyright (c) mmmtl contributors. All rights reserved.
"""Transforms of CompL's auxiliary (self-supervised) pipeline.

The photometric and geometric view augmentations of MoCo v2 come from
mmpretrain and mmcv (``mmpretrain.RandomResizedCrop``, ``RandomApply``,
``RandomGrayscale``, ``mmpretrain.GaussianBlur``, ``RandomFlip``,
``mmpretrain.MultiView`` for two views); this module adds only what they lack:
a colour jitter whose hue step works with NumPy 2, the rotation label of the
Rot task and the packing of the views for
:class:`~mmmtl.datasets.composite_dataset.CompositeDataset`.
"""
from typing import Optional

import cv2
import mmcv
import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness
from mmpretrain.datasets.transforms import ColorJitter
from mmseg.registry import TRANSFORMS


def shift_hue(img: np.ndarray, hue_factor: float) -> np.ndarray:
    """Rotate the hue of a BGR uint8 image by ``hue_factor`` of a turn.

    The same operation as :func:`mmcv.adjust_hue` with the cv2 backend
    (HSV_FULL hue in [0, 255], shifted by ``int(hue_factor * 255)`` modulo
    256), but negative shifts are taken modulo 256 explicitly: mmcv 2.1
    casts the negative shift with ``np.uint8(...)``, which NumPy >= 2
    rejects with an ``OverflowError``.

    Args:
        img (np.ndarray): (H, W, 3) BGR image.
        hue_factor (float): Shift in [-0.5, 0.5].

    Returns:
        np.ndarray: The image with its hue rotated, same dtype.
    """
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f'hue_factor must be in [-0.5, 0.5], got '
                         f'{hue_factor}')
    dtype = img.dtype
    hsv = cv2.cvtColor(img.astype(np.uint8), cv2.COLOR_BGR2HSV_FULL)
    shift = int(hue_factor * 255) % 256
    hsv[..., 0] = ((hsv[..., 0].astype(np.int32) + shift) % 256).astype(
        np.uint8)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR_FULL).astype(dtype)


@TRANSFORMS.register_module()
class SSLColorJitter(ColorJitter):
    """mmpretrain's ``ColorJitter`` (MoCo v2's colour jitter) with a hue
    step that works with NumPy 2 (:func:`shift_hue`).

    Brightness, contrast and saturation use mmcv as in mmpretrain; the four
    operations are applied in a random order. Arguments as
    ``mmpretrain.ColorJitter`` (``brightness``, ``contrast``,
    ``saturation``, ``hue``, ``backend``).
    """

    def transform(self, results: dict) -> dict:
        """Jitter ``results['img']`` (BGR)."""
        img = results['img']
        order, brightness, contrast, saturation, hue = self._rand_params()
        for index in order:
            if index == 0 and brightness is not None:
                img = mmcv.adjust_brightness(img, brightness,
                                             backend=self.backend)
            elif index == 1 and contrast is not None:
                img = mmcv.adjust_contrast(img, contrast,
                                           backend=self.backend)
            elif index == 2 and saturation is not None:
                img = mmcv.adjust_color(img, alpha=saturation,
                                        backend=self.backend)
            elif index == 3 and hue is not None:
                img = shift_hue(img, hue)
        results['img'] = img
        return results


@TRANSFORMS.register_module()
class RandomRotate90(BaseTransform):
    """Rotate the image by a random multiple of 90 degrees and record it.

    The rotation is counter-clockwise by ``k * 90`` degrees with ``k``
    uniform in ``{0, .., num_rotations - 1}`` (``np.rot90(img, k)``), and
    ``results[label_key] = k`` is the class the rotation head predicts. The
    image must be square: a rotated non-square image could not be batched
    with unrotated ones, and its aspect ratio would give the label away.

    Required keys: ``img``. Modified: ``img``. Added: ``label_key``.

    Args:
        num_rotations (int): 4 (0/90/180/270 degrees) or 2 (0/180).
        label_key (str): Results key of the label.
    """

    def __init__(self, num_rotations: int = 4,
                 label_key: str = 'rotation_label'):
        if num_rotations not in (2, 4):
            raise ValueError(f'num_rotations must be 2 or 4, got '
                             f'{num_rotations}')
        self.num_rotations = num_rotations
        self.label_key = label_key

    @cache_randomness
    def _sample_k(self) -> int:
        return int(np.random.randint(self.num_rotations))

    def transform(self, results: dict) -> dict:
        """Rotate ``results['img']`` and set the label."""
        img = results['img']
        if img.shape[0] != img.shape[1]:
            raise ValueError(
                f'RandomRotate90 needs square images, got {img.shape[:2]}: '
                'put a square crop (e.g. mmpretrain.RandomResizedCrop with '
                'an int scale) before it')
        k = self._sample_k() * (4 // self.num_rotations)
        results['img'] = np.ascontiguousarray(np.rot90(img, k))
        results[self.label_key] = k // (4 // self.num_rotations)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(num_rotations='
                f'{self.num_rotations}, label_key={self.label_key!r})')


@TRANSFORMS.register_module()
class PackSSLViews(BaseTransform):
    """Pack one auxiliary image's views into a (V, 3, h, w) tensor.

    ``results['img']`` is one (h, w, 3) image or a list of them (from
    ``mmpretrain.MultiView``); all views must have the same size. Returns a
    dict with ``ssl_views`` (uint8 tensor when the images are uint8, float32
    otherwise) and, when ``results`` has ``label_key``, ``ssl_labels``
    ((V,) long; one label per view or one for all).

    Args:
        label_key (str, optional): Results key of per-view labels (e.g.
            ``'rotation_label'`` from :class:`RandomRotate90`).
    """

    def __init__(self, label_key: Optional[str] = 'rotation_label'):
        self.label_key = label_key

    def transform(self, results: dict) -> dict:
        """Build ``ssl_views`` (and ``ssl_labels``)."""
        imgs = results['img']
        imgs = list(imgs) if isinstance(imgs, (list, tuple)) else [imgs]
        imgs = [img[..., None] if img.ndim == 2 else img for img in imgs]
        shapes = {img.shape for img in imgs}
        if len(shapes) != 1:
            raise ValueError(f'auxiliary views must share one size, got '
                             f'{sorted(shapes)}')
        array = np.stack([img.transpose(2, 0, 1) for img in imgs])
        if array.dtype != np.uint8:
            array = array.astype(np.float32)
        packed = dict(ssl_views=torch.from_numpy(
            np.ascontiguousarray(array)))
        if self.label_key is not None and self.label_key in results:
            labels = torch.as_tensor(results[self.label_key],
                                     dtype=torch.long).view(-1)
            if labels.numel() == 1:
                labels = labels.expand(len(imgs)).clone()
            if labels.numel() != len(imgs):
                raise ValueError(f'{self.label_key} has {labels.numel()} '
                                 f'labels for {len(imgs)} views')
            packed['ssl_labels'] = labels
        return packed

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(label_key={self.label_key!r})'

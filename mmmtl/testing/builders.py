# Copyright (c) mmmtl contributors. All rights reserved.
"""Tiny model configs and random multi-task batches for tests."""
from typing import Dict, List, Sequence, Tuple

import torch

from mmmtl.structures import MultiTaskDataSample

TINY_TASKS = ('semseg', 'depth', 'normals', 'edge', 'saliency')
TINY_NUM_CLASSES = 4


def tiny_model_cfg(tasks: Sequence[str] = TINY_TASKS, **kwargs) -> dict:
    """A :class:`MultiTaskEncoderDecoder` config with an 8-channel ResNet-18.

    Args:
        tasks (Sequence[str]): Tasks of the HPS head.
        **kwargs: Overrides of top-level keys (e.g. ``decode_head``).

    Returns:
        dict: Model config; the backbone outputs strides 4/8/16/32 with
        8/16/32/64 channels.
    """
    tasks = list(tasks)
    num_classes = {t: TINY_NUM_CLASSES for t in ('semseg', 'human_parts')
                   if t in tasks}
    cfg = dict(
        type='MultiTaskEncoderDecoder',
        data_preprocessor=dict(
            type='MultiTaskDataPreProcessor', mean=[0, 0, 0],
            std=[255, 255, 255], size_divisor=32),
        backbone=dict(
            type='ResNetV1c', depth=18, stem_channels=8, base_channels=8,
            out_indices=(0, 1, 2, 3)),
        decode_head=dict(
            type='HPSHead', tasks=tasks, in_channels=[8, 16, 32, 64],
            in_index=[0, 1, 2, 3], channels=8, dropout_ratio=0.0,
            num_classes=num_classes or None),
        test_cfg=dict(mode='whole'))
    cfg.update(kwargs)
    return cfg


def random_sample(h: int, w: int, seed: int = 0,
                  tasks: Sequence[str] = TINY_TASKS) -> MultiTaskDataSample:
    """A sample with random ground truth for ``tasks`` at (h, w), unpadded
    (``img_shape == pad_shape == ori_shape``)."""
    g = torch.Generator().manual_seed(seed)
    sample = MultiTaskDataSample(metainfo=dict(
        img_shape=(h, w), pad_shape=(h, w), ori_shape=(h, w)))
    makers = {
        'semseg': lambda: torch.randint(0, TINY_NUM_CLASSES, (1, h, w),
                                        generator=g),
        'human_parts': lambda: torch.randint(0, TINY_NUM_CLASSES, (1, h, w),
                                             generator=g),
        'depth': lambda: torch.rand(1, h, w, generator=g) + 0.5,
        'normals': lambda: torch.nn.functional.normalize(
            torch.randn(3, h, w, generator=g), dim=0),
        'edge': lambda: torch.randint(0, 2, (1, h, w), generator=g),
        'saliency': lambda: torch.randint(0, 2, (1, h, w), generator=g),
    }
    for task in tasks:
        sample.set_gt(task, makers[task]())
    return sample


def random_batch(n: int = 2, h: int = 32, w: int = 40,
                 tasks: Sequence[str] = TINY_TASKS) -> Dict[str, List]:
    """A data batch as a dataloader yields it (uint8 images, samples)."""
    return dict(
        inputs=[torch.randint(0, 255, (3, h, w), dtype=torch.uint8)
                for _ in range(n)],
        data_samples=[random_sample(h, w, i, tasks) for i in range(n)])


def fit_steps(model: torch.nn.Module, data: dict, steps: int = 4,
              lr: float = 1e-2) -> Tuple[List[float], Dict[str, torch.Tensor]]:
    """Train ``model`` on one pre-processed batch for a few Adam steps.

    Args:
        model (nn.Module): A segmentor with ``loss`` and ``parse_losses``.
        data (dict): Output of ``model.data_preprocessor(batch, True)``.
        steps (int): Optimiser steps.
        lr (float): Adam learning rate.

    Returns:
        tuple: The total loss of every step and the loss dict of the last.
    """
    optim = torch.optim.Adam(model.parameters(), lr=lr)
    totals, losses = [], {}
    for _ in range(steps):
        losses = model.loss(data['inputs'], data['data_samples'])
        total, _ = model.parse_losses(losses)
        optim.zero_grad()
        total.backward()
        optim.step()
        totals.append(total.item())
    return totals, losses

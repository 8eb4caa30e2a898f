# Copyright (c) mmmtl contributors. All rights reserved.
"""Shared machinery of CompL's self-supervised auxiliary heads.

CompL (Kanakis et al., WACV 2023) trains the dense target task(s) jointly
with a self-supervised task on an independently sampled auxiliary batch. The
auxiliary images travel inside the target batch's data samples (see
:class:`~mmmtl.datasets.composite_dataset.CompositeDataset`):

* ``sample.ssl_views``: (V, 3, h, w) views of one auxiliary image (uint8 from
  the dataset, normalised float after the data pre-processor);
* ``sample.ssl_labels`` (optional): (V,) long labels made by the auxiliary
  pipeline (the rotation class of each view for rotation prediction);
* ``sample.metainfo['ssl_index']``: index of the auxiliary image in the
  auxiliary dataset (the memory-bank slot).

The segmentor hands every head an :class:`SSLEncoder` that runs the *shared*
network (backbone, neck and, when the head reads decoder features, the decode
head) on those views; the head owns only its projection layers (and, for the
contrastive heads, a momentum copy of the whole feature path).
"""
from abc import ABCMeta, abstractmethod
from typing import Dict, List, Mapping, Optional, Sequence

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from torch import Tensor

from mmmtl.structures import MultiTaskDataSample


def stack_ssl_views(data_samples: Sequence[MultiTaskDataSample]) -> Tensor:
    """Stack the auxiliary views of a batch.

    Args:
        data_samples (Sequence[MultiTaskDataSample]): Samples with an
            ``ssl_views`` field of shape (V, 3, h, w).

    Returns:
        Tensor: (B, V, 3, h, w).
    """
    views = [s.get('ssl_views') for s in data_samples]
    missing = [i for i, v in enumerate(views) if v is None]
    if missing:
        raise KeyError(
            f'ssl_tasks need auxiliary views, but data samples {missing} '
            'have no `ssl_views` field: wrap the training dataset in '
            "dict(type='CompositeDataset', dataset=..., aux_pipeline=[...])")
    shapes = {tuple(v.shape) for v in views}
    if len(shapes) != 1:
        raise ValueError(f'auxiliary views of one batch must share one shape '
                         f'(use a fixed-size crop), got {sorted(shapes)}')
    return torch.stack(list(views))


def stack_ssl_labels(data_samples: Sequence[MultiTaskDataSample]) -> Tensor:
    """(B, V) long labels of the auxiliary views (``ssl_labels`` fields)."""
    labels = [s.get('ssl_labels') for s in data_samples]
    if any(lab is None for lab in labels):
        raise KeyError('this ssl task needs per-view labels, but a data '
                       'sample has no `ssl_labels` field: add a labelling '
                       "transform (e.g. dict(type='RandomRotate90')) before "
                       "dict(type='PackSSLViews') in the aux_pipeline")
    return torch.stack([torch.as_tensor(lab).long().view(-1)
                        for lab in labels])


def ssl_indices(data_samples: Sequence[MultiTaskDataSample],
                device: torch.device) -> Tensor:
    """(B,) long indices of the auxiliary images (``ssl_index`` metainfo)."""
    ids = [s.metainfo.get('ssl_index') for s in data_samples]
    if any(i is None for i in ids):
        raise KeyError('the memory bank needs the auxiliary image index, but '
                       'a data sample has no `ssl_index` metainfo (it is set '
                       'by CompositeDataset)')
    return torch.as_tensor(ids, dtype=torch.long, device=device)


def encode_features(modules: Mapping[str, nn.Module], images: Tensor,
                    in_index: int = -1,
                    head_task: Optional[str] = None) -> Tensor:
    """Run the feature path ``backbone -> [neck] -> [decode head]``.

    Args:
        modules (Mapping[str, nn.Module]): ``backbone`` and optional
            ``neck`` / ``decode_head``.
        images (Tensor): (N, 3, h, w) normalised images.
        in_index (int): Which backbone/neck output to return when
            ``head_task`` is None.
        head_task (str, optional): Return the decode head's task features
            ``feats[head_task]`` (the last representation before the task's
            prediction layer, where the paper branches the auxiliary head).

    Returns:
        Tensor: (N, C, h', w') features.
    """
    x = modules['backbone'](images)
    if 'neck' in modules:
        x = modules['neck'](x)
    x = list(x)
    if head_task is None:
        return x[in_index]
    feats = modules['decode_head'].forward(x).feats
    if head_task not in feats:
        raise KeyError(f'head_task={head_task!r}: the decode head returns no '
                       f'features for it (it returns {sorted(feats)})')
    return feats[head_task]


class SSLEncoder:
    """The shared (online) feature path of the segmentor, for SSL heads.

    A plain object, not an ``nn.Module``: it only *references* the
    segmentor's modules, so nothing is registered twice in the state dict.

    Args:
        backbone (nn.Module): The segmentor's backbone.
        neck (nn.Module, optional): Its neck.
        decode_head (nn.Module, optional): Its multi-task decode head.
    """

    def __init__(self, backbone: nn.Module, neck: Optional[nn.Module] = None,
                 decode_head: Optional[nn.Module] = None):
        self.backbone = backbone
        self.neck = neck
        self.decode_head = decode_head

    def modules(self, with_head: bool) -> Dict[str, nn.Module]:
        """The modules of the feature path (``decode_head`` if asked)."""
        modules = {'backbone': self.backbone}
        if self.neck is not None:
            modules['neck'] = self.neck
        if with_head:
            if self.decode_head is None:
                raise ValueError('head_task needs a decode head')
            modules['decode_head'] = self.decode_head
        return modules

    def __call__(self, images: Tensor, in_index: int = -1,
                 head_task: Optional[str] = None) -> Tensor:
        """Features of ``images``, see :func:`encode_features`."""
        return encode_features(self.modules(head_task is not None), images,
                               in_index, head_task)


class BaseSSLHead(BaseModule, metaclass=ABCMeta):
    """Base class of a CompL self-supervised auxiliary task.

    Subclasses implement :meth:`loss`. The segmentor builds the head, calls
    :meth:`setup` once with its :class:`SSLEncoder` (contrastive heads build
    their momentum encoder there), and in training adds
    ``loss_weight * value`` of every returned key containing ``'loss'`` as
    ``ssl.<name>.<key>``; other keys (accuracies) are logged unweighted.
    :meth:`~MultiTaskEncoderDecoder.predict` never calls the head, so it adds
    nothing to inference.

    Args:
        name (str): Key of the task in the loss dict (``ssl.<name>.*``).
        loss_weight (float): The paper's lambda (0.2 for MoCo and DenseCL,
            0.05 for rotation).
        in_channels (int): Channels of the features the head reads.
        in_index (int): Backbone/neck output to read when ``head_task`` is
            None.
        head_task (str, optional): Read the decode head's features of this
            task instead (the paper branches after the decoder, on the last
            representation of the dense network).
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 name: str,
                 loss_weight: float,
                 in_channels: int,
                 in_index: int = -1,
                 head_task: Optional[str] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        if not isinstance(name, str) or not name or '.' in name:
            raise ValueError(f'{self.__class__.__name__}.name must be a '
                             f'non-empty string without dots, got {name!r}')
        if loss_weight < 0:
            raise ValueError(f'{self.__class__.__name__}.loss_weight must be '
                             f'>= 0, got {loss_weight}')
        if not isinstance(in_channels, int) or in_channels <= 0:
            raise ValueError(f'{self.__class__.__name__}.in_channels must be '
                             f'a positive int, got {in_channels!r}')
        self.name = name
        self.loss_weight = float(loss_weight)
        self.in_channels = in_channels
        self.in_index = in_index
        self.head_task = head_task

    def setup(self, encoder: SSLEncoder) -> None:
        """Check the feature source (and build momentum encoders).

        Args:
            encoder (SSLEncoder): The segmentor's shared feature path.
        """
        if self.head_task is not None:
            tasks = list(getattr(encoder.decode_head, 'tasks', []))
            if self.head_task not in tasks:
                raise ValueError(
                    f'{self.__class__.__name__}(name={self.name!r}).'
                    f'head_task={self.head_task!r} is not a task of the '
                    f'decode head ({tasks})')

    def features(self, encoder: SSLEncoder, images: Tensor) -> Tensor:
        """Online features (N, C, h', w') of (N, 3, h, w) ``images``."""
        feats = encoder(images, self.in_index, self.head_task)
        if feats.shape[1] != self.in_channels:
            raise ValueError(
                f'{self.__class__.__name__}(name={self.name!r}) expects '
                f'in_channels={self.in_channels} but its features '
                f'(in_index={self.in_index}, head_task={self.head_task!r}) '
                f'have {feats.shape[1]}')
        return feats

    @abstractmethod
    def loss(self, views: Tensor, data_samples: List[MultiTaskDataSample],
             encoder: SSLEncoder) -> Dict[str, Tensor]:
        """Unweighted losses (and logged metrics) of the auxiliary task.

        Args:
            views (Tensor): (B, V, 3, h, w) normalised auxiliary views.
            data_samples (list[MultiTaskDataSample]): The batch's samples
                (``ssl_labels`` / ``ssl_index`` live there).
            encoder (SSLEncoder): The shared online feature path.

        Returns:
            dict[str, Tensor]: Scalars; keys containing ``'loss'`` are
            optimised after multiplication by ``loss_weight``.
        """

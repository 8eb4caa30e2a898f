# Copyright (c) mmmtl contributors. All rights reserved.
"""MoCo v2 (Chen et al., 2020) as a CompL auxiliary task."""
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn as nn
from mmengine.dist import get_world_size
from mmpretrain.models.heads import ContrastiveHead
from mmpretrain.models.necks import MoCoV2Neck
from mmpretrain.models.utils import batch_shuffle_ddp, batch_unshuffle_ddp
from mmseg.registry import MODELS
from torch import Tensor

from mmmtl.structures import MultiTaskDataSample
from mmmtl.utils.precision import l2_normalize
from .base_ssl_head import (BaseSSLHead, SSLEncoder, encode_features,
                            ssl_indices)
from .contrastive import info_nce_logits
from .momentum import MomentumEncoder
from .negative_bank import PAPER_QUEUE_LEN, build_negative_bank


@MODELS.register_module()
class MoCoSSLHead(BaseSSLHead):
    """Momentum contrast between two views of each auxiliary image.

    The query is view 0 through the shared (online) network and the
    projector (global average pooling + ``in -> hid -> out`` MLP, the
    paper's 2-layer 128-d head; the authors use 256 -> 256 -> 128 on the
    DeepLabv3+ decoder output). The key is view 1 through a momentum copy of
    the whole feature path and the projector
    (:class:`~mmmtl.models.ssl.momentum.MomentumEncoder`, momentum
    0.999). The loss is InfoNCE (paper Eq. 2) against a bank of negatives:

    * ``negative_bank='queue'`` (MoCo): a FIFO queue of ``bank_size`` keys.
      MoCo's size is 65536 (:data:`PAPER_QUEUE_LEN`, the default here);
      for small datasets use a smaller queue (a few times the dataset size
      at most, otherwise most negatives are stale or random);
    * ``negative_bank='memory_bank'`` (the authors' released code): one slot
      per auxiliary image (``bank_size`` = length of the auxiliary dataset),
      written at the image's ``ssl_index``; the query's own slot is masked
      out of its negatives.

    Reused from mmpretrain: ``MoCoV2Neck`` (the projector),
    ``ContrastiveHead`` (temperature + cross-entropy),
    ``batch_shuffle_ddp`` (shuffling BN across GPUs for the keys) and, via
    mmengine, ``ExponentialMovingAverage``. mmpretrain's ``MoCoV2`` model
    itself does not fit: it owns the backbone and data pre-processor of a
    stand-alone self-supervised model, reads mmpretrain ``DataSample`` s,
    requires the queue length to be a multiple of the batch and has no
    memory bank.

    Args:
        in_channels (int): Channels of the features read.
        hid_channels (int, optional): MLP hidden width (``in_channels``).
        out_channels (int): Embedding size (128).
        temperature (float): InfoNCE temperature (0.2 in MoCo v2 and the
            issue; the authors' configs use 0.4).
        momentum (float): Key encoder momentum ``m`` (0.999).
        negative_bank (str): ``'queue'`` or ``'memory_bank'``.
        bank_size (int): Queue length, or number of auxiliary images.
        shuffle_bn (bool): Shuffle the key batch across GPUs under DDP (only
            matters with BatchNorm; a no-op on one process).
        name (str): Loss key prefix (``ssl.<name>.*``).
        loss_weight (float): lambda (0.2 in the paper).
        **kwargs: ``in_index``, ``head_task``, ``init_cfg`` of
            :class:`BaseSSLHead`.
    """

    def __init__(self,
                 in_channels: int,
                 hid_channels: Optional[int] = None,
                 out_channels: int = 128,
                 temperature: float = 0.2,
                 momentum: float = 0.999,
                 negative_bank: str = 'queue',
                 bank_size: int = PAPER_QUEUE_LEN,
                 shuffle_bn: bool = True,
                 name: str = 'moco',
                 loss_weight: float = 0.2,
                 **kwargs):
        super().__init__(name=name, loss_weight=loss_weight,
                         in_channels=in_channels, **kwargs)
        if temperature <= 0:
            raise ValueError(f'temperature must be > 0, got {temperature}')
        self.hid_channels = hid_channels or in_channels
        self.out_channels = out_channels
        self.momentum = momentum
        self.shuffle_bn = shuffle_bn
        self.negative_bank = negative_bank
        self.projector = self.build_projector()
        self.contrastive = ContrastiveHead(
            loss=dict(type='CrossEntropyLoss'), temperature=temperature)
        self.bank = build_negative_bank(negative_bank, out_channels,
                                        bank_size)
        # built by setup(), once the shared network is known
        self.momentum_encoder: Optional[MomentumEncoder] = None

    @property
    def temperature(self) -> float:
        """InfoNCE temperature."""
        return self.contrastive.temperature

    def build_projector(self) -> nn.Module:
        """mmpretrain's ``MoCoV2Neck`` (GAP + fc-relu-fc)."""
        return MoCoV2Neck(self.in_channels, self.hid_channels,
                          self.out_channels, with_avg_pool=True)

    def project(self, feats: Tensor,
                projector: Optional[nn.Module] = None) -> Tuple[Tensor, ...]:
        """Projector outputs of (N, C, h, w) ``feats``."""
        projector = self.projector if projector is None else projector
        return projector((feats, ))

    # ------------------------------------------------------------------ #
    # Momentum encoder
    # ------------------------------------------------------------------ #
    def online_modules(self, encoder: SSLEncoder) -> Dict[str, nn.Module]:
        """The online modules the momentum encoder tracks."""
        modules = encoder.modules(self.head_task is not None)
        modules['projector'] = self.projector
        return modules

    def setup(self, encoder: SSLEncoder) -> None:
        """Check the feature source and build the momentum encoder."""
        super().setup(encoder)
        self.momentum_encoder = MomentumEncoder(self.online_modules(encoder),
                                                self.momentum)

    @torch.no_grad()
    def momentum_outputs(self, images: Tensor
                         ) -> Tuple[Tensor, Tuple[Tensor, ...]]:
        """Key features and projections of (N, 3, h, w) ``images``.

        Under DDP with ``shuffle_bn`` the batch is shuffled across GPUs
        before the key encoder and unshuffled after (MoCo's shuffling BN).

        Returns:
            tuple: (N, C, h', w') features and the projector outputs.
        """
        shuffle = self.shuffle_bn and get_world_size() > 1
        if shuffle:
            images, restore = batch_shuffle_ddp(images)
        module = self.momentum_encoder.module
        feats = encode_features(module, images, self.in_index,
                                self.head_task)
        outs = self.project(feats, module['projector'])
        if shuffle:
            feats = batch_unshuffle_ddp(feats, restore)
            outs = tuple(batch_unshuffle_ddp(o, restore) for o in outs)
        return feats, outs

    def _momentum_step(self, encoder: SSLEncoder) -> None:
        if self.momentum_encoder is None:
            raise RuntimeError(f'{self.__class__.__name__}.setup() was not '
                               'called: build it through the segmentor\'s '
                               '`ssl_tasks`')
        self.momentum_encoder.update(self.online_modules(encoder))

    @staticmethod
    def _two_views(views: Tensor) -> Tuple[Tensor, Tensor]:
        if views.dim() != 5 or views.shape[1] < 2:
            raise ValueError(f'contrastive ssl tasks need two views per '
                             f'auxiliary image, got views of shape '
                             f'{tuple(views.shape)}: use '
                             "dict(type='mmpretrain.MultiView', num_views=2, "
                             '...) in the aux_pipeline')
        return views[:, 0], views[:, 1]

    # ------------------------------------------------------------------ #
    # Loss
    # ------------------------------------------------------------------ #
    def loss(self, views: Tensor, data_samples: List[MultiTaskDataSample],
             encoder: SSLEncoder) -> Dict[str, Tensor]:
        """InfoNCE of view 0 (query) against view 1 (key) and the bank.

        Args:
            views (Tensor): (B, V >= 2, 3, h, w) normalised views.
            data_samples (list[MultiTaskDataSample]): Samples
                (``ssl_index`` is read for the memory bank).
            encoder (SSLEncoder): Shared feature path.

        Returns:
            dict[str, Tensor]: ``loss_contrast`` and ``acc_contrast``
            (percent of queries whose positive has the largest logit).
        """
        im_q, im_k = self._two_views(views)
        query = l2_normalize(self.project(self.features(encoder, im_q))[0],
                             dim=1)
        self._momentum_step(encoder)
        _, (key, ) = self.momentum_outputs(im_k)
        key = l2_normalize(key, dim=1)
        ids = ssl_indices(data_samples, views.device) \
            if self.negative_bank == 'memory_bank' else None
        pos, neg = info_nce_logits(query, key, self.bank.negatives(),
                                   self.bank.own_slot_mask(ids))
        loss = self.contrastive.loss(pos, neg)
        self.bank.update(key, ids)
        return dict(loss_contrast=loss,
                    acc_contrast=contrast_accuracy(pos, neg))


def contrast_accuracy(pos: Tensor, neg: Tensor) -> Tensor:
    """Percent of rows whose (N, 1) positive beats all (N, K) negatives."""
    with torch.no_grad():
        return (pos[:, 0] > neg.max(dim=1).values).float().mean() * 100

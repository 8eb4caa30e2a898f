# Copyright (c) mmmtl contributors. All rights reserved.
"""Cross-task contrastive regularisation (CCR, Yang et al., AAAI 2023).

A training-only auxiliary loss: the projected features of each *target*
task are pulled together / pushed apart according to the ground truth of a
*source* task, with a pixel triplet loss. See
:class:`CrossTaskTripletLoss`.
"""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from mmengine.logging import MessageHub
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor

from mmmtl.structures import (TASKS, HeadOutputs, MultiTaskDataSample,
                              check_tasks, stack_gt, valid_mask)
from mmmtl.utils.precision import float32_region
from .triplet_mining import (NEGATIVE_MINING, POSITIVE_MINING,
                             TRIPLET_DISTANCES, downsample_gt, mine_triplets,
                             pair_masks, promote_half, sample_anchors,
                             triplet_loss_terms)

SHARING_MODES = ('source_shared', 'target_shared', 'both_shared', 'unshared')


class Projector(nn.Sequential):
    """``BN o Conv1x1 o ReLU o Conv1x1`` of the paper's Eq. (2).

    Read as a composition (the rightmost map applies first): conv 1x1 ->
    ReLU -> conv 1x1 -> BN. The output is L2-normalised per pixel by the
    caller. The second conv has no bias (the BN that follows has one).

    Args:
        in_channels (int): Channels of the task features.
        hidden_channels (int): Channels after the first conv.
        out_channels (int): Channels of the projection.
        norm_cfg (dict): Norm layer config (``BN``; ``SyncBN`` under DDP).
    """

    def __init__(self, in_channels: int, hidden_channels: int,
                 out_channels: int, norm_cfg: dict):
        super().__init__(
            nn.Conv2d(in_channels, hidden_channels, 1),
            nn.ReLU(inplace=True),
            nn.Conv2d(hidden_channels, out_channels, 1, bias=False),
            build_norm_layer(norm_cfg, out_channels)[1])


@MODELS.register_module()
class CrossTaskTripletLoss(BaseModule):
    """Cross-task contrastive triplet regularisation (CCR), Eq. (1)-(5).

    Called by :class:`~mmmtl.models.segmentors.MultiTaskEncoderDecoder` as
    ``loss(head_outputs, data_samples)``; it reads the head's training
    outputs ``feats[task]`` (B, C, h, w) and ``feat_strides[task]``, so it
    works with any multi-task head that fills ``feats``. It adds no
    inference cost: ``predict()`` never calls it.

    For one (target ``t``, source ``s``) pair and one image:

    1. ``F' = normalize(Proj(F_t))`` (Eq. 2), (B, C', h, w).
    2. The source ground truth is downsampled to (h, w) (nearest).
    3. ``C_A = max(1, round(gamma * h * w))`` anchors are drawn uniformly
       among the pixels whose source label is valid.
    4. Positives / negatives per anchor: equal / different label for
       discrete and binary tasks; top-``k`` nearest / farthest in the task's
       metric for continuous ones (L1 for depth, angle for normals).
    5. The hardest positive (Eq. 4) and ``C_neg`` semi-hard negatives (with
       the fallback of :func:`~.triplet_mining.mine_triplets`).
    6. ``R_ts = mean_anchors mean_negatives [D(a,p) - D(a,n) + m]_+``
       (Eq. 1) with ``D`` the squared L2 distance of normalised features;
       the mean runs over the anchors of the whole batch that have a
       positive and a negative.

    The total is ``lambda(iter) * sum over selected pairs R_ts`` (Eq. 3/5).
    Pair selection (the paper's contrastive task-pair selection): each
    iteration every target task draws one source task uniformly from the
    other source tasks, with a NumPy generator seeded by ``(seed, iter)``;
    the draw is therefore identical on every DDP rank and reproducible
    after a resume (it depends on no hidden RNG state). A drawn source
    whose ground truth is absent from the batch contributes 0 (the draw is
    not redone, so ranks never disagree). ``all_pairs=True`` uses every
    (t, s != t) pair (Eq. 3 without selection).

    The iteration is read from mmengine's message hub
    (``MessageHub.get_current_instance().get_info('iter')``, set by
    ``RuntimeInfoHook`` before every training iteration, and restored on
    resume). Outside a runner (no ``'iter'`` info) an internal counter
    counts the calls made in training mode instead.

    Anchors and random mining use the global torch RNG (seeded by the
    runner's ``randomness``); they differ per rank, as the data do.

    Choices where the paper is silent:

    * Eq. (2) is read as a composition (conv, ReLU, conv, BN, then L2
      normalisation); the projection width is ``out_channels=128``.
    * Anchors are drawn among pixels with a valid source label (an ignored
      anchor has no positives); the anchor itself is never its positive.
    * Continuous tasks cap ``k`` at half of the other valid pixels so
      positives and negatives never overlap, and drop "negatives" tied
      with the farthest positive.
    * With ``C_neg`` negatives per anchor, an anchor's loss is the mean of
      its ``C_neg`` hinge terms and ``R_ts`` the mean over anchors (Eq. 1
      with one triplet per anchor and negative); pairs are summed (Eq. 3).
    * Mining runs without autograd on ``2 - 2 cos`` distances; the loss is
      recomputed with autograd for the chosen pixels only.
    * ``D`` of Eq. (1): the paper says "L2 distance"; the default is the
      squared L2 distance of the unit features (``distance='squared'``,
      ``2 - 2 cos``), the form of FaceNet's triplet loss whose semi-hard
      mining and margin 0.2 CCR adopts, where the margin is calibrated for
      squared distances; ``distance='l2'`` uses the plain Euclidean
      distance as worded. Mining is the same either way (monotone).

    Args:
        tasks (Sequence[str]): Tasks taking part (source and target by
            default); ``MultiTaskEncoderDecoder`` fills in ``model.tasks``
            when the config gives none.
        in_channels (int | dict[str, int]): Channels of ``feats[t]`` of
            each target task (one int for all).
        source_tasks (Sequence[str], optional): Tasks whose labels define
            pairs; defaults to ``tasks``.
        target_tasks (Sequence[str], optional): Tasks whose features are
            regularised; defaults to ``tasks``.
        sharing (str): Projector sharing: ``'source_shared'`` (default, the
            paper's best: one projector per target task, shared by its
            source tasks), ``'target_shared'`` (one per source task),
            ``'both_shared'`` (one for all) or ``'unshared'`` (one per
            pair).
        use_projector (bool): ``False`` normalises the raw task features
            (the paper's "CCR-Basic").
        hidden_channels (int, optional): Projector hidden width; defaults to
            the target features' channels.
        out_channels (int): Projection channels.
        norm_cfg (dict): Projector norm layer.
        sampling_ratio (float): Anchor ratio ``gamma`` (0.01).
        topk (int): ``k`` of continuous tasks (128).
        num_negatives (int): ``C_neg`` (16).
        margin (float): ``m`` (0.2).
        distance (str): ``D`` of the loss: ``'squared'`` L2 (default) or
            ``'l2'`` (see above).
        positive_mining (str): ``'hardest'`` (paper) or ``'random'``.
        negative_mining (str): ``'semi_hard'`` (paper) or ``'random'``.
        all_pairs (bool): Use every task pair each iteration.
        loss_weight (float): ``lambda^ctr`` (1.0).
        ramp_up_iters (int): Linear ramp-up of the weight over this many
            iterations: ``lambda * min(1, iter / ramp_up_iters)``.
        ramp_up_epochs (float): Ramp-up length in epochs, converted to
            ``ramp_up_epochs * iters_per_epoch`` iterations (give this or
            ``ramp_up_iters``, not both).
        iters_per_epoch (int, optional): Iterations per epoch, used with
            ``ramp_up_epochs``.
        seed (int): Seed of the pair selection.
        images_per_chunk (int, optional): Mine this many images at a time
            to bound memory (each chunk holds ``n x C_A x h*w`` distances
            and masks); all images at once when ``None``.
        loss_name (str): Key of the optimised loss.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 tasks: Sequence[str],
                 in_channels: Union[int, Dict[str, int]],
                 source_tasks: Optional[Sequence[str]] = None,
                 target_tasks: Optional[Sequence[str]] = None,
                 sharing: str = 'source_shared',
                 use_projector: bool = True,
                 hidden_channels: Optional[int] = None,
                 out_channels: int = 128,
                 norm_cfg: dict = dict(type='BN', requires_grad=True),
                 sampling_ratio: float = 0.01,
                 topk: int = 128,
                 num_negatives: int = 16,
                 margin: float = 0.2,
                 distance: str = 'squared',
                 positive_mining: str = 'hardest',
                 negative_mining: str = 'semi_hard',
                 all_pairs: bool = False,
                 loss_weight: float = 1.0,
                 ramp_up_iters: int = 0,
                 ramp_up_epochs: float = 0,
                 iters_per_epoch: Optional[int] = None,
                 seed: int = 0,
                 images_per_chunk: Optional[int] = None,
                 loss_name: str = 'loss_ccr',
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        name = self.__class__.__name__
        self.tasks = check_tasks(tasks, f'{name}.tasks')
        self.source_tasks = self._subset(source_tasks, 'source_tasks')
        self.target_tasks = self._subset(target_tasks, 'target_tasks')
        self.candidates: Dict[str, List[str]] = {
            t: [s for s in self.source_tasks if s != t]
            for t in self.target_tasks
        }
        lonely = [t for t, c in self.candidates.items() if not c]
        if lonely:
            raise ValueError(
                f'{name}: target task(s) {lonely} have no source task other '
                f'than themselves in source_tasks={self.source_tasks}')
        if sharing not in SHARING_MODES:
            raise ValueError(f'{name}.sharing must be one of '
                             f'{SHARING_MODES}, got {sharing!r}')
        if positive_mining not in POSITIVE_MINING:
            raise ValueError(f'{name}.positive_mining must be one of '
                             f'{POSITIVE_MINING}, got {positive_mining!r}')
        if negative_mining not in NEGATIVE_MINING:
            raise ValueError(f'{name}.negative_mining must be one of '
                             f'{NEGATIVE_MINING}, got {negative_mining!r}')
        self._check_positive(sampling_ratio=sampling_ratio, topk=topk,
                             num_negatives=num_negatives,
                             out_channels=out_channels)
        if not sampling_ratio <= 1:
            raise ValueError(f'{name}.sampling_ratio must be in (0, 1], got '
                             f'{sampling_ratio!r}')
        if margin < 0 or loss_weight < 0 or ramp_up_iters < 0 \
                or ramp_up_epochs < 0:
            raise ValueError(
                f'{name}: margin, loss_weight, ramp_up_iters and '
                f'ramp_up_epochs must be >= 0, got margin={margin!r}, '
                f'loss_weight={loss_weight!r}, ramp_up_iters='
                f'{ramp_up_iters!r}, ramp_up_epochs={ramp_up_epochs!r}')
        if ramp_up_epochs and ramp_up_iters:
            raise ValueError(f'{name}: give ramp_up_iters or ramp_up_epochs, '
                             f'not both')
        if ramp_up_epochs and not iters_per_epoch:
            raise ValueError(f'{name}.ramp_up_epochs={ramp_up_epochs!r} needs '
                             f'iters_per_epoch (a positive int)')
        if images_per_chunk is not None and images_per_chunk < 1:
            raise ValueError(f'{name}.images_per_chunk must be None or >= 1, '
                             f'got {images_per_chunk!r}')
        self.sharing = sharing
        self.use_projector = use_projector
        self.sampling_ratio = float(sampling_ratio)
        self.topk = int(topk)
        self.num_negatives = int(num_negatives)
        self.margin = float(margin)
        if distance not in TRIPLET_DISTANCES:
            raise ValueError(f'{name}.distance must be one of '
                             f'{TRIPLET_DISTANCES}, got {distance!r}')
        self.distance = distance
        self.positive_mining = positive_mining
        self.negative_mining = negative_mining
        self.all_pairs = bool(all_pairs)
        self.loss_weight = float(loss_weight)
        self.ramp_up_iters = int(round(
            ramp_up_epochs * iters_per_epoch)) if ramp_up_epochs \
            else int(ramp_up_iters)
        self.seed = int(seed)
        self.images_per_chunk = images_per_chunk
        self._loss_name = loss_name
        self._local_iter = 0
        self.in_channels = self._channels_per_target(in_channels)
        self.projectors = self._build_projectors(
            hidden_channels, out_channels, norm_cfg) if use_projector \
            else nn.ModuleDict()

    # ------------------------------------------------------------------ #
    # Construction helpers
    # ------------------------------------------------------------------ #
    def _subset(self, names: Optional[Sequence[str]],
                key: str) -> List[str]:
        if names is None:
            return list(self.tasks)
        names = check_tasks(names, f'{self.__class__.__name__}.{key}')
        extra = [t for t in names if t not in self.tasks]
        if extra:
            raise ValueError(f'{self.__class__.__name__}.{key} names '
                             f'{extra}, which are not in tasks={self.tasks}')
        return names

    def _check_positive(self, **values) -> None:
        for key, value in values.items():
            if not value > 0:
                raise ValueError(f'{self.__class__.__name__}.{key} must be '
                                 f'> 0, got {value!r}')

    def _channels_per_target(self, in_channels) -> Dict[str, int]:
        if isinstance(in_channels, int):
            return {t: in_channels for t in self.target_tasks}
        if not isinstance(in_channels, dict):
            raise TypeError(f'{self.__class__.__name__}.in_channels must be '
                            f'an int or a dict task -> int, got '
                            f'{in_channels!r}')
        missing = [t for t in self.target_tasks if t not in in_channels]
        if missing:
            raise ValueError(f'{self.__class__.__name__}.in_channels has no '
                             f'entry for target task(s) {missing}')
        return {t: int(in_channels[t]) for t in self.target_tasks}

    def projector_key(self, target: str, source: str) -> str:
        """Name of the projector used by the pair (target, source)."""
        if self.sharing == 'source_shared':
            return target
        if self.sharing == 'target_shared':
            return source
        if self.sharing == 'both_shared':
            return 'shared'
        return f'{target}_by_{source}'

    def _build_projectors(self, hidden_channels: Optional[int],
                          out_channels: int, norm_cfg: dict) -> nn.ModuleDict:
        inputs: Dict[str, int] = {}
        for t, sources in self.candidates.items():
            for s in sources:
                key = self.projector_key(t, s)
                c = self.in_channels[t]
                if inputs.setdefault(key, c) != c:
                    raise ValueError(
                        f"{self.__class__.__name__}: sharing='"
                        f"{self.sharing}' shares projector {key!r} between "
                        f'target tasks with different feature channels '
                        f'{self.in_channels}; use source_shared/unshared or '
                        f'equal channels')
        return nn.ModuleDict({
            key: Projector(c, hidden_channels or c, out_channels, norm_cfg)
            for key, c in inputs.items()
        })

    @property
    def loss_name(self) -> str:
        """Key of the optimised loss, e.g. ``'loss_ccr'``."""
        return self._loss_name

    # ------------------------------------------------------------------ #
    # Schedule: iteration, pairs, weight
    # ------------------------------------------------------------------ #
    def current_iter(self) -> int:
        """The training iteration: message hub ``'iter'``, else the internal
        counter of training-mode calls (outside a runner)."""
        it = MessageHub.get_current_instance().get_info('iter')
        return self._local_iter if it is None else int(it)

    def select_pairs(self, iteration: int) -> List[Tuple[str, str]]:
        """(target, source) pairs used at ``iteration``.

        Depends only on ``(seed, iteration)`` and the task lists.

        Args:
            iteration (int): Training iteration.

        Returns:
            list[tuple[str, str]]: Pairs in target order.
        """
        if self.all_pairs:
            return [(t, s) for t in self.target_tasks
                    for s in self.candidates[t]]
        rng = np.random.default_rng([self.seed, int(iteration)])
        pairs = []
        for t in self.target_tasks:
            cands = self.candidates[t]
            pairs.append((t, cands[int(rng.integers(len(cands)))]))
        return pairs

    def weight_at(self, iteration: int) -> float:
        """``lambda * min(1, iteration / ramp_up_iters)`` (no ramp: lambda)."""
        if self.ramp_up_iters <= 0:
            return self.loss_weight
        return self.loss_weight * min(1.0, iteration / self.ramp_up_iters)

    # ------------------------------------------------------------------ #
    # Forward
    # ------------------------------------------------------------------ #
    def project(self, feats: Tensor, target: str, source: str) -> Tensor:
        """Normalised projection (B, C', h, w) of a target's features."""
        if self.use_projector:
            feats = self.projectors[self.projector_key(target, source)](feats)
        return F.normalize(promote_half(feats), p=2, dim=1)

    def pair_loss(self, proj: Tensor, gt: Tensor,
                  source: str) -> Tuple[Tensor, Tensor]:
        """Sum and count of anchor losses of one pair (``R_ts`` = sum/count).

        Args:
            proj (Tensor): (B, C', h, w) normalised target projection.
            gt (Tensor): (B, C_s, h, w) source ground truth at (h, w).
            source (str): Source task.

        Returns:
            tuple[Tensor, Tensor]: Scalar loss sum and anchor count.
        """
        with float32_region(proj.device):  # distances, mining in float32
            return self._pair_loss(proj, gt, source)

    def _pair_loss(self, proj: Tensor, gt: Tensor,
                   source: str) -> Tuple[Tensor, Tensor]:
        spec = TASKS[source]
        b, c, h, w = proj.shape
        feats = proj.flatten(2).transpose(1, 2)  # (B, L, C')
        labels = gt.flatten(2).transpose(1, 2)  # (B, L, C_s)
        valid = valid_mask(gt, spec)[:, 0].flatten(1)  # (B, L)
        num_anchors = max(1, int(round(self.sampling_ratio * h * w)))
        chunk = self.images_per_chunk or b
        total = proj.new_zeros(())
        count = torch.zeros((), dtype=torch.long, device=proj.device)
        for start in range(0, b, chunk):
            sl = slice(start, start + chunk)
            anchors, anchor_ok = sample_anchors(valid[sl], num_anchors)
            pos, neg = pair_masks(labels[sl], valid[sl], anchors, anchor_ok,
                                  spec, self.topk)
            mined = mine_triplets(feats[sl], anchors, pos, neg,
                                  self.num_negatives, self.positive_mining,
                                  self.negative_mining)
            del pos, neg
            part, n = triplet_loss_terms(feats[sl], anchors, anchor_ok,
                                         *mined, margin=self.margin,
                                         distance=self.distance)
            total = total + part
            count = count + n
        return total, count

    def _source_gt(self, data_samples: Sequence[MultiTaskDataSample],
                   source: str, size: Tuple[int, int], device,
                   cache: dict) -> Tuple[Optional[Tensor], Tuple[int, int]]:
        """Source gt downsampled to ``size`` (None if absent) and its
        original (H, W)."""
        key = (source, tuple(size))
        if key not in cache:
            gt = stack_gt(data_samples, TASKS[source])
            cache[key] = (None, (0, 0)) if gt is None else (downsample_gt(
                gt.to(device), size), tuple(gt.shape[2:]))
        return cache[key]

    def _check_stride(self, target: str, feats: Tensor, strides: dict,
                      gt_size: Tuple[int, int]) -> None:
        stride = strides.get(target)
        if stride is None:
            return
        for f, g in zip(feats.shape[2:], gt_size):
            if abs(f - g / stride) > 1:  # rounding of heads' grids
                raise ValueError(
                    f'{self.__class__.__name__}: feats[{target!r}] has '
                    f'size {tuple(feats.shape[2:])} but feat_strides'
                    f'[{target!r}]={stride} and the ground truth is '
                    f'{tuple(gt_size)}; the head reports a wrong stride')

    def forward(self, head_outputs: HeadOutputs,
                data_samples: Sequence[MultiTaskDataSample]
                ) -> Dict[str, Tensor]:
        """CCR loss of a batch.

        Args:
            head_outputs (HeadOutputs): Training outputs of a multi-task head
                with ``feats`` {task: (B, C, h, w)} and their
                ``feat_strides``.
            data_samples (Sequence[MultiTaskDataSample]): Ground truth
                (padded to the input size).

        Returns:
            dict[str, Tensor]: ``loss_name`` (weighted, optimised);
            ``ccr_<target>`` (unweighted ``R`` summed over the target's
            pairs, detached) and ``ccr_lambda`` (logged only).
        """
        feats = head_outputs.feats
        if not feats:
            raise KeyError(
                f'{self.__class__.__name__} needs HeadOutputs.feats '
                f'(task -> (B, C, h, w) features); the decode head returned '
                f'none (predictions of {sorted(head_outputs.preds)})')
        missing = [t for t in self.target_tasks if t not in feats]
        if missing:
            raise KeyError(f'{self.__class__.__name__}: the decode head '
                           f'gives no feats for target task(s) {missing} '
                           f'(it has {sorted(feats)})')
        strides = head_outputs.feat_strides
        iteration = self.current_iter()
        if self.training:
            self._local_iter += 1
        pairs = self.select_pairs(iteration)
        weight = self.weight_at(iteration)

        any_feat = feats[self.target_tasks[0]]
        total = any_feat.new_zeros((), dtype=torch.float32)
        logs: Dict[str, Tensor] = {}
        cache: dict = {}
        used = set()
        projections: Dict[Tuple[str, str], Tensor] = {}
        for target, source in pairs:
            f_t = feats[target]
            size = tuple(f_t.shape[2:])
            gt, gt_size = self._source_gt(data_samples, source, size,
                                          f_t.device, cache)
            pkey = (self.projector_key(target, source)
                    if self.use_projector else '', target)
            if pkey not in projections:
                projections[pkey] = self.project(f_t, target, source)
            proj = projections[pkey]
            used.add(pkey[0])
            if gt is None:
                r_ts = 0.0 * proj.sum()
            else:
                self._check_stride(target, f_t, strides, gt_size)
                part, n = self.pair_loss(proj, gt, source)
                r_ts = part / n.clamp(min=1).to(part.dtype)
            total = total + r_ts
            key = f'ccr_{target}'
            logs[key] = logs.get(key, 0.0) + r_ts.detach()
        # zero-valued use of idle projectors keeps DDP happy without
        # find_unused_parameters (their gradient is exactly 0)
        for key, proj_module in self.projectors.items():
            if key not in used:
                total = total + 0.0 * sum(
                    p.sum() for p in proj_module.parameters())
        out = {self.loss_name: weight * total}
        out.update(logs)
        out['ccr_lambda'] = total.new_tensor(weight).detach()
        return out

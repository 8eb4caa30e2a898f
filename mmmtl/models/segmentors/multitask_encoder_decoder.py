# Copyright (c) mmmtl contributors. All rights reserved.
"""Encoder-decoder that predicts several dense tasks from one image."""
import copy
import inspect
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.logging import MMLogger
from mmseg.models.segmentors.base import BaseSegmentor
from mmseg.models.utils import resize
from mmseg.registry import MODELS
from torch import Tensor

from mmmtl.models.ssl.base_ssl_head import (BaseSSLHead, SSLEncoder,
                                            stack_ssl_views)
from mmmtl.structures import TASKS, MultiTaskDataSample, TaskSpec

LossDict = Dict[str, Tensor]


def logits_to_prediction(logits: Tensor, spec: TaskSpec) -> Tensor:
    """Turn a head's raw output into the task's prediction.

    Args:
        logits (Tensor): (C, H, W) raw output of one image.
        spec (TaskSpec): The task.

    Returns:
        Tensor: (1, H, W) class ids for discrete tasks, (1, H, W)
        probabilities for binary tasks, (3, H, W) unit vectors for normals,
        (1, H, W) values for other continuous tasks.
    """
    if spec.is_discrete:
        return logits.argmax(dim=0, keepdim=True)
    if spec.is_binary:
        return logits.sigmoid()
    if spec.unit_norm:
        return F.normalize(logits, p=2, dim=0)
    return logits


def flip_prediction(pred: Tensor, spec: TaskSpec, direction: str) -> Tensor:
    """Flip (B, C, H, W) raw outputs back, negating mirrored components."""
    dims = {'horizontal': [3], 'vertical': [2], 'diagonal': [2, 3]}[direction]
    pred = pred.flip(dims=dims)
    negate = spec.flip_negate_channels.get(direction, ())
    if negate:
        sign = torch.ones(pred.shape[1], device=pred.device, dtype=pred.dtype)
        sign[list(negate)] = -1
        pred = pred * sign.view(1, -1, 1, 1)
    return pred


def check_norm_and_pretrained(backbone: dict) -> None:
    """Warn when a GroupNorm backbone loads a (BatchNorm) checkpoint.

    CompL replaces BN by GN (no intra-batch leakage in contrastive
    learning). An ImageNet checkpoint trained with BN cannot initialise GN
    layers: its running statistics have no GN counterpart and its affine
    parameters were learnt for per-batch normalisation, so a GN backbone
    must start from GN-pretrained weights (or from scratch).
    """
    norm = (backbone.get('norm_cfg') or {}).get('type', '')
    init_cfg = backbone.get('init_cfg') or {}
    checkpoint = backbone.get('pretrained') or (
        init_cfg.get('checkpoint') if isinstance(init_cfg, dict)
        and init_cfg.get('type') == 'Pretrained' else None)
    if str(norm).upper() == 'GN' and checkpoint:
        MMLogger.get_current_instance().warning(
            f'backbone uses GroupNorm but loads {checkpoint!r}: weights '
            'pretrained with BatchNorm are not loadable into GN layers '
            '(running_mean/running_var have no GN counterpart and the '
            'affine parameters were learnt for BN statistics). Use a '
            'GN-pretrained checkpoint or train from scratch.')


def head_cfg_with_tasks(cfg: dict, tasks: Optional[Sequence[str]]) -> dict:
    """The decode head config with the model's ``tasks`` filled in.

    Args:
        cfg (dict): ``model.decode_head``.
        tasks (Sequence[str], optional): ``model.tasks``.

    Returns:
        dict: A copy of ``cfg`` whose ``tasks`` are ``tasks`` when it names
        none (a ``SingleTaskHead``'s ``task`` counts as ``[task]``).

    Raises:
        ValueError: The head names no tasks and the model none either, or
            the head names other tasks than the model.
    """
    cfg = copy.copy(cfg)
    given = cfg.get('tasks')
    if given is None and cfg.get('task') is not None:
        given = [cfg['task']]
    if tasks is None:
        if given is None:
            raise ValueError(
                'MultiTaskEncoderDecoder needs its task list: set '
                '`model.tasks` (or `model.decode_head.tasks`)')
        return cfg
    if given is None:
        cfg['tasks'] = list(tasks)
    elif list(given) != list(tasks):
        raise ValueError(
            f'model.decode_head ({cfg.get("type")}) predicts tasks '
            f'{list(given)} but model.tasks is {list(tasks)}: give the list '
            'once, in model.tasks')
    return cfg


def aux_cfg_with_tasks(cfg: dict, tasks: Sequence[str]) -> dict:
    """An auxiliary loss config with ``tasks`` defaulting to the model's.

    Only for losses whose class takes a ``tasks`` argument (e.g.
    ``CrossTaskTripletLoss``); other configs are returned unchanged.
    """
    loss_type = cfg.get('type')
    loss_cls = loss_type if inspect.isclass(loss_type) else MODELS.get(
        loss_type)
    if loss_cls is None or cfg.get('tasks') is not None or \
            'tasks' not in inspect.signature(loss_cls).parameters:
        return cfg
    cfg = copy.copy(cfg)
    cfg['tasks'] = list(tasks)
    return cfg


@MODELS.register_module()
class MultiTaskEncoderDecoder(BaseSegmentor):
    """Backbone + optional neck + one multi-task decode head.

    Training (:meth:`loss`) returns a flat dict keyed by task::

        semseg.loss_ce          weighted final loss (optimised)
        semseg.loss_ce_<ds>     weighted deep-supervision loss (optimised)
        semseg.unweighted       unweighted final loss (logged only)
        weight.semseg           current task weight (logged only)
        aux.loss_<name>         auxiliary losses (optimised)
        ssl.<name>.loss_<x>     CompL self-supervised losses times the
                                task's lambda (optimised)
        ssl.<name>.acc_<x>      their accuracies (logged only)

    MMEngine optimises the sum of the keys that contain ``'loss'``.
    ``task_weights`` is a plain dict that loss-weighting hooks overwrite
    during training; every rank must hold the same values.

    Testing (:meth:`predict`) returns :class:`MultiTaskDataSample` s with
    every task's prediction at the original image size: padding is cropped,
    the resize of the test pipeline is undone and a pipeline flip is
    flipped back. ``test_cfg`` options:

    * ``mode``: ``'whole'`` (default) or ``'slide'`` with ``crop_size``
      (h, w) and ``stride`` (h, w), as MMSegmentation's slide inference;
    * ``flip``: also predict the horizontally flipped image and average
      (flip test-time augmentation).

    Args:
        backbone (dict): Backbone config (mmseg or ``mmpretrain.`` types).
        decode_head (dict): Multi-task head config; its ``tasks`` (``task``
            for a ``SingleTaskHead``) default to ``tasks``.
        tasks (Sequence[str], optional): The model's tasks, written once:
            the decode head and the auxiliary losses that take ``tasks``
            (CCR) get them when their config gives none; a config that gives
            other tasks is refused. ``None``: the decode head's config must
            name them. ``self.tasks`` is the head's list either way.
        neck (dict, optional): Neck config.
        auxiliary_losses (list[dict], optional): Training-only losses called
            as ``loss(head_outputs, data_samples) -> dict`` (e.g. CCR).
        ssl_tasks (list[dict], optional): CompL self-supervised auxiliary
            tasks (:mod:`mmmtl.models.ssl`: ``RotationSSLHead``,
            ``MoCoSSLHead``, ``DenseCLSSLHead``), each with a unique
            ``name`` and its ``loss_weight`` (lambda). They read the
            auxiliary views that
            :class:`~mmmtl.datasets.composite_dataset.CompositeDataset` puts
            into the data samples (``ssl_views``), run them through the
            shared backbone (and neck / decode head) and add
            ``ssl.<name>.*`` losses. They live in ``self.ssl_tasks`` (so
            checkpoints carry their momentum encoders, queues and memory
            banks), are never run by :meth:`predict`, and are removed by
            :meth:`switch_to_deploy` / left out of
            :meth:`deploy_state_dict`.
        task_weights (dict[str, float], optional): Initial weight per task
            (1.0 for tasks not given).
        uncertainty_weighting (bool): The one switch of uncertainty
            weighting (Kendall et al., CVPR 2018): learn a log-variance
            ``s_t`` per task (``self.log_variances``, parameters of the
            model, so the optimizer and checkpoints hold them) optimised
            with the model: each task loss becomes ``exp(-s_t) * L_t`` and
            ``s_t`` is added as the regulariser ``<task>.loss_log_var`` (the
            uniform form used by LibMTL for every task kind; ``s_t`` starts
            at 0). The effective weights are logged as ``weight.<task>``.
            No hook is needed (a hook could not add parameters: the
            optimizer and the DDP wrapper are built before any hook runs).
        weight_deep_supervision (bool): Multiply deep-supervision losses by
            their task's weight too (default). ``False`` weights only the
            final predictions' losses and adds the intermediate ones as
            they are, as MT-CP's Eq. (7) does with the LPS weights.
        train_cfg (dict, optional): Training config.
        test_cfg (dict, optional): Testing config, see above.
        data_preprocessor (dict, optional): Pre-processor config.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 backbone: dict,
                 decode_head: dict,
                 tasks: Optional[Sequence[str]] = None,
                 neck: Optional[dict] = None,
                 auxiliary_losses: Optional[Sequence[dict]] = None,
                 ssl_tasks: Optional[Sequence[dict]] = None,
                 task_weights: Optional[Dict[str, float]] = None,
                 uncertainty_weighting: bool = False,
                 weight_deep_supervision: bool = True,
                 train_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        check_norm_and_pretrained(backbone)
        self.backbone = MODELS.build(backbone)
        if neck is not None:
            self.neck = MODELS.build(neck)
        self.decode_head = MODELS.build(head_cfg_with_tasks(decode_head,
                                                            tasks))
        self.tasks: List[str] = list(self.decode_head.tasks)
        self.auxiliary_losses = nn.ModuleList([
            MODELS.build(aux_cfg_with_tasks(cfg, self.tasks))
            for cfg in auxiliary_losses or []
        ])
        self.task_weights = self._init_task_weights(task_weights or {})
        self.weight_deep_supervision = weight_deep_supervision
        self.ssl_tasks = self._build_ssl_tasks(ssl_tasks or [])
        self.log_variances = nn.ParameterDict({
            t: nn.Parameter(torch.zeros(())) for t in self.tasks
        }) if uncertainty_weighting else None
        self.train_cfg = train_cfg or {}
        self.test_cfg = test_cfg or {}
        self.align_corners = self.decode_head.align_corners

    def _init_task_weights(self, weights: Dict[str, float]
                           ) -> Dict[str, float]:
        unknown = set(weights) - set(self.tasks)
        if unknown:
            raise ValueError(f'task_weights names tasks {sorted(unknown)} '
                             f'that the decode head does not predict '
                             f'({self.tasks})')
        return {t: float(weights.get(t, 1.0)) for t in self.tasks}

    def _build_ssl_tasks(self, cfgs: Sequence[dict]) -> nn.ModuleDict:
        """Build the CompL heads, keyed by their ``name``."""
        heads = nn.ModuleDict()
        for cfg in cfgs:
            head = MODELS.build(cfg)
            if not isinstance(head, BaseSSLHead):
                raise TypeError(f'ssl_tasks entry {cfg.get("type")!r} builds '
                                f'a {type(head).__name__}, not an SSL head '
                                '(a subclass of mmmtl.models.ssl.BaseSSLHead)')
            if head.name in heads:
                raise ValueError(f'ssl_tasks has two tasks named '
                                 f'{head.name!r}; give each a unique `name`')
            head.setup(self.ssl_encoder())
            heads[head.name] = head
        return heads

    def ssl_encoder(self) -> SSLEncoder:
        """The shared feature path, as seen by the SSL heads."""
        return SSLEncoder(self.backbone,
                          self.neck if self.with_neck else None,
                          self.decode_head)

    def ssl_losses(self, data_samples: List[MultiTaskDataSample]
                   ) -> LossDict:
        """CompL auxiliary losses ``ssl.<name>.<key>`` of the batch.

        Keys containing ``'loss'`` are multiplied by the task's
        ``loss_weight``; other keys (accuracies) are logged as they are.
        """
        if not len(self.ssl_tasks):
            return {}
        views = stack_ssl_views(data_samples)
        encoder = self.ssl_encoder()
        losses: LossDict = {}
        for name, head in self.ssl_tasks.items():
            for key, value in head.loss(views, data_samples,
                                        encoder).items():
                if 'loss' in key:
                    value = head.loss_weight * value
                losses[f'ssl.{name}.{key}'] = value
        return losses

    # ------------------------------------------------------------------ #
    # Deployment
    # ------------------------------------------------------------------ #
    def deploy_state_dict(self) -> Dict[str, Tensor]:
        """State dict of the inference network (no ``ssl_tasks.*`` keys)."""
        return {
            k: v for k, v in self.state_dict().items()
            if not k.startswith('ssl_tasks.')
        }

    def switch_to_deploy(self) -> None:
        """Drop the training-only CompL heads (and their momentum encoders,
        queues and memory banks) so the model has exactly the parameters of
        the bare architecture."""
        self.ssl_tasks = nn.ModuleDict()

    # ------------------------------------------------------------------ #
    # Features
    # ------------------------------------------------------------------ #
    def extract_feat(self, inputs: Tensor) -> List[Tensor]:
        """Backbone (+ neck) features of (B, 3, H, W) ``inputs``."""
        x = self.backbone(inputs)
        if self.with_neck:
            x = self.neck(x)
        return list(x)

    def _forward(self, inputs: Tensor,
                 data_samples: Optional[list] = None) -> Dict[str, Tensor]:
        """Raw per-task outputs (B, C_t, h, w) of the head (no resizing)."""
        return self.decode_head.forward(self.extract_feat(inputs)).preds

    def encode_decode(self, inputs: Tensor,
                      batch_img_metas: List[dict]) -> Dict[str, Tensor]:
        """Per-task raw outputs resized to the (padded) input size."""
        return self.decode_head.predict(self.extract_feat(inputs),
                                        batch_img_metas, self.test_cfg)

    # ------------------------------------------------------------------ #
    # Training
    # ------------------------------------------------------------------ #
    def loss(self, inputs: Tensor,
             data_samples: List[MultiTaskDataSample]) -> LossDict:
        """Weighted per-task losses plus auxiliary losses.

        Args:
            inputs (Tensor): (B, 3, H, W) batch.
            data_samples (list[MultiTaskDataSample]): Ground truth.

        Returns:
            dict[str, Tensor]: See the class docstring for the keys.
        """
        feats = self.extract_feat(inputs)
        raw, outputs = self.decode_head.loss(feats, data_samples,
                                             self.train_cfg)
        weights = self.effective_task_weights()
        losses: LossDict = {}
        for (task, name), value in raw.items():
            if task is None:
                losses[f'head.{name}'] = value
                continue
            final = name == self.decode_head.losses[task].loss_name
            weighted = final or self.weight_deep_supervision
            losses[f'{task}.{name}'] = (weights[task] if weighted else
                                        1.0) * value
            if final:
                losses[f'{task}.unweighted'] = value.detach()
        if self.log_variances is not None:
            for task, log_var in self.log_variances.items():
                losses[f'{task}.loss_log_var'] = log_var
        for aux in self.auxiliary_losses:
            for name, value in aux(outputs, data_samples).items():
                losses[f'aux.{name}'] = value
        losses.update(self.ssl_losses(data_samples))
        for task, weight in weights.items():
            losses[f'weight.{task}'] = inputs.new_tensor(
                float(torch.as_tensor(weight).detach()))
        return losses

    def effective_task_weights(self) -> Dict[str, object]:
        """Weight applied to each task's losses: ``task_weights[t]``, times
        ``exp(-s_t)`` (a differentiable tensor) with uncertainty weighting.
        """
        if self.log_variances is None:
            return dict(self.task_weights)
        return {
            t: self.task_weights[t] * torch.exp(-self.log_variances[t])
            for t in self.tasks
        }

    # ------------------------------------------------------------------ #
    # Inference
    # ------------------------------------------------------------------ #
    def predict(self, inputs: Tensor,
                data_samples: Optional[List[MultiTaskDataSample]] = None
                ) -> List[MultiTaskDataSample]:
        """Predict every task at each image's original size.

        Args:
            inputs (Tensor): (B, 3, H, W) batch.
            data_samples (list[MultiTaskDataSample], optional): Samples with
                metainfo (``ori_shape``, ``img_shape``, ``padding_size``,
                ``flip``); ground truth, if any, is kept.

        Returns:
            list[MultiTaskDataSample]: Samples with ``pred_*`` fields.
        """
        if data_samples is None:
            shape = tuple(inputs.shape[2:])
            data_samples = [
                MultiTaskDataSample(metainfo=dict(
                    ori_shape=shape, img_shape=shape, pad_shape=shape,
                    padding_size=[0, 0, 0, 0])) for _ in range(len(inputs))
            ]
        batch_img_metas = [s.metainfo for s in data_samples]
        outputs = self.inference(inputs, batch_img_metas)
        return self.postprocess_result(outputs, data_samples)

    def inference(self, inputs: Tensor,
                  batch_img_metas: List[dict]) -> Dict[str, Tensor]:
        """Raw outputs at the padded input size, with optional flip TTA."""
        outputs = self._infer_once(inputs, batch_img_metas)
        if self.test_cfg.get('flip', False):
            flipped = self._infer_once(inputs.flip(dims=[3]), batch_img_metas)
            outputs = {
                t: 0.5 * (outputs[t] + flip_prediction(
                    flipped[t], TASKS[t], 'horizontal'))
                for t in outputs
            }
        return outputs

    def _infer_once(self, inputs: Tensor,
                    batch_img_metas: List[dict]) -> Dict[str, Tensor]:
        mode = self.test_cfg.get('mode', 'whole')
        if mode == 'whole':
            return self.encode_decode(inputs, batch_img_metas)
        if mode == 'slide':
            return self.slide_inference(inputs, batch_img_metas)
        raise ValueError(f"test_cfg.mode must be 'whole' or 'slide', got "
                         f'{mode!r}')

    def slide_inference(self, inputs: Tensor,
                        batch_img_metas: List[dict]) -> Dict[str, Tensor]:
        """Average overlapping crops' outputs (MMSegmentation's scheme).

        Args:
            inputs (Tensor): (B, 3, H, W) batch.
            batch_img_metas (list[dict]): Metainfo.

        Returns:
            dict[str, Tensor]: task -> (B, C_t, H, W) raw outputs.
        """
        stride_h, stride_w = self.test_cfg['stride']
        crop_h, crop_w = self.test_cfg['crop_size']
        _, _, h_img, w_img = inputs.shape
        h_grids = max(h_img - crop_h + stride_h - 1, 0) // stride_h + 1
        w_grids = max(w_img - crop_w + stride_w - 1, 0) // stride_w + 1
        sums: Dict[str, Tensor] = {}
        count = inputs.new_zeros((1, 1, h_img, w_img))
        for h_idx in range(h_grids):
            for w_idx in range(w_grids):
                y2 = min(h_idx * stride_h + crop_h, h_img)
                x2 = min(w_idx * stride_w + crop_w, w_img)
                y1, x1 = max(y2 - crop_h, 0), max(x2 - crop_w, 0)
                crop = inputs[:, :, y1:y2, x1:x2]
                metas = [dict(m, img_shape=crop.shape[2:],
                              pad_shape=crop.shape[2:])
                         for m in batch_img_metas]
                for task, out in self.encode_decode(crop, metas).items():
                    if task not in sums:
                        sums[task] = inputs.new_zeros(
                            (out.shape[0], out.shape[1], h_img, w_img))
                    sums[task] += F.pad(out, (x1, w_img - x2, y1, h_img - y2))
                count[:, :, y1:y2, x1:x2] += 1
        return {t: s / count for t, s in sums.items()}

    def postprocess_result(self, outputs: Dict[str, Tensor],
                           data_samples: List[MultiTaskDataSample]
                           ) -> List[MultiTaskDataSample]:
        """Crop padding, undo resize and flip, and convert to predictions.

        Args:
            outputs (dict[str, Tensor]): task -> (B, C_t, H_pad, W_pad).
            data_samples (list[MultiTaskDataSample]): Samples to fill.

        Returns:
            list[MultiTaskDataSample]: The same samples with ``pred_*``.
        """
        for i, sample in enumerate(data_samples):
            meta = sample.metainfo
            left, right, top, bottom = meta.get('padding_size', [0, 0, 0, 0])
            for task, batch_out in outputs.items():
                spec = TASKS[task]
                out = batch_out[i:i + 1]
                out = out[:, :, top:out.shape[2] - bottom,
                          left:out.shape[3] - right]
                if meta.get('flip', False):
                    out = flip_prediction(out, spec, meta['flip_direction'])
                out = resize(out, size=meta['ori_shape'][:2],
                             mode='bilinear',
                             align_corners=self.align_corners,
                             warning=False)
                sample.set_pred(task, logits_to_prediction(out[0], spec))
        return data_samples

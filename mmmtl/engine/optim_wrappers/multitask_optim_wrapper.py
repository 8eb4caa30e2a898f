# Copyright (c) mmmtl contributors. All rights reserved.
"""Optimizer wrapper that runs a multi-task optimisation method."""
from contextlib import ExitStack, contextmanager
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.dist import all_reduce, broadcast, get_world_size
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper
from mmseg.registry import OPTIM_WRAPPERS
from torch import Tensor

from mmmtl.engine.mtl_methods import BaseMTLMethod
from mmmtl.registry import MTL_METHODS
from mmmtl.utils.distributed import unwrap_model

MODES = ('representation', 'parameter')
AMP_DTYPES = {'float16': torch.float16, 'bfloat16': torch.bfloat16}
DEFAULT_SHARED = ('backbone', 'neck')


def split_losses(losses: Dict[str, object], tasks: Sequence[str]
                 ) -> Tuple[List[Optional[Tensor]], Optional[Tensor]]:
    """Group a segmentor's loss dict into per-task losses and the rest.

    A task's loss is the sum of the keys ``'<task>.<name>'`` whose name
    contains ``'loss'`` (its final and deep-supervision losses, already
    multiplied by ``model.task_weights``). Every other key containing
    ``'loss'`` (``aux.*`` such as CCR, ``ssl.*`` of CompL, ``head.*``,
    uncertainty log-variances) is "extra": added after the aggregation.

    Args:
        losses (dict): Output of ``model(..., mode='loss')``; values are
            tensors or lists of tensors, as MMEngine's ``parse_losses``
            accepts.
        tasks (Sequence[str]): Task order.

    Returns:
        tuple: ``(task_losses, extra)``: a list of T scalar tensors (None
        for a task without a loss in this batch) and a scalar or None.
    """
    per_task: Dict[str, List[Tensor]] = {t: [] for t in tasks}
    extra: List[Tensor] = []
    for key, value in losses.items():
        if 'loss' not in key:
            continue
        values = value if isinstance(value, (list, tuple)) else [value]
        total = sum(v.mean() for v in values)
        prefix, _, name = key.partition('.')
        if prefix in per_task and 'loss' in name and \
                not name.endswith('loss_log_var'):
            per_task[prefix].append(total)
        else:
            extra.append(total)
    task_losses = [sum(v) if v else None for v in per_task.values()]
    return task_losses, (sum(extra) if extra else None)


def broadcast_buffers(module: nn.Module) -> None:
    """Copy rank 0's buffers (BatchNorm statistics) to every rank.

    DDP does this before every forward pass that synchronises gradients;
    forward passes under ``no_sync`` skip it, so the wrapper does it itself
    (one broadcast per buffer dtype).
    """
    groups: Dict[torch.dtype, List[Tensor]] = {}
    for buf in module.buffers():
        groups.setdefault(buf.dtype, []).append(buf)
    for bufs in groups.values():
        flat = torch.cat([b.detach().reshape(-1) for b in bufs])
        broadcast(flat, src=0)
        offset = 0
        for b in bufs:
            b.data.copy_(flat[offset:offset + b.numel()].view_as(b))
            offset += b.numel()


@OPTIM_WRAPPERS.register_module()
class MultiTaskOptimWrapper(OptimWrapper):
    """An :class:`~mmengine.optim.OptimWrapper` running a multi-task
    optimisation method (``method``), loss- or gradient-based.

    Used through MMEngine's ordinary ``train_step`` (plain or
    ``MMDistributedDataParallel``): :meth:`optim_context` hooks the model for
    the duration of the forward pass to capture the per-task losses (and, in
    representation mode, the shared features), and :meth:`update_params`
    back-propagates them:

    * **loss-based** methods (``EW``, ``RLW``, ``GLS``, ``FAMO``): one
      backward pass of ``sum_t w_t L_t + extra``, ``w`` the derivative of
      the method's objective at the global losses; FAMO's logits are
      updated after the optimizer step from the losses of the same batch
      (one extra forward pass without gradients).
    * **gradient-based** methods (``PCGrad``, ``CAGrad``, ``NashMTL``,
      ``IMTLG``, ``AlignedMTL``, ``MGDA``, ``UPGrad``, ``GradNorm``,
      ``GradVac``; ``DBMTL`` in parameter mode only): one
      gradient per task ``g_t`` of the *shared part* (``torch.autograd.grad``,
      no DDP synchronisation), their Gram matrix ``G G^T`` in float64, the
      method's weights ``w`` and the aggregate ``d = w^T G`` written to the
      shared part's ``.grad``. Task-specific parameters take their ordinary
      gradient of ``sum_t L_t`` (``sum_t w_t L_t`` for GradNorm,
      ``sum_t log L_t`` for DB-MTL). DB-MTL turns the matrix ``G`` itself
      into ``d`` (its moving average of each task's gradient).

      ``mode='representation'``: the shared part is the features the
      decode head receives (the output of ``feature_module``, default the
      neck or else the backbone): ``g_t = dL_t/dz``, and ``d`` is then
      back-propagated once through the encoder. ``T`` backward passes of
      the head plus one of the encoder (MGDA in this mode is MGDA-UB).
      ``mode='parameter'``: the shared part is the parameters of
      ``shared_modules`` (default backbone and neck): ``T`` backward passes
      of the whole network and a ``T x P`` gradient matrix.

    Losses that are not a task's (CCR's ``aux.*``, CompL's ``ssl.*``) are
    not part of the aggregation: their gradient is added to ``d`` (and to
    the task-specific gradients). A task's deep-supervision losses are part
    of its ``L_t``.

    Distributed training (a model wrapped by DDP, more than one rank): every
    rank computes its local per-task gradients;
    in representation mode the ``T x T`` Gram matrix is all-reduced (the
    global one is ``sum_r G_r G_r^T / R^2``), in parameter mode the ``T x P``
    matrix is averaged once; the weights are then computed from identical
    inputs on every rank, and the other gradients are averaged in one
    all-reduce, so every rank applies the same update as one process on the
    whole batch would.

    Mixed precision: ``dtype`` enables ``torch.autocast`` on the model's
    device for the forward pass; ``loss_scale`` (``'dynamic'`` or a
    number) a ``torch.amp.GradScaler``. Per-task gradients are taken of the
    scaled losses and divided by the scale before the Gram matrix; the
    result is written to ``.grad`` in scaled units, so the scaler's
    unscaling, inf/nan check (the step is skipped and the scale lowered) and
    gradient clipping work as for one ordinary backward pass. A non-finite
    per-task gradient makes the method fall back to the plain sum (no
    solver runs on inf/nan), which the scaler then rejects.

    Args:
        optimizer (Optimizer): The optimizer.
        method (dict): Config of a method in ``mmmtl.registry.MTL_METHODS``.
            Default: ``dict(type='EW')``.
        mode (str): ``'representation'`` or ``'parameter'`` (gradient-based
            methods only).
        shared_modules (Sequence[str], optional): Dotted names of the
            model's shared sub-modules (parameter mode). Default: backbone
            and, when present, neck.
        feature_module (str, optional): Sub-module whose output is the
            shared representation (representation mode). Default: ``'neck'``
            when the model has one, else ``'backbone'``.
        dtype (str, optional): ``'float16'`` or ``'bfloat16'`` autocast.
        loss_scale (str | float, optional): ``'dynamic'`` or a static scale
            for a ``GradScaler``; ``None``: no loss scaling.
        log_cosines (bool): Log the pairwise cosines of the task gradients
            (``grad_cos/<a>-<b>``) with the weights (``mtl_weight/<task>``).
        **kwargs: :class:`~mmengine.optim.OptimWrapper` arguments
            (``clip_grad``, ``accumulative_counts``).
    """

    def __init__(self,
                 optimizer: torch.optim.Optimizer,
                 method: Optional[dict] = None,
                 mode: str = 'representation',
                 shared_modules: Optional[Sequence[str]] = None,
                 feature_module: Optional[str] = None,
                 dtype: Optional[str] = None,
                 loss_scale: Union[str, float, None] = None,
                 log_cosines: bool = True,
                 **kwargs) -> None:
        super().__init__(optimizer, **kwargs)
        if mode not in MODES:
            raise ValueError(f'MultiTaskOptimWrapper.mode must be one of '
                             f'{MODES}, got {mode!r}')
        if loss_scale is not None and loss_scale != 'dynamic' and not (
                isinstance(loss_scale, (int, float)) and loss_scale > 0):
            raise ValueError(f"MultiTaskOptimWrapper.loss_scale must be "
                             f"'dynamic', a positive number or None, got "
                             f"{loss_scale!r}")
        if dtype is not None and dtype not in AMP_DTYPES:
            raise ValueError(f'MultiTaskOptimWrapper.dtype must be one of '
                             f'{sorted(AMP_DTYPES)} or None, got {dtype!r}')
        self.method: BaseMTLMethod = MTL_METHODS.build(
            method if method is not None else dict(type='EW'))
        if self.method.needs_gradient_matrix and mode != 'parameter':
            raise ValueError(
                f"MultiTaskOptimWrapper: {type(self.method).__name__} keeps "
                f"a moving average of every task's gradient vector, which "
                f"needs mode='parameter' (the representation's gradients "
                f"belong to one batch's images), got mode={mode!r}")
        self.mode = mode
        self.shared_modules = list(shared_modules) if shared_modules \
            else None
        self.feature_module = feature_module
        self.dtype = AMP_DTYPES.get(dtype)
        self.loss_scale = loss_scale
        self.loss_scaler = None
        self.log_cosines = log_cosines
        self._module: Optional[nn.Module] = None
        self._shared: List[nn.Parameter] = []
        self._captured: Optional[tuple] = None
        self._feats: Optional[List[Tensor]] = None
        self._leaves: Optional[List[Tensor]] = None
        self._tap_armed = False

    # ------------------------------------------------------------------ #
    # Binding to the model
    # ------------------------------------------------------------------ #
    def _bind(self, module: nn.Module) -> None:
        if self._module is module:
            return
        tasks = getattr(module, 'tasks', None)
        if not tasks:
            raise TypeError(f'MultiTaskOptimWrapper needs a multi-task model '
                            f'with a `tasks` list (MultiTaskEncoderDecoder), '
                            f'got {type(module).__name__}')
        self.method.setup(tasks)
        names = self.shared_modules or [
            n for n in DEFAULT_SHARED if hasattr(module, n)]
        self._shared = []
        for name in names:
            try:
                sub = module.get_submodule(name)
            except AttributeError as err:
                raise ValueError(
                    f'MultiTaskOptimWrapper.shared_modules names {name!r}, '
                    f'which {type(module).__name__} does not have') from err
            self._shared += [p for p in sub.parameters() if p.requires_grad]
        if self.method.needs_task_grads and self.mode == 'parameter' and \
                not self._shared:
            raise ValueError('MultiTaskOptimWrapper: the shared modules '
                             f'{names} have no trainable parameters')
        if self.feature_module is None:
            self.feature_module = 'neck' if getattr(
                module, 'with_neck', False) else 'backbone'
        if self.method.needs_task_grads and self.mode == 'representation':
            try:
                module.get_submodule(self.feature_module)
            except AttributeError as err:
                raise ValueError(
                    f'MultiTaskOptimWrapper.feature_module '
                    f'{self.feature_module!r} is not a sub-module of '
                    f'{type(module).__name__}') from err
        device = next(module.parameters()).device
        if self.loss_scale is not None and self.loss_scaler is None:
            if self.loss_scale == 'dynamic':
                self.loss_scaler = torch.amp.GradScaler(device.type)
            else:
                # a static scale: update() resets it after every step,
                # as MMEngine's AmpOptimWrapper does
                self.loss_scaler = torch.amp.GradScaler(
                    device.type, init_scale=float(self.loss_scale))
                self._scale_update_param = float(self.loss_scale)
            if self._pending_scaler_state is not None:
                self.loss_scaler.load_state_dict(self._pending_scaler_state)
        self._device_type = device.type
        self._module = module

    _pending_scaler_state = None
    _scale_update_param: Optional[float] = None
    _distributed = False

    # ------------------------------------------------------------------ #
    # Forward-time hooks
    # ------------------------------------------------------------------ #
    def _capture(self, module, args, kwargs, output):
        mode = kwargs.get('mode', args[2] if len(args) > 2 else 'tensor')
        if mode == 'loss' and isinstance(output, dict):
            self._captured = (output, args, kwargs)

    def _tap(self, module, args, output):
        if not self._tap_armed:
            return None
        self._tap_armed = False
        is_tensor = isinstance(output, Tensor)
        feats = [output] if is_tensor else list(output)
        if not all(isinstance(f, Tensor) for f in feats):
            raise TypeError(f'MultiTaskOptimWrapper: {self.feature_module!r} '
                            'must return a tensor or a sequence of tensors '
                            'for the representation mode')
        self._feats = feats
        self._leaves = [f.detach().requires_grad_(f.requires_grad)
                        for f in feats]
        if is_tensor:
            return self._leaves[0]
        return type(output)(self._leaves) if isinstance(
            output, tuple) else list(self._leaves)

    def _gradient_based(self) -> bool:
        return self.method.needs_task_grads

    @contextmanager
    def optim_context(self, model: nn.Module):
        """Forward-pass context: hooks, DDP ``no_sync`` and autocast.

        Gradient-based methods always run the forward pass under DDP's
        ``no_sync`` (the wrapper synchronises the gradients itself).
        """
        module = unwrap_model(model)
        self._bind(module)
        self._distributed = module is not model and get_world_size() > 1
        with ExitStack() as stack:
            if hasattr(model, 'no_sync') and (self._gradient_based()
                                              or not self.should_sync()):
                if self._distributed and getattr(model, 'broadcast_buffers',
                                                 False):
                    broadcast_buffers(module)
                stack.enter_context(model.no_sync())
            if self.dtype is not None:
                stack.enter_context(torch.autocast(self._device_type,
                                                   dtype=self.dtype))
            handles = [module.register_forward_hook(self._capture,
                                                    with_kwargs=True)]
            if self._gradient_based() and self.mode == 'representation':
                self._tap_armed = True
                handles.append(module.get_submodule(
                    self.feature_module).register_forward_hook(self._tap))
            try:
                yield
            finally:
                self._tap_armed = False
                for handle in handles:
                    handle.remove()

    # ------------------------------------------------------------------ #
    # Update
    # ------------------------------------------------------------------ #
    def _scale(self) -> float:
        """The current loss scale (1 without a scaler); initialises the
        scaler's scale tensor on the model's device, as ``scale()`` would."""
        if self.loss_scaler is None:
            return 1.0
        device = next(self._module.parameters()).device
        return float(self.loss_scaler.scale(torch.ones((), device=device)))

    def update_params(self,
                      loss: Tensor,
                      step_kwargs: Optional[Dict] = None,
                      zero_kwargs: Optional[Dict] = None) -> None:
        """Back-propagate the captured losses with the method, then step.

        Args:
            loss (Tensor): The parsed total loss (used only to derive the
                gradient-accumulation factor; the method works on the
                per-task losses captured during the forward pass).
            step_kwargs (dict, optional): Arguments of :meth:`step`.
            zero_kwargs (dict, optional): Arguments of :meth:`zero_grad`.
        """
        if self._captured is None:
            raise RuntimeError(
                'MultiTaskOptimWrapper.update_params found no loss dict: the '
                "forward pass with mode='loss' must run inside "
                'optim_wrapper.optim_context(model), as train_step does')
        outputs, args, kwargs = self._captured
        tasks = self.method.tasks
        task_losses, extra = split_losses(outputs, tasks)
        factor = float(self.scale_loss(torch.ones(())))
        reference = loss if isinstance(loss, Tensor) else torch.zeros(())
        zeros = reference.new_zeros(())
        stacked = torch.stack([
            (v if v is not None else zeros).float().reshape(())
            for v in task_losses])
        global_losses = self._global_mean(stacked.detach())
        try:
            if self._gradient_based():
                if extra is not None and any(
                        k.endswith('loss_log_var') for k in outputs):
                    raise ValueError(
                        'MultiTaskOptimWrapper: model.uncertainty_weighting='
                        f'True cannot be combined with the gradient-based '
                        f'method {type(self.method).__name__}; use one of '
                        'them')
                self._gradient_backward(task_losses, extra, factor,
                                        global_losses)
                self._inner_count += 1
            else:
                weights = self.method.loss_weights(global_losses.cpu())
                self.method.last_weights = weights
                total = (weights.to(stacked) * stacked).sum()
                if extra is not None:
                    total = total + extra
                total = total * factor
                if self.loss_scaler is not None:
                    total = self.loss_scaler.scale(total)
                self.backward(total)
            self._log_weights()
            if self.should_update():
                self.step(**(step_kwargs or {}))
                self.zero_grad(**(zero_kwargs or {}))
                if self.method.needs_losses_after_step:
                    self.method.after_step(global_losses,
                                           self._losses_after(args, kwargs))
        finally:
            self._captured = None
            self._feats = self._leaves = None

    def _global_mean(self, values: Tensor) -> Tensor:
        values = values.double()
        if self._distributed:
            all_reduce(values, op='mean')
        return values

    @torch.no_grad()
    def _losses_after(self, args, kwargs) -> Tensor:
        """Task losses of the same batch with the updated parameters."""
        with ExitStack() as stack:
            if self.dtype is not None:
                stack.enter_context(torch.autocast(self._device_type,
                                                   dtype=self.dtype))
            outputs = self._module(*args, **kwargs)
        task_losses, _ = split_losses(outputs, self.method.tasks)
        values = torch.tensor([float(v) if v is not None else 0.0
                               for v in task_losses], dtype=torch.float64)
        return self._global_mean(values)

    def _targets(self) -> List[Tensor]:
        if self.mode == 'representation':
            if self._leaves is None:
                raise RuntimeError(
                    f'MultiTaskOptimWrapper: {self.feature_module!r} was not '
                    'called in the forward pass, so there is no shared '
                    'representation; set `feature_module` or '
                    "mode='parameter'")
            return self._leaves
        return self._shared

    @staticmethod
    def _flatten(grads: Sequence[Optional[Tensor]],
                 like: Sequence[Tensor]) -> Tensor:
        """Concatenate gradients (zeros where None) in float32."""
        row = like[0].new_empty(sum(t.numel() for t in like),
                                dtype=torch.float32)
        MultiTaskOptimWrapper._flatten_into(row, grads, like)
        return row

    @staticmethod
    def _flatten_into(row: Tensor, grads: Sequence[Optional[Tensor]],
                      like: Sequence[Tensor]) -> None:
        """Write gradients (zeros where None) into the float32 ``row`` of
        shape (N,), ``N`` the total size of ``like``."""
        offset = 0
        for grad, tensor in zip(grads, like):
            size = tensor.numel()
            if grad is None:
                row[offset:offset + size].zero_()
            else:
                row[offset:offset + size].copy_(grad.reshape(-1))
            offset += size

    @staticmethod
    def _gram(matrix: Tensor, chunk: int = 1 << 18) -> Tensor:
        """``matrix @ matrix.T`` in float64 for a (T, N) float32 matrix,
        summed over column blocks of ``chunk``: the float64 copy held at a
        time is ``T x chunk``, not two of ``T x N`` (which set the peak
        memory of representation mode before the encoder's backward)."""
        gram = matrix.new_zeros((len(matrix), len(matrix)),
                                dtype=torch.float64)
        for start in range(0, matrix.shape[1], chunk):
            block = matrix[:, start:start + chunk].double()
            gram += block @ block.T
        return gram

    def _local_params(self) -> List[Tensor]:
        """Parameters that take the task losses' ordinary gradients: in
        parameter mode every trainable one outside ``shared_modules``; in
        representation mode every trainable one (those before the shared
        features are not reached through the detached features)."""
        shared_ids = {id(p) for p in self._shared} \
            if self.mode == 'parameter' else set()
        return [p for group in self.optimizer.param_groups
                for p in group['params']
                if p.requires_grad and id(p) not in shared_ids]

    def _gradient_backward(self, task_losses: List[Optional[Tensor]],
                           extra: Optional[Tensor], factor: float,
                           global_losses: Tensor) -> None:
        """Per-task gradients, aggregation and the writes to ``.grad``.

        One ``autograd.grad`` call per task returns both its row of the
        gradient matrix (w.r.t. the shared features or parameters) and its
        gradient of the task-specific parameters, so the heads are
        back-propagated once per task and never again.
        """
        scale = self._scale()
        targets = self._targets()
        local = self._local_params()
        num_targets = len(targets)
        task_specific = self.method.weights_task_specific
        numel = sum(t.numel() for t in targets)
        extra_scaled = None if extra is None or not extra.requires_grad \
            else extra * (factor * scale)
        # the graph beyond the shared part is needed after the last task
        # only for an extra loss; otherwise the last call frees it, so the
        # encoder's backward (representation mode) runs without the heads'
        # saved activations, as after an ordinary backward pass
        last = max([i for i, v in enumerate(task_losses)
                    if v is not None and v.requires_grad], default=-1)
        # (T, N) float32, unscaled; rows written in place (no stacked copy)
        matrix = targets[0].new_zeros((len(task_losses), numel),
                                      dtype=torch.float32)
        local_grads: List[Optional[Sequence[Optional[Tensor]]]] = []
        for index, value in enumerate(task_losses):
            if value is None or not value.requires_grad:
                local_grads.append(None)
                continue
            grads = torch.autograd.grad(
                value * (factor * scale), targets + local,
                retain_graph=index != last or extra_scaled is not None,
                allow_unused=True)
            self._flatten_into(matrix[index], grads[:num_targets], targets)
            matrix[index].div_(scale)
            if task_specific:  # weighted once the weights are known
                local_grads.append(grads[num_targets:])
            else:  # ordinary gradient: accumulate now, keep no copy
                self._add_grads(local, grads[num_targets:])
                local_grads.append(None)
            del grads
        extra_row = None
        if extra_scaled is not None:
            extra_row = self._flatten(
                torch.autograd.grad(extra_scaled, targets, retain_graph=True,
                                    allow_unused=True), targets) / scale
        world = get_world_size() if self._distributed else 1
        if self.mode == 'parameter':
            if world > 1:
                stacked = matrix if extra_row is None else torch.cat(
                    [matrix, extra_row[None]])
                all_reduce(stacked, op='mean')
                matrix = stacked[:len(task_losses)]
                extra_row = None if extra_row is None else stacked[-1]
            gram = self._gram(matrix)
        else:
            gram = self._gram(matrix)
            if world > 1:
                all_reduce(gram, op='sum')
                gram = gram / world**2
        finite = bool(torch.isfinite(gram).all()) and (
            extra_row is None or bool(torch.isfinite(extra_row).all()))
        if not finite:
            weights = torch.ones(len(matrix), dtype=torch.float64)
            direction = weights.to(matrix) @ matrix
        elif self.method.needs_gradient_matrix:
            direction, weights = self.method.aggregate(matrix,
                                                       global_losses.cpu())
        else:
            weights = self.method.weights(gram.cpu(), global_losses.cpu())
            direction = weights.to(matrix) @ matrix
        local_coeffs = weights if not finite else \
            self.method.task_specific_weights(weights, global_losses.cpu())
        del matrix  # only the direction is needed from here on
        self.method.last_weights = weights
        self._last_gram = gram.detach().cpu()
        if extra_row is not None:
            direction = direction + extra_row
        for coeff, grads in zip(local_coeffs.tolist(), local_grads):
            if grads is not None:
                self._add_grads(local, [
                    None if g is None else g * coeff for g in grads])
        trainable = [p for group in self.optimizer.param_groups
                     for p in group['params'] if p.requires_grad]
        if self.mode == 'parameter':
            if extra_scaled is not None and local:
                torch.autograd.backward(extra_scaled, inputs=local)
            self._add_grads(self._shared, list(torch.split(
                direction * scale, [p.numel() for p in self._shared])))
            synced = local
        else:
            parts = torch.split(direction * scale,
                                [t.numel() for t in targets])
            outputs, grads = [], []
            for feat, part in zip(self._feats, parts):
                if feat.requires_grad:
                    outputs.append(feat)
                    grads.append(part.view_as(feat).to(feat.dtype))
            if extra_scaled is not None:
                outputs.append(extra_scaled)
                grads.append(torch.ones_like(extra_scaled))
            if outputs:
                torch.autograd.backward(outputs, grads, inputs=trainable)
            synced = trainable
        if world > 1:
            self._average_grads(synced)

    @staticmethod
    def _add_grads(params: List[Tensor],
                   grads: Sequence[Optional[Tensor]]) -> None:
        """Accumulate ``grads`` (None: nothing) into ``params``' ``.grad``.
        """
        for p, g in zip(params, grads):
            if g is None:
                continue
            g = g.detach().view_as(p).to(p.dtype)
            if p.grad is None:
                p.grad = g  # a fresh tensor from autograd: no copy needed
            else:
                p.grad.add_(g)

    @staticmethod
    def _average_grads(params: List[Tensor]) -> None:
        """Average the gradients of ``params`` over ranks in one
        all-reduce (missing gradients count as zeros)."""
        if not params:
            return
        flat = torch.cat([
            (p.grad if p.grad is not None else torch.zeros_like(p)
             ).reshape(-1).float() for p in params])
        all_reduce(flat, op='mean')
        offset = 0
        for p in params:
            value = flat[offset:offset + p.numel()].view_as(p).to(p.dtype)
            offset += p.numel()
            p.grad = value

    def _log_weights(self) -> None:
        weights = self.method.last_weights
        if weights is None:
            return
        hub = MessageHub.get_current_instance()
        tasks = self.method.tasks
        for task, weight in zip(tasks, weights.tolist()):
            hub.update_scalar(f'train/mtl_weight/{task}', float(weight))
        gram = getattr(self, '_last_gram', None)
        if not (self.log_cosines and self._gradient_based()
                and gram is not None):
            return
        norms = gram.diagonal().clamp_min(0).sqrt()
        for i in range(len(tasks)):
            for j in range(i + 1, len(tasks)):
                denom = float(norms[i] * norms[j])
                cos = float(gram[i, j]) / denom if denom > 0 else 0.0
                hub.update_scalar(f'train/grad_cos/{tasks[i]}-{tasks[j]}',
                                  cos)

    # ------------------------------------------------------------------ #
    # Step and state
    # ------------------------------------------------------------------ #
    def step(self, **kwargs) -> None:
        """Optimizer step, through the grad scaler when loss scaling."""
        if self.loss_scaler is None:
            super().step(**kwargs)
            return
        if self.clip_grad_kwargs:
            self.loss_scaler.unscale_(self.optimizer)
            self._clip_grad()
        self.loss_scaler.step(self.optimizer, **kwargs)
        self.loss_scaler.update(self._scale_update_param)

    def state_dict(self) -> dict:
        """Optimizer state plus the method's (and the scaler's) state."""
        state = self.optimizer.state_dict()
        state['mtl_method'] = self.method.state_dict()
        if self.loss_scaler is not None:
            state['loss_scaler'] = self.loss_scaler.state_dict()
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore :meth:`state_dict` (the method's state exactly)."""
        state_dict = dict(state_dict)
        method_state = state_dict.pop('mtl_method', None)
        scaler_state = state_dict.pop('loss_scaler', None)
        if method_state is not None:
            self.method.load_state_dict(method_state)
        if scaler_state is not None:
            if self.loss_scaler is not None:
                self.loss_scaler.load_state_dict(scaler_state)
            else:
                self._pending_scaler_state = scaler_state
        self.optimizer.load_state_dict(state_dict)

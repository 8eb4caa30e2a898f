# Copyright (c) mmmtl contributors. All rights reserved.
"""MT-CP's Loss Prioritization Scheme (LPS) as a training hook."""
import math
from typing import List, Optional, Sequence

from mmseg.registry import HOOKS

from .base_loss_weighting_hook import BaseLossWeightingHook

#: Settings of the named presets. ``paper``: Sec. 3.5 / 4.2 of the paper;
#: ``released``: what the authors' released training script computes.
LPS_PRESETS = {
    'paper': dict(history_len=3, kappa=2.5, scale_projection='log_weight'),
    'released': dict(history_len=1, kappa=7.5, scale_projection='none'),
}
SCALE_PROJECTIONS = ('log_weight', 'log_loss', 'none')


def descent_ratio_weights(history: Sequence[Sequence[float]],
                          history_len: int,
                          eps: float = 1e-12) -> List[float]:
    """Eq. (4): each task's loss descent relative to the total's.

    ``w_i = prod_{k=1..H} (L_i^{n-k+1} / L_i^{n-k})
    / prod_{k=1..H} (L^{n-k+1} / L^{n-k})`` with ``L^m = sum_i L_i^m``, over
    the last ``H + 1`` windows ``n-H .. n``. The printed denominator reads
    ``L_i^{n-k+1} / L^{n-k}``; we read the ``i`` in its numerator as a typo.
    Just before Eq. (4) the paper defines "the ratio to which a task i
    contributes to the overall loss as L_i^n / L^n"; the change of that
    ratio between windows, ``(L_i^{n-k+1} / L^{n-k+1}) / (L_i^{n-k} /
    L^{n-k})``, is exactly one factor of our reading, and the released code
    also divides the task's loss ratio by the total loss's ratio. Both
    products telescope to
    ``(L_i^n / L_i^{n-H}) / (L^n / L^{n-H})``. ``w_i > 1`` marks a task whose
    loss falls slower than the total (harder), ``< 1`` a faster one.

    Args:
        history (Sequence[Sequence[float]]): Per-window per-task mean
            losses, oldest first; needs at least ``history_len + 1`` rows.
        history_len (int): ``H``.
        eps (float): Added to numerator and denominator of every ratio.

    Returns:
        list[float]: One positive weight per task.
    """
    if len(history) < history_len + 1:
        raise ValueError(f'Eq. (4) needs {history_len + 1} windows, got '
                         f'{len(history)}')
    num_tasks = len(history[-1])
    task_prod = [1.0] * num_tasks
    total_prod = 1.0
    for k in range(1, history_len + 1):
        cur, prev = history[-k], history[-k - 1]
        for i in range(num_tasks):
            task_prod[i] *= (cur[i] + eps) / (prev[i] + eps)
        total_prod *= (sum(cur) + eps) / (sum(prev) + eps)
    return [p / total_prod for p in task_prod]


def spread_weights(weights: Sequence[float], kappa: float) -> List[float]:
    """Eqs. (5)-(6): ``w' = mu + kappa * (w - mu)`` with ``mu`` the mean
    over tasks; the mean is unchanged, deviations are scaled by ``kappa``."""
    mu = sum(weights) / len(weights)
    return [mu + kappa * (w - mu) for w in weights]


def clamp_weights(weights: Sequence[float], min_weight: float = 0.0,
                  renormalize: bool = True) -> List[float]:
    """Keep spread weights non-negative.

    A large ``kappa`` can push a fast-descending task's weight below zero,
    which would make ``log(1 + w)`` negative (gradient *ascent* on that
    task). The paper is silent; we clamp to ``min_weight`` (default 0: the
    task is paused for the window) and, with ``renormalize``, rescale all
    weights so their mean is the mean before clamping (clamping alone would
    raise the total loss scale).

    Args:
        weights (Sequence[float]): Spread weights.
        min_weight (float): Floor (>= 0).
        renormalize (bool): Restore the mean after clamping.

    Returns:
        list[float]: Weights, all >= 0.
    """
    mu = sum(weights) / len(weights)
    clamped = [max(w, min_weight) for w in weights]
    if renormalize and clamped != list(weights):
        mean = sum(clamped) / len(clamped)
        if mean > 0 and mu > 0:
            clamped = [w * mu / mean for w in clamped]
    return clamped


@HOOKS.register_module()
class LPSHook(BaseLossWeightingHook):
    """Loss Prioritization Scheme of MT-CP (Fontana et al., Sec. 3.5).

    At the end of every window (epoch by default) the mean *unweighted*
    loss of each task's final prediction is appended to the history and

    1. (prioritisation, Eq. 4) ``w_i`` = task descent / total descent over
       the last ``history_len`` windows (:func:`descent_ratio_weights`); the
       total is the sum of the unweighted task losses (the paper's "L_i
       according to Eq. (3)" would feed the weights back into themselves;
       the issue asks for unweighted final-prediction losses);
    2. (spread, Eqs. 5-6) ``w'_i = mu + kappa * (w_i - mu)``;
    3. (clamp) ``w'_i >= min_weight`` then renormalised to mean ``mu``
       (:func:`clamp_weights`);
    4. (scale projection, Eq. 3) the task weight written to
       ``model.task_weights`` is

       * ``'log_weight'``: ``log(1 + w'_i)`` (Eq. 3 as printed);
       * ``'log_loss'``: ``w'_i / (1 + Lbar_i)``, the gradient factor of
         ``w'_i * log(1 + L_i)`` (the released code's ``log(1 + L)`` loss
         transform) evaluated at the last window's mean ``Lbar_i`` — a hook
         can only set constant weights between updates; before the first
         window ends the factor is 1;
       * ``'none'``: ``w'_i``.

    Until ``history_len + 1`` windows exist (or with ``prioritize=False``)
    ``w'_i = 1`` for every task (equal weights, ``log 2`` each with
    ``'log_weight'``).

    Weights are recomputed identically on every rank (the window sums are
    all-reduced); the segmentor logs them as ``weight.<task>``. Note that
    ``MultiTaskEncoderDecoder`` applies a task's weight to all its losses,
    deep-supervision ones included (Eq. 7 leaves the intermediate losses
    unweighted).

    Presets: ``'paper'`` (default): ``history_len=3``, ``kappa=2.5``,
    ``'log_weight'``. ``'released'`` (the authors' script): ``history_len=1``,
    ``kappa=7.5``, ``'none'``; explicit arguments override a preset. The
    released script's first-epoch inverse-loss weights and its bug (the
    weighted total is overwritten by the unweighted sum, so its LPS never
    changes the optimised loss) are not reproduced.

    Ablations of the paper's Table 4: equal weights — no hook (or
    :class:`EqualWeightingHook`); log smoothing only —
    ``prioritize=False, scale_projection='log_loss'`` (with ``'log_weight'``
    it would be equal weights times ``log 2``); prioritisation only —
    ``scale_projection='none'``.

    Args:
        history_len (int, optional): ``H`` (>= 1).
        kappa (float, optional): Spread factor (>= 0).
        scale_projection (str, optional): One of :data:`SCALE_PROJECTIONS`.
        prioritize (bool): Apply Eqs. (4)-(6); ``False`` keeps ``w' = 1``.
        min_weight (float): Floor of ``w'`` (>= 0).
        renormalize (bool): Restore the mean after clamping.
        preset (str): ``'paper'`` or ``'released'``.
        by_epoch (bool): Epoch windows; ``False`` for ``interval``
            iterations (iteration-based schedules).
        interval (int): Epochs or iterations per window.
        tasks (Sequence[str], optional): Default: the model's tasks.
    """

    def __init__(self,
                 history_len: Optional[int] = None,
                 kappa: Optional[float] = None,
                 scale_projection: Optional[str] = None,
                 prioritize: bool = True,
                 min_weight: float = 0.0,
                 renormalize: bool = True,
                 preset: str = 'paper',
                 by_epoch: bool = True,
                 interval: int = 1,
                 tasks: Optional[Sequence[str]] = None):
        super().__init__(by_epoch=by_epoch, interval=interval, tasks=tasks)
        if preset not in LPS_PRESETS:
            raise ValueError(f'LPSHook.preset must be one of '
                             f'{sorted(LPS_PRESETS)}, got {preset!r}')
        settings = dict(LPS_PRESETS[preset])
        given = dict(history_len=history_len, kappa=kappa,
                     scale_projection=scale_projection)
        settings.update({k: v for k, v in given.items() if v is not None})
        if int(settings['history_len']) != settings['history_len'] or \
                settings['history_len'] < 1:
            raise ValueError('LPSHook.history_len must be an integer >= 1, '
                             f'got {settings["history_len"]!r}')
        if settings['kappa'] < 0:
            raise ValueError(f'LPSHook.kappa must be >= 0, got '
                             f'{settings["kappa"]}')
        if settings['scale_projection'] not in SCALE_PROJECTIONS:
            raise ValueError(f'LPSHook.scale_projection must be one of '
                             f'{SCALE_PROJECTIONS}, got '
                             f'{settings["scale_projection"]!r}')
        if min_weight < 0:
            raise ValueError(f'LPSHook.min_weight must be >= 0, got '
                             f'{min_weight}')
        self.history_len = int(settings['history_len'])
        self.kappa = float(settings['kappa'])
        self.scale_projection = settings['scale_projection']
        self.prioritize = prioritize
        self.min_weight = min_weight
        self.renormalize = renormalize

    def priorities(self, history: List[List[float]]) -> List[float]:
        """``w'`` of steps 1-3 (ones during the warm-up)."""
        num_tasks = len(self.tasks)
        if not self.prioritize or len(history) < self.history_len + 1:
            return [1.0] * num_tasks
        raw = descent_ratio_weights(history, self.history_len)
        return clamp_weights(spread_weights(raw, self.kappa),
                             self.min_weight, self.renormalize)

    def compute_weights(self, history: List[List[float]]) -> List[float]:
        """Task weights after the scale projection (step 4)."""
        w = self.priorities(history)
        if self.scale_projection == 'log_weight':
            return [math.log1p(x) for x in w]
        if self.scale_projection == 'log_loss' and history:
            return [x / (1.0 + loss) for x, loss in zip(w, history[-1])]
        return w

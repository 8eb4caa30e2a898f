"""Loss-weighting hooks (LPS, DWA, EW, UW): hand-computed weights, state
round trips, distributed agreement, effect on gradients, a short run."""
import io
import json
import math
import os
import os.path as osp
import socket
from types import SimpleNamespace

import pytest
import torch
import torch.nn as nn
from mmengine.logging import MMLogger
from mmseg.registry import HOOKS, MODELS

from mmmtl.engine.hooks.dwa_hook import DWAHook, dwa_weights
from mmmtl.engine.hooks.equal_weighting_hook import EqualWeightingHook
from mmmtl.engine.hooks.loss_prioritization_hook import (
    LPSHook, clamp_weights, descent_ratio_weights, spread_weights)
from mmmtl.testing import random_batch, tiny_model_cfg

TASKS = ('semseg', 'depth', 'normals')
#: Scripted epoch-mean losses; totals 7, 5.4, 3.8, 3.0.
EPOCHS = [[2.0, 1.0, 4.0], [1.5, 0.9, 3.0], [1.0, 0.8, 2.0],
          [0.9, 0.6, 1.5]]
LOG2 = math.log(2.0)


class StubVisualizer:

    def __init__(self):
        self.records = []

    def add_scalars(self, scalars, step=0, **kwargs):
        self.records.append((step, dict(scalars)))


class WeightedModel(nn.Module):

    def __init__(self, tasks=TASKS):
        super().__init__()
        self.task_weights = {t: 1.0 for t in tasks}


def fake_runner(model=None):
    return SimpleNamespace(
        model=model if model is not None else WeightedModel(), iter=0,
        epoch=0, logger=MMLogger.get_instance('mmmtl_test_lw_hooks'),
        visualizer=StubVisualizer())


def run_iters(hook, runner, means, n=2, tasks=TASKS):
    """``n`` iterations whose per-task losses average to ``means``."""
    for i in range(n):
        delta = 0.1 if i % 2 == 0 else -0.1
        if n % 2 and i == n - 1:
            delta = 0.0
        outputs = {f'{t}.unweighted': torch.tensor(m + delta)
                   for t, m in zip(tasks, means)}
        outputs['loss'] = torch.tensor(1.0)
        hook.after_train_iter(runner, i, None, outputs)
        runner.iter += 1


def run_epochs(hook, runner, epochs, start=0, tasks=TASKS):
    """Scripted epochs; returns the model weights after each epoch."""
    seen = []
    for e, means in enumerate(epochs, start):
        runner.epoch = e
        run_iters(hook, runner, means, tasks=tasks)
        hook.after_train_epoch(runner)
        seen.append(dict(runner.model.task_weights))
    return seen


def as_list(weights, tasks=TASKS):
    return [weights[t] for t in tasks]


def flat(rows):
    return [x for row in rows for x in row]


# --------------------------------------------------------------------- #
# LPS maths
# --------------------------------------------------------------------- #
def test_descent_ratio_spread_and_clamp_hand_values():
    # H = 2 over windows 0..2: task ratios [1/2, 4/5, 1/2], total 3.8/7
    raw = descent_ratio_weights(EPOCHS[:3], 2)
    assert raw == pytest.approx([35 / 38, 56 / 38, 35 / 38])
    # mean 42/38; deviations scaled by 2.5
    assert spread_weights(raw, 2.5) == pytest.approx(
        [24.5 / 38, 77 / 38, 24.5 / 38])
    assert spread_weights(raw, 1.0) == pytest.approx(raw)
    # kappa 7.5: [-10.5, 147, -10.5] / 38 -> clamp at 0 -> mean back to 42/38
    spread = spread_weights(raw, 7.5)
    assert spread == pytest.approx([-10.5 / 38, 147 / 38, -10.5 / 38])
    assert clamp_weights(spread) == pytest.approx([0, 126 / 38, 0])
    assert clamp_weights(spread, renormalize=False) == pytest.approx(
        [0, 147 / 38, 0])
    assert clamp_weights([0.5, 1.5]) == [0.5, 1.5]
    # H = 1 uses only the last two windows
    assert descent_ratio_weights(EPOCHS[:3], 1) == pytest.approx(
        [36 / 38, 48 / 38, 36 / 38])
    with pytest.raises(ValueError):
        descent_ratio_weights(EPOCHS[:2], 2)


def test_lps_hook_warmup_then_paper_weights():
    hook = HOOKS.build(dict(type='LPSHook', history_len=2, kappa=2.5))
    assert isinstance(hook, LPSHook) and hook.scale_projection == \
        'log_weight'
    runner = fake_runner()
    hook.before_train(runner)
    # equal-weight warm-up: log(1 + 1) for every task
    assert as_list(runner.model.task_weights) == pytest.approx([LOG2] * 3)
    seen = run_epochs(hook, runner, EPOCHS[:3])
    assert as_list(seen[0]) == pytest.approx([LOG2] * 3)
    assert as_list(seen[1]) == pytest.approx([LOG2] * 3)
    expected = [math.log(62.5 / 38), math.log(115 / 38),
                math.log(62.5 / 38)]
    assert as_list(seen[2]) == pytest.approx(expected)
    assert flat(hook.history) == pytest.approx(flat(EPOCHS[:3]))
    # the window means are logged once per update; the weights are not
    # (the segmentor logs the weight it applies as `weight.<task>`)
    steps = [s for s, _ in runner.visualizer.records]
    assert steps == [2, 4, 6]
    last = runner.visualizer.records[-1][1]
    assert set(last) == {f'task_loss/{t}' for t in TASKS}
    assert last['task_loss/normals'] == pytest.approx(2.0)


def test_lps_presets_and_overrides():
    released = LPSHook(preset='released')
    assert (released.history_len, released.kappa,
            released.scale_projection) == (1, 7.5, 'none')
    runner = fake_runner()
    released.before_train(runner)
    assert as_list(runner.model.task_weights) == [1.0, 1.0, 1.0]
    seen = run_epochs(released, runner, EPOCHS[:3])
    # epoch 1: w~ = [35, 42, 35]/36, mean 112/108, kappa 7.5
    mu = 112 / 108
    w1 = [mu + 7.5 * (35 / 36 - mu), mu + 7.5 * (42 / 36 - mu)]
    assert as_list(seen[1]) == pytest.approx([w1[0], w1[1], w1[0]])
    assert as_list(seen[1]) == pytest.approx([0.550926, 2.009259, 0.550926],
                                             abs=1e-6)
    # epoch 2: w~ = [36, 48, 36]/38, mean 40/38 -> [10, 100, 10]/38
    assert as_list(seen[2]) == pytest.approx([10 / 38, 100 / 38, 10 / 38])
    mixed = LPSHook(preset='released', kappa=1.0)
    assert (mixed.history_len, mixed.kappa) == (1, 1.0)
    for bad in (dict(preset='nope'), dict(history_len=0), dict(kappa=-1),
                dict(scale_projection='log'), dict(min_weight=-0.1),
                dict(interval=0)):
        with pytest.raises(ValueError):
            LPSHook(**bad)


def test_lps_clamps_and_ablation_modes():
    hook = LPSHook(history_len=2, kappa=7.5, scale_projection='none')
    runner = fake_runner()
    hook.before_train(runner)
    seen = run_epochs(hook, runner, EPOCHS[:3])
    assert as_list(seen[2]) == pytest.approx([0, 126 / 38, 0])
    assert min(seen[2].values()) >= 0
    # log-only ablation: 1 / (1 + window mean), no prioritisation
    log_only = LPSHook(prioritize=False, scale_projection='log_loss')
    runner = fake_runner()
    log_only.before_train(runner)
    assert as_list(runner.model.task_weights) == [1.0, 1.0, 1.0]
    seen = run_epochs(log_only, runner, EPOCHS[:2])
    assert as_list(seen[0]) == pytest.approx([1 / 3, 1 / 2, 1 / 5])
    assert as_list(seen[1]) == pytest.approx([1 / 2.5, 1 / 1.9, 1 / 4])
    # prioritize=False with the log-weight projection: log 2 throughout
    flat = LPSHook(prioritize=False, history_len=1)
    runner = fake_runner()
    flat.before_train(runner)
    assert as_list(run_epochs(flat, runner, EPOCHS)[-1]) == pytest.approx(
        [LOG2] * 3)


def test_lps_iteration_windows():
    hook = LPSHook(history_len=1, kappa=2.5, by_epoch=False, interval=3,
                   scale_projection='none')
    runner = fake_runner()
    hook.before_train(runner)
    run_iters(hook, runner, EPOCHS[0], n=3)
    assert flat(hook.history) == pytest.approx(EPOCHS[0])
    hook.after_train_epoch(runner)  # epochs do not end windows here
    assert len(hook.history) == 1
    run_iters(hook, runner, EPOCHS[1], n=3)
    raw = [35 / 36, 42 / 36, 35 / 36]
    assert as_list(runner.model.task_weights) == pytest.approx(
        spread_weights(raw, 2.5))
    assert runner.visualizer.records[-1][0] == 6


def test_missing_task_loss_keeps_weights():
    hook = LPSHook(history_len=1, tasks=['semseg', 'depth'])
    runner = fake_runner()
    hook.before_train(runner)
    hook.after_train_iter(runner, 0, None, {'semseg.unweighted': 1.0})
    hook.after_train_epoch(runner)
    assert hook.history == [] and runner.model.task_weights['depth'] == \
        pytest.approx(LOG2)
    assert runner.model.task_weights['normals'] == 1.0  # not weighted
    with pytest.raises(ValueError, match='human_parts'):
        LPSHook(tasks=['human_parts']).before_train(fake_runner())
    with pytest.raises(TypeError, match='task_weights'):
        LPSHook().before_train(fake_runner(nn.Linear(1, 1)))


# --------------------------------------------------------------------- #
# Other schemes
# --------------------------------------------------------------------- #
def test_dwa_hand_values():
    assert dwa_weights(EPOCHS[:1]) == [1.0, 1.0, 1.0]
    e1, e2 = math.exp(0.75 / 2), math.exp(0.9 / 2)
    expected = [3 * e1 / (2 * e1 + e2), 3 * e2 / (2 * e1 + e2),
                3 * e1 / (2 * e1 + e2)]
    assert dwa_weights(EPOCHS[:2], 2.0) == pytest.approx(expected)
    assert expected == pytest.approx([0.974696, 1.050609, 0.974696],
                                     abs=1e-6)
    hook = HOOKS.build(dict(type='DWAHook'))
    assert isinstance(hook, DWAHook) and hook.temperature == 2.0
    runner = fake_runner()
    hook.before_train(runner)
    seen = run_epochs(hook, runner, EPOCHS[:3])
    assert as_list(seen[0]) == [1.0, 1.0, 1.0]
    assert as_list(seen[1]) == pytest.approx(expected)
    r = [1 / 1.5, 0.8 / 0.9, 2 / 3]
    z = sum(math.exp(x / 2) for x in r)
    assert as_list(seen[2]) == pytest.approx(
        [3 * math.exp(x / 2) / z for x in r])
    with pytest.raises(ValueError):
        DWAHook(temperature=0)


def test_equal_weighting_hook():
    model = WeightedModel()
    model.task_weights['depth'] = 5.0
    hook = EqualWeightingHook(weight=1 / 3)
    runner = fake_runner(model)
    hook.before_train(runner)
    seen = run_epochs(hook, runner, EPOCHS[:2])
    assert as_list(seen[-1]) == pytest.approx([1 / 3] * 3)
    assert runner.visualizer.records[-1][1]['task_loss/depth'] == \
        pytest.approx(0.9)
    with pytest.raises(ValueError):
        EqualWeightingHook(weight=0)


# --------------------------------------------------------------------- #
# Effect on the optimised loss
# --------------------------------------------------------------------- #
def test_lps_weights_scale_task_gradients():
    """Unlike the released code, the LPS weights change the gradients: a
    task's own parameters get gradients scaled by its weight."""
    tasks = ('semseg', 'depth')
    torch.manual_seed(0)
    model = MODELS.build(tiny_model_cfg(tasks=tasks))
    model.train()
    data = model.data_preprocessor(random_batch(tasks=tasks), True)

    def predictor_grads():
        model.zero_grad()
        losses = model.loss(data['inputs'], data['data_samples'])
        sum(v for k, v in losses.items() if 'loss' in k).backward()
        return {t: model.decode_head.predictors[t].weight.grad.clone()
                for t in tasks}

    base = predictor_grads()  # weights 1.0
    hook = LPSHook(history_len=1, kappa=2.5, scale_projection='none')
    runner = fake_runner(model)
    hook.before_train(runner)
    run_epochs(hook, runner, [[2.0, 1.0], [1.0, 0.9]], tasks=tasks)
    weights = dict(model.task_weights)
    # w~ = [0.5, 0.9] / (1.9 / 3) -> spread around their mean
    raw = [0.5 * 3 / 1.9, 0.9 * 3 / 1.9]
    assert as_list(weights, tasks) == pytest.approx(spread_weights(raw, 2.5))
    assert weights['depth'] > 1.5 * weights['semseg']
    scaled = predictor_grads()
    for t in tasks:
        torch.testing.assert_close(scaled[t], weights[t] * base[t],
                                   rtol=1e-4, atol=1e-7)


# --------------------------------------------------------------------- #
# Checkpoint round trip
# --------------------------------------------------------------------- #
@pytest.mark.parametrize('cfg', [
    dict(type='LPSHook', history_len=1, kappa=2.5),
    dict(type='DWAHook'),
])
def test_state_round_trip_resumes_exactly(cfg):
    hook_a = HOOKS.build(cfg)
    runner_a = fake_runner()
    hook_a.before_train(runner_a)
    run_epochs(hook_a, runner_a, EPOCHS[:2])
    runner_a.epoch = 2
    run_iters(hook_a, runner_a, EPOCHS[2], n=1)  # half a window
    checkpoint = {'meta': {}, 'state_dict': {}}
    hook_a.before_save_checkpoint(runner_a, checkpoint)
    buffer = io.BytesIO()
    torch.save(checkpoint, buffer)
    buffer.seek(0)
    loaded = torch.load(buffer, weights_only=False)

    hook_b = HOOKS.build(cfg)
    runner_b = fake_runner()
    runner_b.iter, runner_b.epoch = runner_a.iter, runner_a.epoch
    hook_b.after_load_checkpoint(runner_b, loaded)
    assert runner_b.model.task_weights == runner_a.model.task_weights
    hook_b.before_train(runner_b)
    assert runner_b.model.task_weights == runner_a.model.task_weights
    for hook, runner in ((hook_a, runner_a), (hook_b, runner_b)):
        run_iters(hook, runner, EPOCHS[2], n=1)
        hook.after_train_epoch(runner)
        run_epochs(hook, runner, EPOCHS[3:], start=3)
    assert hook_b.history == hook_a.history
    assert runner_b.model.task_weights == runner_a.model.task_weights
    assert hook_b.num_updates == hook_a.num_updates == 4
    # a checkpoint without hook state leaves a fresh hook untouched
    fresh = HOOKS.build(cfg)
    fresh.after_load_checkpoint(fake_runner(), {'meta': {}})
    assert fresh.history == [] and fresh.weights is None


# --------------------------------------------------------------------- #
# Distributed: every rank applies the same weights
# --------------------------------------------------------------------- #
RANK_EPOCHS = [
    [[2.0, 1.0, 4.0], [1.2, 0.9, 3.5]],  # rank 0
    [[1.0, 3.0, 2.0], [0.9, 2.0, 1.5]],  # rank 1
]


def _dist_worker(rank, world_size, port, out_dir):
    import torch.distributed as dist
    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}',
                            rank=rank, world_size=world_size)
    try:
        hook = LPSHook(history_len=1, kappa=2.5)
        runner = fake_runner()
        hook.before_train(runner)
        run_epochs(hook, runner, RANK_EPOCHS[rank])
        torch.save(dict(weights=runner.model.task_weights,
                        history=hook.history),
                   osp.join(out_dir, f'rank{rank}.pth'))
    finally:
        dist.destroy_process_group()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_two_process_gloo_ranks_agree(tmp_path):
    import torch.multiprocessing as mp
    mp.start_processes(_dist_worker, args=(2, _free_port(), str(tmp_path)),
                       nprocs=2, join=True, start_method='fork')
    results = [torch.load(osp.join(tmp_path, f'rank{r}.pth'))
               for r in range(2)]
    assert results[0]['weights'] == results[1]['weights']
    # the history holds the means over both ranks' iterations
    global_means = [[(a + b) / 2 for a, b in zip(ea, eb)]
                    for ea, eb in zip(*RANK_EPOCHS)]
    assert flat(results[0]['history']) == pytest.approx(flat(global_means))
    expected = [math.log1p(w) for w in spread_weights(
        descent_ratio_weights(global_means, 1), 2.5)]
    assert as_list(results[1]['weights']) == pytest.approx(expected)


# --------------------------------------------------------------------- #
# A short training run with LPS on synthetic data
# --------------------------------------------------------------------- #
def test_short_mtcp_lps_run_logs_weights(tiny_synthetic_root, tmp_path):
    from mmengine.config import Config
    from mmengine.runner import Runner

    import mmmtl.models.decode_heads.mtcp_head  # noqa: F401 (registers)
    from mmmtl.utils import setup_runtime
    repo = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    cfg = Config.fromfile(osp.join(
        repo, 'configs/mtcp/mtcp_resnet18_2k_synthetic-128x160.py'))
    cfg.work_dir = str(tmp_path)
    cfg.model.backbone.update(stem_channels=8, base_channels=8)
    cfg.model.decode_head.update(in_channels=[8, 16, 32, 64], channels=16,
                                 window_size=4)
    for split in ('train', 'val', 'test'):
        loader = cfg[f'{split}_dataloader']
        loader.update(batch_size=2, num_workers=0, persistent_workers=False)
        loader.dataset.update(data_root=tiny_synthetic_root,
                              generate_if_missing=False)
    pipeline = cfg.train_dataloader.dataset.pipeline
    pipeline[2].update(scale=(80, 64))
    pipeline[3].update(crop_size=(64, 80))
    cfg.param_scheduler = [dict(type='ConstantLR', factor=1.0)]
    cfg.train_cfg.update(max_iters=6, val_interval=100)
    cfg.custom_hooks = [dict(type='LPSHook', by_epoch=False, interval=2,
                             history_len=1)]
    cfg.default_hooks.logger.interval = 1
    cfg.log_processor = dict(by_epoch=False, window_size=1)
    cfg.default_hooks.checkpoint.interval = 100
    cfg.log_level = 'WARNING'
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    setup_runtime(cfg)
    runner = Runner.from_cfg(cfg)
    runner.train()
    tasks = list(cfg.model.decode_head.tasks)
    files = [osp.join(d, f) for d, _, fs in os.walk(tmp_path) for f in fs
             if f == 'scalars.json']
    assert files
    with open(files[0]) as f:
        records = [json.loads(line) for line in f]
    # one key family for task weights: the segmentor's `weight.<task>`,
    # the weight applied at each iteration (hooks add no other name)
    assert not [k for r in records for k in r if k.startswith('task_w')]
    train = [r for r in records if 'weight.semseg' in r]
    assert [r['step'] for r in train] == [1, 2, 3, 4, 5, 6]
    applied = {t: [r[f'weight.{t}'] for r in train] for t in tasks}
    for t in tasks:
        # equal weights until the first update (after iteration 2), then
        # constant within each 2-iteration window
        assert applied[t][:2] == pytest.approx([LOG2, LOG2])
        assert applied[t][2] == pytest.approx(applied[t][3])
        assert applied[t][4] == pytest.approx(applied[t][5])
    assert any(abs(applied[t][4] - LOG2) > 1e-6 for t in tasks)
    # the hook logs the window means it used at every update
    window = [r for r in records if 'task_loss/semseg' in r]
    assert [r['step'] for r in window] == [2, 4, 6]
    # ... and the log-analysis tool draws the weights, one curve per task
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        'analyze_logs', osp.join(repo, 'tools/analysis_tools/analyze_logs.py'))
    analyze_logs = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(analyze_logs)
    series = analyze_logs.load_json_log(files[0])
    out = str(tmp_path / 'task_weights.png')
    assert analyze_logs.plot_curves([series], ['weight.*'],
                                    out) == len(tasks)
    assert osp.getsize(out) > 0

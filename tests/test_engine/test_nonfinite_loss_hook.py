"""NonFiniteLossHook: a skipped step leaves the run exactly as if the bad
batch had never been drawn, for every method with state; loss spikes stop
the run naming the last normal checkpoint."""
import math
import statistics

import pytest
import torch
import torch.nn as nn
from mmengine.logging import MessageHub, MMLogger
from mmengine.optim import OptimWrapper
from mmengine.runner import Runner
from mmseg.registry import MODELS

from mmmtl.engine.hooks import DWAHook, LPSHook
from mmmtl.engine.hooks.nonfinite_loss_hook import (NORMAL_CKPT_KEY,
                                                    SKIPS_KEY, LossSpikeError,
                                                    NonFiniteLossError,
                                                    NonFiniteLossHook,
                                                    step_was_skipped)
from mmmtl.testing import random_batch, tiny_model_cfg
from mmmtl.utils import setup_runtime
from training_helpers import tiny_train_cfg

TASKS = ['depth', 'semseg']
MOCO = dict(type='MoCoSSLHead', name='moco', in_channels=64, bank_size=8,
            temperature=0.2, momentum=0.9)
DENSECL = dict(type='DenseCLSSLHead', name='densecl', head_task='depth',
               in_channels=8, hid_channels=8, out_channels=8, num_grid=2,
               negative_bank='memory_bank', bank_size=8, temperature=0.4,
               momentum=0.9)
CCR = dict(type='CrossTaskTripletLoss', tasks=TASKS, in_channels=8,
           out_channels=8, sampling_ratio=0.05)


class _Runner:
    """What the hooks use of a Runner."""

    def __init__(self, model, optim_wrapper, name):
        self.model = model
        self.optim_wrapper = optim_wrapper
        self.message_hub = MessageHub.get_instance(name)
        self.logger = MMLogger.get_current_instance()
        self.visualizer = None
        self.iter = 0


def _batch(seed, bad=False):
    torch.manual_seed(seed)
    batch = random_batch(n=2, tasks=TASKS)
    for i, sample in enumerate(batch['data_samples']):
        view = torch.randint(0, 255, (3, 32, 32), dtype=torch.uint8)
        sample.ssl_views = torch.stack([view, view.flip(2)])
        sample.set_metainfo(dict(ssl_index=(seed + i) % 8))
    if bad:  # one NaN pixel: NaN BatchNorm statistics and a NaN loss
        batch['inputs'] = [x.float() for x in batch['inputs']]
        batch['inputs'][0][0, 0, 0] = math.nan
    return batch


def _model_cfg(method):
    if method == 'moco':
        return tiny_model_cfg(tasks=TASKS, ssl_tasks=[MOCO])
    if method == 'densecl':
        return tiny_model_cfg(tasks=TASKS, ssl_tasks=[DENSECL])
    if method == 'ccr':
        return tiny_model_cfg(tasks=TASKS, auxiliary_losses=[CCR])
    return tiny_model_cfg(tasks=TASKS)


def _hooks(method):
    if method == 'lps':
        return [LPSHook(by_epoch=False, interval=1)]
    if method == 'dwa':
        return [DWAHook(by_epoch=False, interval=1)]
    return []


def _train(method, batches, name, restore=True):
    """Train on ``batches`` with the guard in skip mode; the final state."""
    torch.manual_seed(0)
    model = MODELS.build(_model_cfg(method))
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01,
                                           momentum=0.9))
    runner = _Runner(model, wrapper, name)
    runner.message_hub.update_info('iter', 0)  # CCR's source-task seed
    guard = NonFiniteLossHook(action='skip', restore_buffers=restore)
    hooks = _hooks(method)
    for hook in [guard] + hooks:
        hook.before_train(runner)
    torch.manual_seed(1)
    skipped = []
    for batch in batches:
        guard.before_train_iter(runner, runner.iter)
        log_vars = model.train_step(batch, wrapper)
        guard.after_train_iter(runner, runner.iter, outputs=log_vars)
        skipped.append(step_was_skipped(runner))
        for hook in hooks:
            hook.after_train_iter(runner, runner.iter, outputs=log_vars)
        runner.iter += 1
    return dict(
        model={k: v.clone() for k, v in model.state_dict().items()},
        optim=wrapper.optimizer.state_dict()['state'],
        hooks=[h.state_dict() for h in hooks],
        weights=dict(model.task_weights),
        rng=torch.get_rng_state(), skipped=skipped)


def _differences(a, b):
    diff = [k for k in a['model'] if not torch.equal(a['model'][k],
                                                     b['model'][k])]
    for i in a['optim']:
        if not torch.equal(a['optim'][i]['momentum_buffer'],
                           b['optim'][i]['momentum_buffer']):
            diff.append(f'optimizer state {i}')
    if a['hooks'] != b['hooks']:
        diff.append('hook state')
    if a['weights'] != b['weights']:
        diff.append('task weights')
    if not torch.equal(a['rng'], b['rng']):
        diff.append('torch random state')
    return diff


@pytest.mark.parametrize('method', ['moco', 'densecl', 'lps', 'dwa', 'ccr'])
def test_skipped_step_equals_never_seeing_the_batch(method):
    good = [_batch(s) for s in (10, 11)]
    bad = _batch(20, bad=True)
    clean = _train(method, good, f'clean-{method}')
    with_bad = _train(method, good[:1] + [bad] + good[1:], f'bad-{method}')
    assert with_bad['skipped'] == [False, True, False]
    assert _differences(clean, with_bad) == []
    if method in ('moco', 'densecl'):
        # the forward of the bad batch did change state (EMA parameters,
        # queue or bank, BN statistics): without restoring, runs differ
        unrestored = _train(method, good[:1] + [bad] + good[1:],
                            f'unrestored-{method}', restore=False)
        diff = _differences(clean, unrestored)
        assert any('momentum_encoder' in k for k in diff), diff
        assert any('bank' in k or 'queue' in k or 'keys' in k
                   for k in diff), diff


def test_hook_statistics_skip_the_bad_step():
    good = [_batch(s) for s in (10, 11)]
    bad = _batch(20, bad=True)
    run = _train('lps', good[:1] + [bad] + good[1:], 'lps-history')
    assert len(run['hooks'][0]['history']) == 2  # the bad window is empty


class _Guarded:
    """A runner around a 1-parameter model whose loss we choose."""

    def __init__(self, name, **kwargs):
        self.param = torch.nn.Parameter(torch.ones(1))
        self.model = torch.nn.Module()
        self.model.p = self.param
        self.wrapper = OptimWrapper(torch.optim.SGD([self.param], lr=0.1))
        self.runner = _Runner(self.model, self.wrapper, name)
        self.hook = NonFiniteLossHook(**kwargs)
        self.hook.before_train(self.runner)

    def step(self, value, save_as=None):
        runner = self.runner
        self.hook.before_train_iter(runner, runner.iter)
        self.wrapper.update_params(self.param.sum() * 0 + value)
        self.hook.after_train_iter(runner, runner.iter,
                                   outputs=dict(loss=torch.tensor(value)))
        if save_as is not None:
            runner.message_hub.update_info('last_ckpt', save_as)
            self.hook.before_save_checkpoint(runner, {})
        runner.iter += 1


def test_loss_spike_stops_naming_the_last_normal_checkpoint(tmp_path):
    guard = _Guarded('spike', spike_ratio=10, spike_window=4)
    for i, value in enumerate([1.0, 1.2, 0.9, 1.1]):  # warm-up
        guard.step(value)
    guard.step(9.0)  # 8.6x the median 1.05: still normal
    guard.step(9.5, save_as=str(tmp_path / 'iter_6.pth'))
    normal = str(tmp_path / 'iter_7.pth')
    open(normal, 'w').close()
    guard.step(30.0, save_as=normal)  # 5.9x the median 5.05: normal
    median = statistics.median([1.1, 9.0, 9.5, 30.0])
    assert guard.hook.running_median() == pytest.approx(median)
    before = guard.param.detach().clone()
    with pytest.raises(LossSpikeError) as info:
        guard.step(1e6)  # the weights start to blow up
    message = str(info.value)
    assert 'loss spike at iteration 8' in message
    assert (f'is {1e6 / median:.1f} times the median {median:.4g} of the '
            'last 4 steps') in message
    assert f'{normal} (iteration 7, loss 30)' in message
    assert f'--resume {normal}' in message
    assert 'deleted' not in message
    assert torch.equal(guard.param.detach(), before)  # step not applied
    assert guard.runner.message_hub.get_info(NORMAL_CKPT_KEY)[0] == normal


def test_spike_names_a_deleted_checkpoint_as_such(tmp_path):
    guard = _Guarded('spike-deleted', spike_ratio=3, spike_window=2)
    guard.step(1.0)
    guard.step(1.0, save_as=str(tmp_path / 'iter_2.pth'))  # not on disk
    with pytest.raises(LossSpikeError,
                       match=r'iter_2.pth \(iteration 2, loss 1\) \(since '
                       'deleted by max_keep_ckpts'):
        guard.step(5.0)


def test_abnormal_checkpoint_is_not_recommended(tmp_path):
    guard = _Guarded('spike-abnormal', spike_ratio=3, spike_window=4,
                     spike_warmup=2)
    guard.step(1.0)
    guard.step(1.0, save_as=str(tmp_path / 'iter_2.pth'))
    guard.hook.losses += [1.0, 100.0]  # a loss the check let through
    guard.runner.message_hub.update_info('last_ckpt',
                                         str(tmp_path / 'iter_9.pth'))
    guard.hook.before_save_checkpoint(guard.runner, {})
    record = guard.runner.message_hub.get_info(NORMAL_CKPT_KEY)
    assert record[0].endswith('iter_2.pth')  # 100 > 3 x median 1


def test_spike_arguments_are_checked():
    with pytest.raises(ValueError, match='spike_ratio must be > 1'):
        NonFiniteLossHook(spike_ratio=0.5)
    with pytest.raises(ValueError, match='spike_window must be >= 1'):
        NonFiniteLossHook(spike_window=0)


class _Net(nn.Module):

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 3, 1)
        self.bn = nn.BatchNorm2d(3)

    def forward(self, x):
        return self.bn(self.conv(x))


def _setup(action, max_skips=None, name='guard'):
    torch.manual_seed(0)
    model = _Net()
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1,
                                           momentum=0.9))
    runner = _Runner(model, wrapper, name)
    runner.message_hub.update_info('last_ckpt', 'work_dirs/x/iter_4.pth')
    hook = NonFiniteLossHook(action=action, max_skips=max_skips)
    hook.before_train(runner)
    return model, wrapper, runner, hook


def _step(model, wrapper, runner, hook, scale=1.0):
    """One training iteration whose loss is multiplied by ``scale``."""
    hook.before_train_iter(runner, 0)
    out = model(torch.randn(4, 2, 3, 3))  # updates BN running stats
    loss_main = out.square().mean() * scale
    outputs = {'loss': loss_main.detach(), 'depth.loss_l1': loss_main.detach(),
               'semseg.loss_ce': torch.tensor(0.5), 'weight.depth': 1.0}
    wrapper.update_params(loss_main)
    hook.after_train_iter(runner, 0, outputs=outputs)
    runner.iter += 1


def _snapshot(model, wrapper):
    state = {k: v.clone() for k, v in model.state_dict().items()}
    momentum = [s['momentum_buffer'].clone()
                for s in wrapper.optimizer.state.values()]
    return state, momentum


def _assert_same(before, after):
    for key in before[0]:
        assert torch.equal(before[0][key], after[0][key]), key
    assert len(before[1]) == len(after[1])
    for a, b in zip(before[1], after[1]):
        assert torch.equal(a, b)


def test_stop_names_iteration_keys_and_checkpoint():
    model, wrapper, runner, hook = _setup('stop', name='guard-stop')
    _step(model, wrapper, runner, hook)
    _step(model, wrapper, runner, hook)
    before = _snapshot(model, wrapper)
    with pytest.raises(NonFiniteLossError) as info:
        _step(model, wrapper, runner, hook, scale=math.nan)
    message = str(info.value)
    assert 'iteration 3' in message
    assert 'depth.loss_l1=nan' in message and 'loss=nan' in message
    assert 'semseg.loss_ce' not in message  # finite keys are not blamed
    assert 'work_dirs/x/iter_4.pth' in message
    # parameters, optimizer state and BN statistics are untouched
    _assert_same(before, _snapshot(model, wrapper))


def test_skip_counts_and_keeps_training():
    model, wrapper, runner, hook = _setup('skip', max_skips=1,
                                          name='guard-skip')
    _step(model, wrapper, runner, hook)
    before = _snapshot(model, wrapper)
    _step(model, wrapper, runner, hook, scale=math.inf)
    _assert_same(before, _snapshot(model, wrapper))
    assert hook.num_skipped == 1
    assert runner.message_hub.get_info(SKIPS_KEY) == 1
    _step(model, wrapper, runner, hook)  # a good step updates the weights
    after = _snapshot(model, wrapper)
    assert not torch.equal(before[0]['conv.weight'], after[0]['conv.weight'])
    with pytest.raises(NonFiniteLossError, match='more than max_skips=1'):
        _step(model, wrapper, runner, hook, scale=math.nan)
    hook.after_train(runner)
    assert 'update_params' not in vars(wrapper)  # unwrapped


def test_bad_action_is_named():
    with pytest.raises(ValueError, match="'stop' or 'skip', got 'ignore'"):
        NonFiniteLossHook(action='ignore')


def test_end_to_end_nan_loss_stops_training(tiny_synthetic_root, tmp_path):
    cfg = tiny_train_cfg(tiny_synthetic_root, iters=4, ckpt_interval=2,
                         with_val=False)
    cfg.work_dir = str(tmp_path)
    cfg.custom_hooks = [dict(type='FaultInjectionHook',
                             nonfinite_at_iters=[3],
                             nonfinite_key='depth.loss_l1')]
    setup_runtime(cfg)  # adds NonFiniteLossHook(action='stop')
    runner = Runner.from_cfg(cfg)
    with pytest.raises(NonFiniteLossError) as info:
        runner.train()
    message = str(info.value)
    assert 'iteration 3' in message and 'depth.loss_l1=nan' in message
    assert 'iter_2.pth' in message


def test_end_to_end_skip_mode(tiny_synthetic_root, tmp_path):
    cfg = tiny_train_cfg(tiny_synthetic_root, iters=4, ckpt_interval=4,
                         with_val=False)
    cfg.work_dir = str(tmp_path)
    cfg.nonfinite_loss = 'skip'
    cfg.custom_hooks = [dict(type='FaultInjectionHook',
                             nonfinite_at_iters=[2])]
    setup_runtime(cfg)
    runner = Runner.from_cfg(cfg)
    model = runner.train()
    assert runner.message_hub.get_info(SKIPS_KEY) == 1
    assert runner.iter == 4
    for name, param in model.named_parameters():
        assert torch.isfinite(param).all(), name
    for name, buf in model.named_buffers():
        assert torch.isfinite(buf.float()).all(), name

"""Non-finite loss guard, gradient clipping, rank-consistency checks."""
import math

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper, build_optim_wrapper
from mmengine.runner import Runner

from mmmtl.engine.hooks.nonfinite_loss_hook import (SKIPS_KEY,
                                                    NonFiniteLossError,
                                                    NonFiniteLossHook)
from mmmtl.engine.hooks.rank_consistency_hook import (compare_digests,
                                                      state_digests)
from mmmtl.testing import FaultInjectionHook
from mmmtl.utils import setup_runtime
from reliability_utils import DEMO, tiny_train_cfg


class _Net(nn.Module):

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 3, 1)
        self.bn = nn.BatchNorm2d(3)

    def forward(self, x):
        return self.bn(self.conv(x))


class _Runner:
    """The parts of a Runner the hook uses."""

    def __init__(self, model, optim_wrapper, name):
        self.model = model
        self.optim_wrapper = optim_wrapper
        self.message_hub = MessageHub.get_instance(name)
        self.iter = 0


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


def test_setup_runtime_adds_the_safeguards():
    cfg = Config.fromfile(DEMO)
    setup_runtime(cfg)
    assert cfg.default_hooks.checkpoint.type == 'SafeCheckpointHook'
    assert cfg.default_hooks.checkpoint.interval == 1000  # arguments kept
    assert [h['type'] for h in cfg.custom_hooks] == [
        'NonFiniteLossHook', 'BroadcastBuffersHook']
    assert cfg.custom_hooks[0]['action'] == 'stop'
    assert 'spike_ratio' not in cfg.custom_hooks[0]
    assert cfg.env_cfg.dist_cfg.backend == ('nccl' if torch.cuda.is_available()
                                            else 'gloo')
    setup_runtime(cfg)  # idempotent
    assert len(cfg.custom_hooks) == 2
    off = Config.fromfile(DEMO)
    off.nonfinite_loss = 'off'
    setup_runtime(off)
    assert [h['type'] for h in off.custom_hooks] == ['BroadcastBuffersHook']
    spike = Config.fromfile(DEMO)
    spike.loss_spike_ratio = 20
    setup_runtime(spike)
    assert spike.custom_hooks[0]['spike_ratio'] == 20.0
    bad = Config.fromfile(DEMO)
    bad.nonfinite_loss = 'ignore'
    with pytest.raises(ValueError, match="nonfinite_loss must be one of"):
        setup_runtime(bad)


def test_fault_injection_rejects_unknown_signal():
    with pytest.raises(ValueError, match='SIGNOPE'):
        FaultInjectionHook(kill_at_iter=1, kill_signal='SIGNOPE')


def test_gradient_clipping_from_config():
    cfg = Config.fromfile(DEMO)
    assert 'clip_grad' in cfg.optim_wrapper  # documented knob, off by default
    cfg.optim_wrapper.clip_grad = dict(max_norm=0.1, norm_type=2)
    model = _Net()
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    (model(torch.randn(4, 2, 3, 3) * 100).square().mean() * 100).backward()
    norm_before = torch.norm(torch.stack(
        [p.grad.norm() for p in model.parameters()]))
    assert norm_before > 1
    wrapper.step()
    norm_after = torch.norm(torch.stack(
        [p.grad.norm() for p in model.parameters()]))
    assert norm_after == pytest.approx(0.1, rel=1e-4)


def test_rank_digests_detect_one_differing_tensor():
    model = _Net()
    same = state_digests(model)
    assert compare_digests([same, dict(same)]) == []
    with torch.no_grad():
        model.bn.running_mean[1] += 1e-7  # a single last-bit difference
    other = state_digests(model)
    assert compare_digests([same, other]) == ['bn.running_mean (ranks [1])']
    params_only = state_digests(model, buffers=False)
    assert 'bn.running_mean' not in params_only
    assert compare_digests([same, {}])[0].endswith('(ranks [1])')

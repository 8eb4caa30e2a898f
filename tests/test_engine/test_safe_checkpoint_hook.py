"""SafeCheckpointHook: the old checkpoint is deleted only after the new one
is complete; exact resume.

Exact resume: 2N iterations in one go == N, SIGKILL, resume to 2N.

Three real ``tools/train.py`` processes on the tiny synthetic dataset, with
the demo config's random data pipeline (resize, crop, flip, photometric), a
dataloader worker, validation and ``max_keep_ckpts=1``:

A. 2N iterations without interruption (validation after N and 2N),
   with dropout in the head (random decisions in the training step) and
   DWA loss weighting updated at every iteration (hook state);
B. the same config plus a ``FaultInjectionHook`` that SIGKILLs the process
   right after the N-iteration checkpoint was written;
C. ``--resume`` of B's work dir up to 2N.

C's final weights and optimizer state must equal A's bit for bit, and the
losses logged at iterations N+1..2N must be the same numbers.
"""
import glob
import os
import os.path as osp
import signal

import pytest
import torch
from mmengine.fileio import get_file_backend
from mmengine.logging import MessageHub, MMLogger

from mmmtl.engine.hooks.safe_checkpoint_hook import SafeCheckpointHook
from mmmtl.utils.checkpoint_safety import TMP_SUFFIX, load_from_local_safe
from training_helpers import (dump_cfg, logged_scalars, output_of,
                              start_train, tiny_train_cfg)

N = 3
TIMEOUT = 240


def _losses(work_dir: str) -> dict:
    """step -> {key: value} of every logged key containing 'loss'."""
    out = {}
    for line in logged_scalars(work_dir):
        if 'step' in line and 'loss' in line:
            out[line['step']] = {k: v for k, v in line.items()
                                 if 'loss' in k}
    return out


def test_sigkill_after_checkpoint_then_resume_is_exact(tiny_synthetic_root,
                                                       tmp_path):
    cfg = tiny_train_cfg(tiny_synthetic_root, iters=2 * N, ckpt_interval=N,
                         val_interval=N, num_workers=1)
    # dropout: training consumes the torch random stream, so resuming must
    # restore it to continue the same sequence
    cfg.model.decode_head.dropout_ratio = 0.2
    # a loss-weighting hook whose state (loss history, task weights) changes
    # the weights every iteration and must resume through the checkpoint
    cfg.custom_hooks = [dict(type='DWAHook', by_epoch=False, interval=1)]
    cfg_path = dump_cfg(cfg, str(tmp_path / 'resume_cfg.py'))
    cfg.custom_hooks.append(dict(type='FaultInjectionHook', kill_at_iter=N))
    kill_path = dump_cfg(cfg, str(tmp_path / 'resume_kill_cfg.py'))
    dir_a, dir_b = str(tmp_path / 'a'), str(tmp_path / 'b')

    # A and B run side by side (two cores)
    run_a = start_train(cfg_path, dir_a)
    run_b = start_train(kill_path, dir_b)
    rc_b = run_b.wait(TIMEOUT)
    assert rc_b == -signal.SIGKILL, output_of(dir_b)
    rc_a = run_a.wait(TIMEOUT)
    assert rc_a == 0, output_of(dir_a)

    # B died right after writing iteration N: a complete checkpoint that
    # `last_checkpoint` names, and no half-written files.
    with open(osp.join(dir_b, 'last_checkpoint')) as f:
        last = f.read().strip()
    assert osp.basename(last) == f'iter_{N}.pth'
    ckpt_b = load_from_local_safe(last)
    assert ckpt_b['meta']['iter'] == N
    assert len(ckpt_b['rng_state']['states']) == 1
    assert not glob.glob(osp.join(dir_b, '*' + TMP_SUFFIX))
    assert not osp.exists(osp.join(dir_b, f'iter_{2 * N}.pth'))

    run_c = start_train(cfg_path, dir_b, '--resume', log_name='resume')
    assert run_c.wait(TIMEOUT) == 0, output_of(dir_b, 'resume')

    final_a = load_from_local_safe(osp.join(dir_a, f'iter_{2 * N}.pth'))
    final_c = load_from_local_safe(osp.join(dir_b, f'iter_{2 * N}.pth'))
    # max_keep_ckpts=1: the N checkpoint was deleted after 2N was written
    assert not osp.exists(osp.join(dir_a, f'iter_{N}.pth'))
    assert final_a['state_dict'].keys() == final_c['state_dict'].keys()
    for key, value in final_a['state_dict'].items():
        assert torch.equal(value, final_c['state_dict'][key]), key
    state_a = final_a['optimizer']['state']
    state_c = final_c['optimizer']['state']
    assert state_a.keys() == state_c.keys()
    for index in state_a:
        for name, value in state_a[index].items():
            assert torch.equal(value, state_c[index][name]), (index, name)

    # the same loss sequence: before the kill, and after the resume
    losses_a, losses_bc = _losses(dir_a), _losses(dir_b)
    assert sorted(losses_a) == list(range(1, 2 * N + 1))
    assert sorted(losses_bc) == list(range(1, 2 * N + 1))
    for step in range(1, 2 * N + 1):
        assert losses_a[step] == losses_bc[step], step
    # the weights really changed between N and 2N (the test can fail)
    changed = [k for k, v in ckpt_b['state_dict'].items()
               if v.is_floating_point()
               and not torch.equal(v, final_a['state_dict'][k])]
    assert changed


class _FakeRunner:
    """What SafeCheckpointHook needs from a Runner."""

    def __init__(self, work_dir, fail_at=None):
        self.work_dir = work_dir
        self.message_hub = MessageHub.get_instance(f'fake-{work_dir}')
        self.fail_at = fail_at
        self.logger = MMLogger.get_current_instance()

    def save_checkpoint(self, out_dir, filename, *args, backend_args=None,
                        **kwargs):
        if filename == self.fail_at:
            raise OSError('killed while writing')
        backend = get_file_backend(out_dir, backend_args=backend_args)
        backend.put(filename.encode(), osp.join(out_dir, filename))


def test_old_checkpoint_is_deleted_only_after_new_one_is_complete(tmp_path):
    work_dir = str(tmp_path)
    hook = SafeCheckpointHook(interval=1, by_epoch=False, max_keep_ckpts=1,
                              save_rng_state=False)
    runner = _FakeRunner(work_dir, fail_at='iter_2.pth')
    hook.before_train(runner)
    assert hook.atomic
    hook._save_checkpoint_with_step(runner, 1, dict(iter=1))
    with pytest.raises(OSError, match='killed'):
        hook._save_checkpoint_with_step(runner, 2, dict(iter=2))
    # MMEngine's hook would have deleted iter_1.pth before writing iter_2
    assert osp.isfile(tmp_path / 'iter_1.pth')
    with open(tmp_path / 'last_checkpoint') as f:
        assert f.read() == osp.join(work_dir, 'iter_1.pth')
    runner.fail_at = None
    hook._save_checkpoint_with_step(runner, 3, dict(iter=3))
    assert sorted(os.listdir(tmp_path)) == ['iter_3.pth', 'last_checkpoint']
    assert runner.message_hub.get_info('keep_ckpt_ids') == [3]

"""MultiTaskRunner: declared by default_runtime.py, so MMSegmentation's own
tools/train.py trains with the safe checkpoint hook and the non-finite-loss
guard, each registered once."""
import glob
import os.path as osp
import subprocess
import sys

import mmseg
import pytest
from mmengine.config import Config

from mmmtl.engine.runner import MultiTaskRunner
from mmmtl.utils import setup_runtime
from mmmtl.utils.checkpoint_safety import load_from_local_safe
from training_helpers import DEMO, REPO, child_env, dump_cfg, tiny_train_cfg

MMSEG_TRAIN = osp.join(osp.dirname(mmseg.__file__), '.mim', 'tools',
                       'train.py')
SAFEGUARDS = ('SafeCheckpointHook', 'NonFiniteLossHook',
              'BroadcastBuffersHook')


def test_default_runtime_declares_the_runner():
    base = Config.fromfile(
        osp.join(REPO, 'configs', '_base_', 'default_runtime.py'))
    assert base.runner_type == 'MultiTaskRunner'
    assert base.nonfinite_loss == 'stop' and base.loss_spike_ratio is None
    assert Config.fromfile(DEMO).runner_type == 'MultiTaskRunner'


def test_safeguards_are_added_once(tiny_synthetic_root, tmp_path):
    """Also when the config went through setup_runtime already."""
    cfg = tiny_train_cfg(tiny_synthetic_root, iters=1, ckpt_interval=1,
                         with_val=False)
    cfg.work_dir = str(tmp_path)
    setup_runtime(cfg)
    runner = MultiTaskRunner.from_cfg(cfg)
    names = [type(hook).__name__ for hook in runner.hooks]
    for name in SAFEGUARDS:
        assert names.count(name) == 1, names
    assert 'CheckpointHook' not in names


@pytest.mark.skipif(not osp.isfile(MMSEG_TRAIN),
                    reason=f'{MMSEG_TRAIN} is not installed')
def test_mmseg_train_script_is_guarded(tiny_synthetic_root, tmp_path):
    """MMSegmentation's tools/train.py on a 2-iteration config whose second
    loss is NaN: the guard stops the run naming the last checkpoint, which
    the safe hook wrote (with the random states only it saves)."""
    cfg = tiny_train_cfg(tiny_synthetic_root, iters=2, ckpt_interval=1,
                         with_val=False)
    cfg.custom_hooks = [dict(type='FaultInjectionHook',
                             nonfinite_at_iters=[2],
                             nonfinite_key='depth.loss_l1')]
    cfg_path = dump_cfg(cfg, str(tmp_path / 'nan_cfg.py'))
    work_dir = str(tmp_path / 'work')
    proc = subprocess.run(
        [sys.executable, MMSEG_TRAIN, cfg_path, '--work-dir', work_dir],
        cwd=REPO, env=child_env(), capture_output=True, text=True,
        timeout=240)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-3000:]
    assert 'NonFiniteLossError' in out and 'iteration 2' in out, out[-3000:]
    assert 'depth.loss_l1=nan' in out and 'iter_1.pth' in out
    checkpoint = load_from_local_safe(osp.join(work_dir, 'iter_1.pth'))
    assert checkpoint['meta']['iter'] == 1
    assert len(checkpoint['rng_state']['states']) == 1
    # the config the runner used: each safeguard once, next to the test hook
    dumped = glob.glob(osp.join(work_dir, '*', 'vis_data', 'config.py'))
    used = Config.fromfile(dumped[0])
    assert [h['type'] for h in used.custom_hooks] == [
        'FaultInjectionHook', 'NonFiniteLossHook', 'BroadcastBuffersHook']
    assert used.default_hooks.checkpoint.type == 'SafeCheckpointHook'
    assert used.env_cfg.dist_cfg.backend == 'gloo'

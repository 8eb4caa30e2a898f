"""Distributed training on one GPU with NCCL (skipped without CUDA)."""
import glob
import os
import os.path as osp
import subprocess

import pytest

from reliability_utils import (REPO, child_env, dump_cfg, free_port,
                               tiny_train_cfg)

TIMEOUT = 300


@pytest.mark.cuda
def test_one_nccl_process_trains(tiny_synthetic_root, tmp_path):
    """tools/dist_train.sh with 1 process on the GPU: NCCL backend, the
    model on cuda:0, a checkpoint at the end."""
    cfg = tiny_train_cfg(tiny_synthetic_root, iters=2, ckpt_interval=2,
                         sync_bn=True, with_val=False)
    cfg.log_level = 'INFO'
    work_dir = str(tmp_path / 'nccl')
    cfg_path = dump_cfg(cfg, str(tmp_path / 'nccl_cfg.py'))
    env = child_env()
    env.pop('MMMTL_DEVICE')  # the GPU this time
    env['PORT'] = str(free_port())
    proc = subprocess.run(
        ['bash', osp.join(REPO, 'tools/dist_train.sh'), cfg_path, '1',
         '--work-dir', work_dir],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=TIMEOUT)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    logs = glob.glob(osp.join(work_dir, '*', '*.log'))
    text = ''.join(open(p).read() for p in logs)
    assert "'backend': 'nccl'" in text, text[-3000:]
    assert glob.glob(osp.join(work_dir, 'iter_2.pth'))
    assert os.path.getsize(glob.glob(osp.join(work_dir, 'iter_2.pth'))[0]) > 0

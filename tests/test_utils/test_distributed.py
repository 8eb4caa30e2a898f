"""Distributed training: on the CPU with gloo (2 processes via torchrun),
and on one GPU with NCCL (``cuda``, skipped without CUDA)."""
import glob
import json
import os
import os.path as osp
import subprocess
import sys

import mmengine.dataset.sampler as sampler_module
import pytest
from mmengine.dataset import DefaultSampler, InfiniteSampler

from mmmtl.utils.distributed import launcher_env
from training_helpers import (REPO, child_env, dump_cfg, free_port,
                              logged_scalars, tiny_train_cfg)

TIMEOUT = 300


def _shards(monkeypatch, make, world_size=2):
    shards = []
    for rank in range(world_size):
        monkeypatch.setattr(sampler_module, 'get_dist_info',
                            lambda r=rank: (r, world_size))
        shards.append(make())
    return shards


def test_samplers_give_disjoint_shards(monkeypatch):
    dataset = list(range(11))
    val = _shards(monkeypatch, lambda: list(
        DefaultSampler(dataset, shuffle=False, round_up=False)))
    assert set(val[0]).isdisjoint(val[1])
    assert sorted(val[0] + val[1]) == dataset  # every sample exactly once
    train = _shards(monkeypatch, lambda: list(
        DefaultSampler(dataset, shuffle=True, seed=3, round_up=False)))
    assert set(train[0]).isdisjoint(train[1])
    assert sorted(train[0] + train[1]) == dataset

    def first(n):
        def make():
            iterator = iter(InfiniteSampler(dataset, shuffle=True, seed=3))
            return [next(iterator) for _ in range(n)]
        return make

    infinite = _shards(monkeypatch, first(5))
    assert set(infinite[0]).isdisjoint(infinite[1])  # one pass: 10 of 11


def test_launcher_env_from_slurm_mpi_and_torchrun():
    calls = []

    def scontrol(cmd):
        calls.append(cmd)
        return 'node-a\n'

    slurm = launcher_env('slurm', dict(
        SLURM_PROCID='5', SLURM_NTASKS='8', SLURM_LOCALID='1',
        SLURM_NODELIST='node-[a-b]'), run=scontrol)
    assert slurm == dict(RANK='5', WORLD_SIZE='8', LOCAL_RANK='1',
                         MASTER_ADDR='node-a', MASTER_PORT='29500')
    assert calls == ['scontrol show hostname node-[a-b] | head -n1']
    mpi = launcher_env('mpi', dict(
        OMPI_COMM_WORLD_RANK='1', OMPI_COMM_WORLD_SIZE='2',
        OMPI_COMM_WORLD_LOCAL_RANK='1', MASTER_PORT='1234'))
    assert mpi == dict(RANK='1', WORLD_SIZE='2', LOCAL_RANK='1',
                       MASTER_ADDR='127.0.0.1', MASTER_PORT='1234')
    with pytest.raises(RuntimeError, match='WORLD_SIZE is not set'):
        launcher_env('pytorch', dict(RANK='0'))
    with pytest.raises(ValueError, match="unknown launcher 'lsf'"):
        launcher_env('lsf', {})


EXIT_PROBE = """
import atexit
import torch.distributed as dist
# registered before mmmtl, so it runs after mmmtl's handler (LIFO)
atexit.register(lambda: print('initialised at exit:', dist.is_initialized()))
from mmmtl.utils.distributed import sync_bn_group
dist.init_process_group('gloo', init_method='tcp://127.0.0.1:{port}',
                        rank=0, world_size=1)
sync_bn_group()
print('groups created')
"""


def test_process_groups_are_destroyed_at_exit():
    """A process ending with live gloo groups can abort in their destructors
    (exit -6, 'terminate called without an active exception'); importing
    mmmtl registers an exit handler that destroys them first."""
    proc = subprocess.run(
        [sys.executable, '-c', EXIT_PROBE.format(port=free_port())],
        cwd=REPO, env=child_env(), capture_output=True, text=True,
        timeout=TIMEOUT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'groups created' in proc.stdout
    assert 'initialised at exit: False' in proc.stdout, proc.stdout


def test_cpu_sync_batchnorm_equals_full_batch_batchnorm():
    proc = subprocess.run(
        [sys.executable, '-m', 'torch.distributed.run', '--standalone',
         '--nproc_per_node=2',
         osp.join(REPO, 'tests/test_utils/sync_bn_worker.py')],
        cwd=REPO, env=child_env(), capture_output=True, text=True,
        timeout=TIMEOUT)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-3000:]
    assert output.count("'eval': True") == 2, output[-3000:]


@pytest.mark.parametrize('norm', ['BN', 'SyncBN'])
def test_two_gloo_processes(tiny_synthetic_root, tmp_path, norm):
    """tools/dist_train.sh with 2 CPU processes, with the shipped configs'
    plain BN and with SyncBN: the documented RankConsistencyHook recipe
    passes (identical weights and buffers after N iterations) and
    validation runs. With plain BN, the validation metric over the dataset
    sharded across the 2 ranks equals a single-process tools/test.py
    evaluation of the saved checkpoint exactly: BroadcastBuffersHook gives
    every rank rank 0's BatchNorm statistics before validation (DDP only
    broadcasts them at the start of each training forward; without it 64
    of 202 tensors and 11 of 18 metrics differ)."""
    iters = 2
    work_dir = str(tmp_path / 'dist')
    digest_dir = str(tmp_path / 'digests')
    cfg = tiny_train_cfg(tiny_synthetic_root, iters=iters,
                         ckpt_interval=iters, sync_bn=norm == 'SyncBN')
    cfg.custom_hooks = [dict(type='RankConsistencyHook', interval=iters,
                             dump_dir=digest_dir)]
    cfg_path = dump_cfg(cfg, str(tmp_path / 'dist_cfg.py'))
    env = child_env()
    env['PORT'] = str(free_port())
    proc = subprocess.run(
        ['bash', osp.join(REPO, 'tools/dist_train.sh'), cfg_path, '2',
         '--work-dir', work_dir],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=TIMEOUT)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]

    digests = []
    for rank in range(2):
        path = osp.join(digest_dir, f'rank_digests_iter{iters}_rank{rank}'
                        '.json')
        with open(path) as f:
            digests.append(json.load(f))
    assert digests[0] == digests[1]
    assert any('running_mean' in k for k in digests[0])  # buffers included

    val_lines = [line for line in logged_scalars(work_dir)
                 if any('/' in k for k in line)]
    assert val_lines, 'no validation metrics were logged'
    dist_metrics = val_lines[-1]
    if norm == 'SyncBN':
        # identical buffers by construction; the tools/test.py comparison
        # below (the slow part) is done once, with the shipped plain BN
        return

    # tools/test.py in one process, same thread settings as the ranks
    single_dir = str(tmp_path / 'single')
    proc = subprocess.run(
        [sys.executable, osp.join(REPO, 'tools/test.py'), cfg_path,
         osp.join(work_dir, f'iter_{iters}.pth'), '--work-dir', single_dir],
        cwd=REPO, env=child_env(), capture_output=True, text=True,
        timeout=TIMEOUT)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    (result_file, ) = glob.glob(osp.join(single_dir, '*', '*.json'))
    with open(result_file) as f:
        metrics = json.load(f)
    keys = [k for k in metrics if '/' in k]
    assert len(keys) > 5
    for key in keys:
        assert dist_metrics[key] == metrics[key], (key, dist_metrics[key],
                                                   metrics[key])
    assert glob.glob(osp.join(work_dir, 'iter_*.pth'))


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

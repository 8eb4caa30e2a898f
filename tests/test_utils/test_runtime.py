"""setup_runtime: the safeguards it adds, the device choice (MMMTL_DEVICE,
GPUs per process, AMP)."""
import pytest
import torch
from mmengine.config import Config

from mmmtl.utils.runtime import (check_gpu_per_process, forced_cpu,
                                 hide_gpus_if_cpu_forced,
                                 refuse_amp_without_cuda, setup_runtime,
                                 use_cuda)
from training_helpers import DEMO

CFG = dict(model=dict(type='Net'), train_cfg=dict(max_iters=2),
           default_hooks=dict(checkpoint=dict(type='CheckpointHook')))


def _fake_gpus(monkeypatch, count):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: count > 0)
    monkeypatch.setattr(torch.cuda, 'device_count', lambda: count)


def test_mmmtl_device_values():
    assert forced_cpu({'MMMTL_DEVICE': 'cpu'})
    assert forced_cpu({'MMMTL_DEVICE': ' CPU '})
    assert not forced_cpu({})
    assert not forced_cpu({'MMMTL_DEVICE': 'cuda'})
    with pytest.raises(ValueError, match="MMMTL_DEVICE='gpu0'"):
        forced_cpu({'MMMTL_DEVICE': 'gpu0'})


def test_forced_cpu_on_a_gpu_host_uses_gloo(monkeypatch):
    _fake_gpus(monkeypatch, 1)
    monkeypatch.setenv('MMMTL_DEVICE', 'cpu')
    assert not use_cuda()
    cfg = Config(CFG)
    setup_runtime(cfg)
    assert cfg.env_cfg.dist_cfg.backend == 'gloo'
    with pytest.raises(RuntimeError, match=r'mixed precision .* MMMTL_DEVICE'):
        setup_runtime(Config(CFG), amp=True)
    monkeypatch.delenv('MMMTL_DEVICE')
    assert use_cuda()
    cfg = Config(CFG)
    setup_runtime(cfg, amp=True)  # a GPU: AMP allowed, NCCL kept
    assert 'env_cfg' not in cfg


def test_more_processes_than_gpus_is_refused(monkeypatch):
    _fake_gpus(monkeypatch, 1)
    check_gpu_per_process('pytorch', {'LOCAL_RANK': '0'})
    check_gpu_per_process('none', {'LOCAL_RANK': '3'})
    with pytest.raises(RuntimeError, match=r'local rank 1 needs GPU cuda:1, '
                       r'but only 1 GPU\(s\) are visible.*MMMTL_DEVICE=cpu'):
        check_gpu_per_process('pytorch', {'LOCAL_RANK': '1'})
    with pytest.raises(RuntimeError, match='local rank 2'):
        check_gpu_per_process('slurm', {'SLURM_LOCALID': '2'})
    monkeypatch.delenv('MMMTL_DEVICE', raising=False)
    monkeypatch.setenv('LOCAL_RANK', '1')
    cfg = Config(CFG)
    cfg.launcher = 'pytorch'
    with pytest.raises(RuntimeError, match='local rank 1'):
        setup_runtime(cfg)


def test_dataloaders_fit_the_machine():
    from mmmtl.utils.runtime import fit_dataloaders
    cfg = Config(dict(
        train_dataloader=dict(num_workers=8, persistent_workers=True,
                              pin_memory=True),
        val_dataloader=dict(num_workers=4, persistent_workers=True,
                            pin_memory=True),
        test_dataloader=dict(num_workers=0, persistent_workers=True)))
    gpu = Config(cfg.to_dict())
    fit_dataloaders(gpu, cuda=True, environ={}, cpu_count=16)
    assert gpu.train_dataloader.num_workers == 8  # 16 cores: as written
    assert gpu.train_dataloader.pin_memory is True
    assert gpu.test_dataloader.persistent_workers is False  # 0 workers
    ddp = Config(cfg.to_dict())
    fit_dataloaders(ddp, cuda=True, environ={'LOCAL_WORLD_SIZE': '8'},
                    cpu_count=16)
    assert ddp.train_dataloader.num_workers == 2  # 16 cores / 8 ranks
    assert ddp.val_dataloader.num_workers == 2
    cpu = Config(cfg.to_dict())
    fit_dataloaders(cpu, cuda=False, environ={}, cpu_count=2)
    assert cpu.train_dataloader.num_workers == 2
    assert cpu.train_dataloader.pin_memory is False
    assert cpu.train_dataloader.persistent_workers is True
    one = Config(cfg.to_dict())
    fit_dataloaders(one, cuda=False, environ={}, cpu_count=1)
    assert one.val_dataloader.num_workers == 1


def test_dataset_configs_are_set_for_a_gpu_machine():
    import glob
    import os.path as osp
    repo = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    for name in ('synthetic', 'nyud', 'pascal_context', 'nyuv2_13',
                 'cityscapes_mtl'):
        path = osp.join(repo, 'configs', '_base_', 'datasets', name + '.py')
        cfg = Config.fromfile(path)
        train = cfg.train_dataloader
        assert (train.num_workers, train.persistent_workers,
                train.pin_memory) == (8, True, True), path
        assert cfg.val_dataloader.num_workers == 4, path
        assert cfg.val_dataloader.pin_memory is True, path
    assert glob.glob(osp.join(repo, 'configs', '_base_', 'datasets', '*'))


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


def test_hide_gpus_if_cpu_forced(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_initialized', lambda: False)
    env = {'MMMTL_DEVICE': 'cpu', 'CUDA_VISIBLE_DEVICES': '0'}
    assert hide_gpus_if_cpu_forced(env)
    assert env['CUDA_VISIBLE_DEVICES'] == ''
    env = {'CUDA_VISIBLE_DEVICES': '0'}
    assert not hide_gpus_if_cpu_forced(env)
    assert env['CUDA_VISIBLE_DEVICES'] == '0'
    # too late once CUDA is initialised: the GPUs stay visible
    monkeypatch.setattr(torch.cuda, 'is_initialized', lambda: True)
    env = {'MMMTL_DEVICE': 'cpu', 'CUDA_VISIBLE_DEVICES': '0'}
    assert not hide_gpus_if_cpu_forced(env)
    assert env['CUDA_VISIBLE_DEVICES'] == '0'


def test_refuse_amp_without_cuda(monkeypatch):
    _fake_gpus(monkeypatch, 0)
    refuse_amp_without_cuda(False)
    with pytest.raises(RuntimeError, match='needs a CUDA GPU'):
        refuse_amp_without_cuda(True)
    _fake_gpus(monkeypatch, 1)
    refuse_amp_without_cuda(True)

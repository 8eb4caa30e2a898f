"""Helpers of the tests that train (tiny configs, training subprocesses).

``tests/conftest.py`` puts this folder on ``sys.path``, so every test
module can ``from training_helpers import ...``.
"""
import glob
import json
import os
import os.path as osp
import socket
import subprocess
import sys
from typing import Dict, List, Optional

import torch
from mmengine.config import Config

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEMO = osp.join(REPO, 'configs/hps/hps_resnet18_2k_synthetic-128x160.py')


def tiny_train_cfg(root: str, iters: int, ckpt_interval: int,
                   val_interval: Optional[int] = None,
                   num_workers: int = 0, batch_size: int = 2,
                   sync_bn: bool = False, with_val: bool = True) -> Config:
    """The demo config with a tiny backbone on the tiny synthetic data.

    Deterministic settings: fixed seed, ``deterministic=True`` (without
    CUDA), a constant
    learning rate and loss logging at every iteration. ``with_val=False``
    drops validation and testing.
    """
    cfg = Config.fromfile(DEMO)
    cfg.model.backbone.update(stem_channels=8, base_channels=8)
    cfg.model.decode_head.update(in_channels=[8, 16, 32, 64], channels=8)
    if sync_bn:
        cfg.model.backbone.norm_cfg = dict(type='SyncBN', requires_grad=True)
        cfg.model.decode_head.norm_cfg = dict(type='SyncBN',
                                              requires_grad=True)
    for split in ('train', 'val', 'test'):
        loader = cfg[f'{split}_dataloader']
        loader.update(batch_size=batch_size if split == 'train' else 1,
                      num_workers=num_workers,
                      persistent_workers=num_workers > 0)
        loader.dataset.update(data_root=root, generate_if_missing=False)
    pipeline = cfg.train_dataloader.dataset.pipeline
    pipeline[2].update(scale=(80, 64))
    pipeline[3].update(crop_size=(64, 80))
    cfg.param_scheduler = [dict(type='ConstantLR', factor=1.0)]
    cfg.train_cfg.update(max_iters=iters,
                         val_interval=val_interval or iters)
    cfg.default_hooks.logger.interval = 1
    cfg.log_processor = dict(by_epoch=False, window_size=1)
    cfg.default_hooks.checkpoint.update(interval=ckpt_interval,
                                        max_keep_ckpts=1)
    cfg.default_hooks.visualization = dict(
        type='MultiTaskVisualizationHook', draw=False)
    # deterministic algorithms on the CPU only: on CUDA (in-process tests on
    # a GPU host) bilinear upsampling's backward has no deterministic kernel
    # and cuBLAS needs CUBLAS_WORKSPACE_CONFIG; children run on the CPU
    cfg.randomness = dict(seed=0, deterministic=not torch.cuda.is_available())
    # mmmtl.testing registers the test-only FaultInjectionHook
    cfg.custom_imports = dict(imports=['mmmtl', 'mmmtl.testing'],
                              allow_failed_imports=False)
    if not with_val:
        for key in ('val_dataloader', 'val_cfg', 'val_evaluator',
                    'test_dataloader', 'test_cfg', 'test_evaluator'):
            cfg[key] = None
        cfg.train_cfg.val_interval = 10**9
    cfg.log_level = 'WARNING'
    return cfg


def dump_cfg(cfg: Config, path: str) -> str:
    cfg.dump(path)
    return path


def child_env() -> Dict[str, str]:
    """Environment of training subprocesses: this venv, one thread, the CPU
    (``MMMTL_DEVICE=cpu``: gloo and CPU tensors also where a GPU is visible,
    so 2-process runs work on a 1-GPU host and results are compared on one
    kind of device)."""
    env = dict(os.environ)
    env['PYTHONPATH'] = REPO + os.pathsep + env.get('PYTHONPATH', '')
    env['PATH'] = osp.dirname(sys.executable) + os.pathsep + env['PATH']
    env.update(OMP_NUM_THREADS='1', MKL_NUM_THREADS='1', MMMTL_DEVICE='cpu')
    env.pop('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', None)
    return env


def start_train(cfg_path: str, work_dir: str, *extra: str,
                log_name: str = 'train') -> subprocess.Popen:
    """Start ``tools/train.py`` in a subprocess (output to a log file)."""
    os.makedirs(work_dir, exist_ok=True)
    log = open(osp.join(work_dir, f'{log_name}.stdout'), 'w')
    return subprocess.Popen(
        [sys.executable, osp.join(REPO, 'tools/train.py'), cfg_path,
         '--work-dir', work_dir, *extra],
        cwd=REPO, env=child_env(), stdout=log, stderr=subprocess.STDOUT)


def output_of(work_dir: str, log_name: str = 'train') -> str:
    with open(osp.join(work_dir, f'{log_name}.stdout')) as f:
        return f.read()


def logged_scalars(work_dir: str) -> List[dict]:
    """Every line of every ``vis_data/scalars.json`` under ``work_dir``."""
    lines = []
    for path in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                          'scalars.json'))):
        with open(path) as f:
            lines += [json.loads(line) for line in f if line.strip()]
    return lines


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]

"""The demo config trains on CPU: loss goes down, every metric is reported."""
import os.path as osp

import numpy as np
from mmengine.config import Config
from mmengine.runner import Runner

from mmmtl.structures import TASKS
from mmmtl.utils import check_task_consistency, setup_runtime

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO = osp.join(REPO, 'configs/hps/hps_resnet18_500it_synthetic-128x160.py')


def tiny_demo_cfg(root: str, work_dir: str, iters: int = 40) -> Config:
    """The demo config shrunk to a tiny backbone and the tiny dataset."""
    cfg = Config.fromfile(DEMO)
    cfg.work_dir = work_dir
    cfg.model.backbone.update(stem_channels=8, base_channels=8)
    cfg.model.decode_head.update(in_channels=[8, 16, 32, 64], channels=16)
    for split in ('train', 'val', 'test'):
        loader = cfg[f'{split}_dataloader']
        loader.update(batch_size=4, num_workers=0, persistent_workers=False)
        loader.dataset.update(data_root=root, generate_if_missing=False)
    pipeline = cfg.train_dataloader.dataset.pipeline
    pipeline[2].update(scale=(80, 64))
    pipeline[3].update(crop_size=(64, 80))
    cfg.param_scheduler = [dict(type='ConstantLR', factor=1.0)]
    cfg.train_cfg.update(max_iters=iters, val_interval=iters)
    cfg.default_hooks.logger.interval = 5
    cfg.default_hooks.checkpoint.interval = iters
    cfg.log_level = 'WARNING'
    return cfg


def test_demo_config_trains_and_evaluates(tiny_synthetic_root, tmp_path):
    cfg = tiny_demo_cfg(tiny_synthetic_root, str(tmp_path))
    tasks = check_task_consistency(cfg)
    setup_runtime(cfg)
    runner = Runner.from_cfg(cfg)
    runner.train()
    history = runner.message_hub.get_scalar('train/loss').data[0]
    assert len(history) == 40
    assert np.mean(history[-8:]) < 0.9 * np.mean(history[:8])
    metrics = runner.test()
    for task in tasks:
        for spec in TASKS[task].metrics:
            if spec.name == 'odsF':
                continue  # the edge ODS-F needs the real-datasets metric
            key = f'{task}/{spec.name}'
            assert key in metrics and np.isfinite(metrics[key]), key
    assert osp.isfile(osp.join(tmp_path, 'iter_40.pth'))


def test_amp_is_refused_on_the_cpu_and_gpus_are_hidden(tmp_path):
    """``tools/train.py --amp`` with ``MMMTL_DEVICE=cpu`` (the CPU case on
    any host) stops with the clear message before building anything, and
    the tool hid the GPUs from PyTorch before importing it."""
    import os
    import subprocess
    import sys
    script = (
        'import os, runpy, sys\n'
        f'sys.argv = ["train.py", {DEMO!r}, "--amp", "--work-dir", '
        f'{str(tmp_path)!r}]\n'
        'try:\n'
        '    runpy.run_path(os.path.join("tools", "train.py"), '
        'run_name="__main__")\n'
        'except RuntimeError as e:\n'
        '    print("REFUSED:", e)\n'
        'print("CUDA_VISIBLE_DEVICES=" + repr(os.environ.get('
        '"CUDA_VISIBLE_DEVICES")))\n')
    env = dict(os.environ, MMMTL_DEVICE='cpu',
               PYTHONPATH=REPO + os.pathsep + os.environ.get('PYTHONPATH', ''))
    proc = subprocess.run([sys.executable, '-c', script], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert 'REFUSED: mixed precision (--amp / AmpOptimWrapper) needs a ' \
        'CUDA GPU' in out, out[-3000:]
    assert "CUDA_VISIBLE_DEVICES=''" in out

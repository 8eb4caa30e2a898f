"""tools/test.py --out writes every task's predictions, hooks or no hooks,
and the documented confusion_matrix.py step reads them."""
import glob
import importlib.util
import os.path as osp
import sys

import numpy as np
import pytest
from mmengine.runner import Runner
from PIL import Image
from test_analysis_tools import load_tool, tiny_cfg

from mmmtl.utils import setup_runtime

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TASKS = ('semseg', 'depth', 'normals', 'edge', 'saliency')


def load_test_tool():
    spec = importlib.util.spec_from_file_location(
        'mmmtl_tool_test', osp.join(REPO, 'tools', 'test.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def checkpoint(tiny_synthetic_root, tmp_path_factory):
    """(work dir with tiny.py and tiny_hooks.py, checkpoint) of a
    1-iteration run."""
    work_dir = str(tmp_path_factory.mktemp('test_tool_run'))
    cfg = tiny_cfg(tiny_synthetic_root, work_dir)
    cfg.train_cfg.update(max_iters=1, val_interval=1000)
    cfg.default_hooks.checkpoint.interval = 1
    cfg.pop('custom_hooks', None)
    # its own visualizer instance (MMEngine keeps instances by name)
    cfg.visualizer.name = 'test_tool_vis'
    # configs with and without custom_hooks (before setup_runtime adds
    # its training hooks)
    cfg.dump(osp.join(work_dir, 'tiny.py'))
    hooked = cfg.copy()
    hooked.custom_hooks = [dict(type='ProgressBarHook')]
    hooked.dump(osp.join(work_dir, 'tiny_hooks.py'))
    setup_runtime(cfg)
    Runner.from_cfg(cfg).train()
    return work_dir, osp.join(work_dir, 'iter_1.pth')


@pytest.mark.parametrize('custom_hooks', [None, 'progress_bar'])
def test_out_writes_every_task(checkpoint, tiny_synthetic_root, tmp_path,
                               monkeypatch, custom_hooks):
    work_dir, ckpt = checkpoint
    cfg_path = osp.join(work_dir,
                        'tiny_hooks.py' if custom_hooks else 'tiny.py')
    assert ('custom_hooks' in open(cfg_path).read()) == bool(custom_hooks)
    out = tmp_path / 'preds'
    monkeypatch.setattr(sys, 'argv', [
        'test.py', cfg_path, ckpt, '--out', str(out), '--work-dir',
        str(tmp_path / 'work')
    ])
    load_test_tool().main()
    with open(osp.join(tiny_synthetic_root, 'splits', 'val.txt')) as f:
        stems = sorted(line.strip() for line in f if line.strip())
    for task in TASKS:
        written = sorted(
            osp.splitext(osp.basename(p))[0]
            for p in glob.glob(str(out / task / '*.png')))
        assert written == stems, task
    depth = np.load(out / 'depth' / f'{stems[0]}.npy')
    gt = np.array(Image.open(
        osp.join(tiny_synthetic_root, 'images', f'{stems[0]}.png')))
    assert depth.shape == gt.shape[:2] and depth.dtype == np.float32

    # The documented next step: a confusion matrix of the predictions.
    matrix = load_tool('confusion_matrix').main(
        [cfg_path, str(out), str(tmp_path / 'cm')])
    labels = [np.array(Image.open(
        osp.join(tiny_synthetic_root, 'semseg', f'{s}.png'))) for s in stems]
    assert matrix.sum() == sum(int((label != 255).sum()) for label in labels)
    assert osp.isfile(tmp_path / 'cm' / 'confusion_matrix_semseg.png')

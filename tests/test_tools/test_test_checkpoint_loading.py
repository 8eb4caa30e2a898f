"""tools/test.py loads the checkpoint strictly; --non-strict lists what it
did not load."""
import glob
import os.path as osp
import runpy
import sys

import pytest
import torch
from mmengine.config import Config
from mmseg.registry import MODELS

from mmmtl.utils.checkpoint_safety import (CheckpointFormatError,
                                           CheckpointMismatchError)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO = osp.join(REPO, 'configs/hps/hps_resnet18_2k_synthetic-128x160.py')


@pytest.fixture(scope='module')
def tiny_test_cfg(tiny_synthetic_root, tmp_path_factory):
    """(config path, its model's weights): the demo config with a tiny
    backbone on the tiny synthetic data."""
    root = tmp_path_factory.mktemp('test_tool')
    cfg = Config.fromfile(DEMO)
    cfg.model.backbone.update(stem_channels=8, base_channels=8)
    cfg.model.decode_head.update(in_channels=[8, 16, 32, 64], channels=8)
    cfg.test_dataloader.update(num_workers=0, persistent_workers=False)
    cfg.test_dataloader.dataset.update(data_root=tiny_synthetic_root,
                                       generate_if_missing=False)
    cfg.default_hooks.visualization = dict(
        type='MultiTaskVisualizationHook', draw=False)
    cfg.log_level = 'WARNING'
    path = str(root / 'tiny_test.py')
    cfg.dump(path)
    torch.manual_seed(0)
    return path, MODELS.build(cfg.model).state_dict()


def _run_test_tool(monkeypatch, *args):
    monkeypatch.setattr(sys, 'argv', ['tools/test.py', *args])
    runpy.run_path(osp.join(REPO, 'tools/test.py'), run_name='__main__')


def test_matching_checkpoint_is_evaluated(tiny_test_cfg, tmp_path,
                                          monkeypatch):
    cfg_path, state = tiny_test_cfg
    ckpt = str(tmp_path / 'ok.pth')
    torch.save({'state_dict': state, 'meta': {}}, ckpt)
    _run_test_tool(monkeypatch, cfg_path, ckpt, '--work-dir',
                   str(tmp_path / 'work'))
    assert glob.glob(str(tmp_path / 'work' / '*' / '*.json'))


def test_mismatching_checkpoint_is_an_error(tiny_test_cfg, tmp_path,
                                            monkeypatch, capsys):
    cfg_path, state = tiny_test_cfg
    state = dict(state)
    state.pop('decode_head.heads.depth.weight', None)
    dropped = [k for k in state if k.startswith('decode_head.')][:1]
    for key in dropped:
        del state[key]
    state['ssl_tasks.moco.queue'] = torch.zeros(2, 2)  # e.g. another method
    ckpt = str(tmp_path / 'other.pth')
    torch.save({'state_dict': state}, ckpt)
    work = str(tmp_path / 'work')
    with pytest.raises(CheckpointMismatchError) as info:
        _run_test_tool(monkeypatch, cfg_path, ckpt, '--work-dir', work)
    message = str(info.value)
    assert ckpt in message and dropped[0] in message
    assert "unexpected keys ['ssl_tasks.moco.queue']" in message
    assert not glob.glob(osp.join(work, '*', '*.json'))  # no metrics

    _run_test_tool(monkeypatch, cfg_path, ckpt, '--work-dir', work,
                   '--non-strict')
    out = capsys.readouterr().out
    assert '--non-strict' in out and f'  {dropped[0]}' in out
    assert '  ssl_tasks.moco.queue' in out
    assert glob.glob(osp.join(work, '*', '*.json'))


def test_checkpoint_without_state_dict_is_an_error(tiny_test_cfg, tmp_path,
                                                   monkeypatch):
    cfg_path, _ = tiny_test_cfg
    ckpt = str(tmp_path / 'meta_only.pth')
    torch.save({'meta': {'iter': 10}, 'optimizer': {}}, ckpt)
    with pytest.raises(CheckpointFormatError,
                       match=r"has no 'state_dict' entry \(its top-level "
                       r"keys are \['meta', 'optimizer'\]\)"):
        _run_test_tool(monkeypatch, cfg_path, ckpt, '--work-dir',
                       str(tmp_path / 'work'))

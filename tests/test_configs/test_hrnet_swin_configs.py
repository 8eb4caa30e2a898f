# Copyright (c) mmmtl contributors. All rights reserved.
"""The HRNet-18 and SwinV2-S configs (STL/MTL, PAD-Net, PAP-Net, CTAL-SS):
the list, the schedules of the papers, and every model built and run.

Every config's model is built with random weights (``init_cfg`` dropped, no
checkpoint needed) and run on a tiny input; CTAL's trained grid is shrunk
through ``crop_size`` so the test stays fast (the resampling to the grid is
covered by the CTAL tests).
"""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS

import mmmtl.models.decode_heads.ctal_head  # noqa: F401
import mmmtl.models.decode_heads.hps_head  # noqa: F401
import mmmtl.models.decode_heads.padnet_head  # noqa: F401
import mmmtl.models.decode_heads.papnet_head  # noqa: F401
from mmmtl.testing import random_sample

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
HRNET = ['hps/hps_hrnet18_20k_nyuv2-13-288x384.py',
         'hps/hps_hrnet18_28k_cityscapes-128x256.py'] + [
             f'single_task/stl-{t}_hrnet18_20k_nyuv2-13-288x384.py'
             for t in ('semseg', 'depth', 'normals')
         ] + [f'single_task/stl-{t}_hrnet18_28k_cityscapes-128x256.py'
              for t in ('semseg', 'depth')]
SWIN = sorted(
    osp.relpath(p, osp.join(ROOT, 'configs'))
    for p in glob.glob(osp.join(ROOT, 'configs', '*', '*swinv2-s*.py')))


def test_swin_config_list():
    # STL 3 + 5, MTL/PAD/PAP/CTAL-SS x 2 datasets
    assert len(SWIN) == 16, SWIN


def _build(rel: str):
    cfg = Config.fromfile(osp.join(ROOT, 'configs', rel))
    cfg.model.backbone.init_cfg = None
    head = cfg.model.decode_head
    if head.type == 'CTALHead':
        # small trained grid: crop / stride = 4 x 6 (a 16x24 grid at 1/4)
        head.crop_size = [head.distill_stride * 4, head.distill_stride * 6]
    if 'swinv2' in rel:
        cfg.model.backbone.arch = dict(embed_dims=32, depths=[1, 1, 1, 1],
                                       num_heads=[1, 2, 4, 8],
                                       extra_norm_every_n_blocks=0)
        head.in_channels = [32, 64, 128, 256]
    if 'hrnet' in rel or 'swinv2' in rel:
        head.channels = 16
    init_default_scope('mmseg')
    return cfg, MODELS.build(cfg.model)


@pytest.mark.parametrize('rel', HRNET + SWIN)
def test_config_builds_and_runs(rel):
    cfg, model = _build(rel)
    tasks = list(cfg.model.decode_head.tasks)
    assert list(model.tasks) == tasks
    if 'swinv2' in rel:
        assert type(model.backbone).__name__ == 'SwinTransformerV2'
        head = cfg.model.decode_head
        assert head.get('final_head', head.get('decoder')) == 'aspp'
    ckpt = Config.fromfile(osp.join(ROOT, 'configs', rel)).model.backbone
    assert ckpt.init_cfg.checkpoint.startswith('checkpoints/')
    opt = Config.fromfile(osp.join(ROOT, 'configs', rel)).optim_wrapper
    assert opt.optimizer.type == 'Adam'
    assert opt.optimizer.weight_decay == 1e-4
    torch.manual_seed(0)
    h, w = 64, 96
    model.train()
    # batch 2: the ASPP image-pooling branch normalises 1x1 maps, which
    # BatchNorm refuses in training at batch 1 (as MMSegmentation's ASPPHead)
    samples = [random_sample(h, w, i, tasks) for i in range(2)]
    losses = model.loss(torch.randn(2, 3, h, w), samples)
    total = sum(v for k, v in losses.items() if 'loss' in k)
    assert torch.isfinite(total)
    total.backward()
    model.eval()
    with torch.no_grad():
        out = model.encode_decode(torch.randn(1, 3, h, w),
                                  [dict(img_shape=(h, w))])
    for t in tasks:
        assert out[t].shape[2:] == (h, w)
        assert torch.isfinite(out[t]).all()


def test_schedules_follow_the_paper():
    lr = {}
    for rel in ['hps/hps_hrnet18_20k_nyuv2-13-288x384.py',
                'hps/hps_hrnet18_28k_cityscapes-128x256.py',
                'hps/hps_swinv2-s_44k_pascal-context-512x512.py',
                'padnet/padnet_swinv2-s_20k_nyuv2-13-288x384.py']:
        cfg = Config.fromfile(osp.join(ROOT, 'configs', rel))
        lr[rel.split('_')[-1]] = (cfg.optim_wrapper.optimizer.lr,
                                  cfg.train_cfg.max_iters,
                                  cfg.train_dataloader.batch_size)
    assert lr['nyuv2-13-288x384.py'] == (1e-4, 20000, 8)
    assert lr['cityscapes-128x256.py'] == (5e-4, 28000, 8)
    assert lr['pascal-context-512x512.py'] == (2e-5, 44000, 8)


def test_full_swinv2_s_backbone_matches_head_channels():
    """The real SwinV2-S (MMPretrain, via the `mmpretrain.` scope) builds and
    its four stages have the channels and strides the heads expect."""
    cfg = Config.fromfile(osp.join(
        ROOT, 'configs', 'padnet', 'padnet_swinv2-s_20k_nyuv2-13-288x384.py'))
    cfg.model.backbone.init_cfg = None
    init_default_scope('mmseg')
    backbone = MODELS.build(cfg.model).backbone
    backbone.eval()  # MMPretrain's Swin `train()` does not return self
    assert type(backbone).__name__ == 'SwinTransformerV2'
    assert sum(p.numel() for p in backbone.parameters()) > 45e6  # ~49 M
    with torch.no_grad():
        feats = backbone(torch.randn(1, 3, 64, 96))
    assert [f.shape[1] for f in feats] == \
        list(cfg.model.decode_head.in_channels)
    assert [64 // f.shape[2] for f in feats] == \
        list(cfg.model.decode_head.in_strides)



# Copyright (c) mmmtl contributors. All rights reserved.
"""Issue 5 configs (HRNet-18 STL/MTL, SwinV2-S STL/MTL/PAD/PAP/CTAL-SS) and
the DeepLab-style (ASPP) final heads.

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
from mmmtl.models.decode_heads.hps_head import HPSHead
from mmmtl.models.layers.multi_scale_blocks import (ASPPBlock,
                                                    ASPPPredictionHead,
                                                    build_final_head)
from mmmtl.testing import random_sample

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))
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
def test_issue5_config_builds_and_runs(rel):
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


def test_aspp_block_matches_reference_and_dilations():
    torch.manual_seed(0)
    block = ASPPBlock(6, 4, dilations=(1, 2, 3)).eval()
    # dilation 1 is a 1x1 conv, the others 3x3 with padding = dilation
    convs = [m.conv for m in block.aspp]
    assert [c.kernel_size for c in convs] == [(1, 1), (3, 3), (3, 3)]
    assert [c.dilation for c in convs] == [(1, 1), (2, 2), (3, 3)]
    assert [c.padding for c in convs] == [(0, 0), (2, 2), (3, 3)]
    x = torch.randn(2, 6, 5, 7)
    with torch.no_grad():
        out = block(x)
        # image pooling: AdaptiveAvgPool2d(1) is the spatial mean
        pooled = block.image_pool[1](x.mean(dim=(2, 3), keepdim=True))
        ref = block.bottleneck(torch.cat(
            [pooled.expand(-1, -1, 5, 7)] + [m(x) for m in block.aspp], 1))
    assert out.shape == (2, 4, 5, 7)
    torch.testing.assert_close(out, ref, rtol=1e-6, atol=1e-6)
    # bottleneck input: (len(dilations) + 1) branches of 4 channels
    assert block.bottleneck.conv.in_channels == 16
    with pytest.raises(ValueError, match='dilations'):
        ASPPBlock(6, 4, dilations=(0, 2))


def test_aspp_prediction_head_and_builder():
    torch.manual_seed(0)
    head = ASPPPredictionHead(6, 4, 3, dilations=(1, 2)).eval()
    x = torch.randn(1, 6, 5, 7)
    feat, pred = head(x)
    assert feat.shape == (1, 4, 5, 7) and pred.shape == (1, 3, 5, 7)
    torch.testing.assert_close(pred, head.predictor(feat))
    assert head(x, predict=False)[1] is None
    assert type(build_final_head('aspp', 6, 4, 3, dict(type='BN'),
                                 dict(type='ReLU'))).__name__ == \
        'ASPPPredictionHead'
    assert type(build_final_head('residual', 6, 4, 3, dict(type='BN'),
                                 dict(type='ReLU'))).__name__ == \
        'PredictionHead'
    with pytest.raises(ValueError, match="final_head.*'deeplab'"):
        build_final_head('deeplab', 6, 4, 3, dict(type='BN'),
                         dict(type='ReLU'))


def test_hps_head_decoders():
    kw = dict(tasks=['semseg', 'depth'], in_channels=[8, 16], in_index=[0, 1],
              channels=8, num_classes=dict(semseg=5))
    inputs = [torch.randn(2, 8, 8, 10), torch.randn(2, 16, 4, 5)]
    for kind, first in (('conv', 'Sequential'), ('residual', 'Sequential'),
                        ('aspp', 'ASPPBlock')):
        head = HPSHead(decoder=kind, **kw)
        assert type(head.decoders['depth']).__name__ == first
        out = head(inputs)
        assert out['preds']['semseg'].shape == (2, 5, 8, 10)
        assert out['feats']['depth'].shape == (2, 8, 8, 10)
    # 'conv' (default) is unchanged: 1x1 reduction first
    assert HPSHead(**kw).decoders['semseg'][0].conv.kernel_size == (1, 1)
    head = HPSHead(decoder='residual', **kw)
    # 3x3 fusion conv then two bottlenecks
    assert head.decoders['semseg'][0].conv.kernel_size == (3, 3)
    assert [type(m).__name__ for m in head.decoders['semseg'][1:]] == \
        ['Bottleneck', 'Bottleneck']
    with pytest.raises(ValueError, match="decoder.*'fpn'"):
        HPSHead(decoder='fpn', **kw)


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


@pytest.mark.parametrize('head_type', ['PADNetHead', 'PAPNetHead',
                                       'CTALHead'])
def test_final_head_option(head_type):
    kw = dict(type=head_type, tasks=['semseg', 'depth'], in_channels=[8, 16],
              in_index=[0, 1], in_strides=(4, 8), channels=8,
              num_classes=dict(semseg=5))
    if head_type == 'CTALHead':
        kw.update(crop_size=(32, 40), distill_stride=8)
    default = MODELS.build(kw)
    assert type(default.final['depth']).__name__ == 'PredictionHead'
    head = MODELS.build(dict(kw, final_head='aspp', aspp_dilations=(1, 2)))
    assert type(head.final['depth']).__name__ == 'ASPPPredictionHead'
    # only the final heads differ
    strip = {k for k in head.state_dict() if not k.startswith('final.')}
    assert strip == {k for k in default.state_dict()
                     if not k.startswith('final.')}
    head.train()
    out = head([torch.randn(2, 8, 8, 10), torch.randn(2, 16, 4, 5)])
    stride = kw.get('distill_stride', 4)
    size = (32 // stride, 40 // stride)
    assert out['preds']['semseg'].shape == (2, 5, *size)
    assert out['feats']['depth'].shape == (2, 8, *size)
    assert set(out['deep_supervision']['initial']) == {'semseg', 'depth'}
    with pytest.raises(ValueError, match="final_head.*'deeplab'"):
        MODELS.build(dict(kw, final_head='deeplab'))

"""MT-CP's Mask2Former shared representation (optional mmdet)."""
import os.path as osp
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS

import mmmtl  # noqa: F401  (registers)
from mmmtl.models.layers.mask2former_representation import \
    Mask2FormerRepresentation
from mmmtl.testing import fit_steps, random_batch

pytest.importorskip('mmdet', reason='Mask2Former needs the optional mmdet')

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))
SYNTHETIC = osp.join(REPO, 'configs', 'mtcp',
                     'mtcp-m2f_resnet18_2k_synthetic-128x160.py')


def synthetic_cfg():
    init_default_scope('mmseg')
    return Config.fromfile(SYNTHETIC)


def build_representation(**kwargs):
    cfg = synthetic_cfg().model.decode_head.shared_representation
    cfg.update(kwargs)
    return MODELS.build(cfg)


def features(b=2, h=64, w=96):
    g = torch.Generator().manual_seed(0)
    return [torch.randn(b, c, h // s, w // s, generator=g)
            for c, s in zip((64, 128, 256, 512), (4, 8, 16, 32))]


@pytest.mark.parametrize('activation', [None, 'sigmoid'])
def test_pixel_embeddings_times_summed_masks(activation):
    torch.manual_seed(0)
    module = build_representation(mask_activation=activation).eval()
    assert isinstance(module, Mask2FormerRepresentation)
    x = features()
    with torch.no_grad():
        out = module(x)
        # reference: the two Mask2Former outputs computed separately
        pixels, _ = module.mask2former.pixel_decoder(x)
        _, mask_preds = module.mask2former(x, [])
    masks = mask_preds[-1]
    assert masks.shape == (2, 16, 16, 24)
    if activation == 'sigmoid':
        masks = masks.sigmoid()
    expected = torch.einsum('bnhw,bchw->bchw', masks, pixels)
    assert out.shape == (2, 64, 16, 24)
    torch.testing.assert_close(out, expected)


def test_gradients_reach_everything_but_the_classifier():
    module = build_representation()
    module(features()).square().mean().backward()
    frozen = {n for n, p in module.named_parameters() if not p.requires_grad}
    assert frozen == {'mask2former.cls_embed.weight',
                      'mask2former.cls_embed.bias'}
    missing = [n for n, p in module.named_parameters()
               if p.requires_grad and p.grad is None]
    assert not missing, missing


def test_pretrained_head_weights_loaded_after_mmdet_init(tmp_path):
    source = build_representation()
    weights = {f'decode_head.{k}': v.clone() + 1.0
               for k, v in source.mask2former.state_dict().items()}
    weights['backbone.conv1.weight'] = torch.zeros(1)
    path = str(tmp_path / 'm2f.pth')
    torch.save(dict(state_dict=weights), path)
    module = build_representation(pretrained=path)
    module.init_weights()
    for key, value in module.mask2former.state_dict().items():
        torch.testing.assert_close(value, weights[f'decode_head.{key}'])
    torch.save(dict(state_dict={'backbone.x': torch.zeros(1)}), path)
    with pytest.raises(ValueError, match='no decode_head'):
        build_representation(pretrained=path).init_weights()


def test_mmseg_config_name_gives_the_ade20k_swin_s_head():
    init_default_scope('mmseg')
    module = MODELS.build(dict(
        type='Mask2FormerRepresentation',
        mask2former='mmseg::mask2former/'
        'mask2former_swin-s_8xb2-160k_ade20k-512x512.py'))
    assert module.in_channels == [96, 192, 384, 768]
    assert module.out_channels == 256
    assert module.mask2former.num_queries == 100
    assert module.mask2former.cls_embed.out_features == 151


def test_errors(monkeypatch):
    with pytest.raises(ValueError, match='mask_activation'):
        build_representation(mask_activation='softmax')
    head = synthetic_cfg().model.decode_head
    head.in_channels = [64, 128, 256, 256]
    with pytest.raises(ValueError, match='in_channels'):
        MODELS.build(head)
    head = synthetic_cfg().model.decode_head
    head.channels = 32
    with pytest.raises(ValueError, match='out_channels'):
        MODELS.build(head)
    monkeypatch.setitem(sys.modules, 'mmdet', None)
    with pytest.raises(ImportError, match='requirements/optional.txt'):
        build_representation()


def test_mtcp_with_mask2former_trains():
    cfg = synthetic_cfg()
    tasks = ['semseg', 'depth', 'normals']
    cfg.model.decode_head.tasks = tasks
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    data = model.data_preprocessor(random_batch(n=2, h=64, w=64,
                                                tasks=tasks), True)
    totals, losses = fit_steps(model, data, steps=4, lr=1e-3)
    assert totals[-1] < totals[0]
    assert 'head.loss_coherence' in losses
    for task in tasks:
        assert any(k.startswith(f'{task}.loss') for k in losses)


def test_dataset_configs_use_the_ade20k_checkpoint():
    for name in ('mtcp-m2f_swin-s_100e_nyud-480x640.py',
                 'mtcp-m2f_swin-s_100e_pascal-context-512x512.py'):
        cfg = Config.fromfile(osp.join(REPO, 'configs', 'mtcp', name))
        rep = cfg.model.decode_head.shared_representation
        assert cfg.model.neck is None
        assert rep.mask2former.startswith('mmseg::mask2former/')
        assert 'mask2former_swin-s' in rep.pretrained
        assert cfg.model.backbone.init_cfg.checkpoint == rep.pretrained
        assert cfg.model.backbone.init_cfg.prefix == 'backbone.'
        assert list(cfg.model.decode_head.in_channels) == [96, 192, 384, 768]


@pytest.mark.cuda
def test_cuda_deformable_attention_matches_the_cpu_path():
    """On CUDA tensors mmdet's pixel decoder runs mmcv's compiled
    MultiScaleDeformableAttention kernel (forward and backward); on the CPU
    the PyTorch fallback. Same weights, same inputs: same outputs."""
    from mmmtl.utils.precision import tf32_disabled
    torch.manual_seed(0)
    cpu = build_representation().eval()
    gpu = build_representation().eval()
    gpu.load_state_dict(cpu.state_dict())
    gpu.cuda()
    x = features()
    with torch.no_grad():
        ref = cpu(x)
    xs = [t.cuda().requires_grad_() for t in x]
    with tf32_disabled():
        out = gpu(xs)
    torch.testing.assert_close(out.cpu(), ref, rtol=1e-4, atol=1e-4)
    out.square().mean().backward()
    assert all(torch.isfinite(t.grad).all() for t in xs)

"""MT-CP head and its layers: CFM, SRM, pyramid fusion, window decoder."""
import math

import pytest
import torch
import torch.nn.functional as F
from mmseg.registry import MODELS

from mmmtl.models.decode_heads.mtcp_head import MTCPHead
from mmmtl.models.layers.coherence_fusion import (CoherenceFusionModule,
                                                  cosine_coherence_loss,
                                                  cross_task_attention)
from mmmtl.models.layers.dynamic_pyramid_fusion import DynamicPyramidFusion
from mmmtl.models.layers.spatial_refinement import SpatialRefinementModule
from mmmtl.models.layers.window_transformer_decoder import \
    WindowTransformerDecoder
from mmmtl.structures import TASKS, stack_gt
from mmmtl.testing import random_batch, tiny_model_cfg

TASKS3 = ('semseg', 'depth', 'normals')


def tiny_head_cfg(tasks=TASKS3, **kwargs) -> dict:
    cfg = dict(type='MTCPHead', tasks=list(tasks), in_channels=[8, 16, 32, 64],
               in_index=[0, 1, 2, 3], channels=16, window_size=4,
               num_heads=(2, 2, 2),
               num_classes=dict(semseg=4) if 'semseg' in tasks else None,
               cbam_cfg=dict(reduction=4))
    cfg.update(kwargs)
    return cfg


def backbone_feats(b=2, h=32, w=40):
    """Tiny ResNet-like pyramid at strides 4/8/16/32."""
    return [torch.randn(b, c, h // s, w // s)
            for c, s in zip((8, 16, 32, 64), (4, 8, 16, 32))]


# --------------------------------------------------------------------- #
# Coherence loss and attention
# --------------------------------------------------------------------- #
def test_coherence_loss_hand_values():
    x = torch.randn(2, 5, 3, 4)
    assert cosine_coherence_loss(x, 3.0 * x).item() == pytest.approx(
        0.0, abs=1e-6)  # identical directions
    a = torch.tensor([1.0, 0.0]).view(1, 2, 1, 1)
    b = torch.tensor([0.0, 1.0]).view(1, 2, 1, 1)
    assert cosine_coherence_loss(a, b).item() == pytest.approx(1.0)
    assert cosine_coherence_loss(a, -a).item() == pytest.approx(2.0)
    # two pixels: cos = 1 and cos = 1/sqrt(2) -> mean(0, 1 - 1/sqrt 2)
    u = torch.tensor([[1.0, 1.0], [0.0, 0.0]]).view(1, 2, 1, 2)
    v = torch.tensor([[2.0, 1.0], [0.0, 1.0]]).view(1, 2, 1, 2)
    expected = 0.5 * (1 - 1 / math.sqrt(2))
    assert cosine_coherence_loss(u, v).item() == pytest.approx(expected)
    assert cosine_coherence_loss(x, torch.randn_like(x)).item() > 0
    with pytest.raises(ValueError):
        cosine_coherence_loss(x, x[:, :2])


@pytest.mark.parametrize('scale', [1.0, 0.25])
def test_cross_task_attention_matches_explicit(scale):
    q, k = torch.randn(2, 4, 6), torch.randn(2, 4, 5)
    v = torch.randn(2, 3, 5)
    attn = torch.softmax(scale * q.transpose(1, 2) @ k, dim=-1)  # (B,6,5)
    expected = v @ attn.transpose(1, 2)  # (B, 3, 6)
    torch.testing.assert_close(cross_task_attention(q, k, v, scale),
                               expected, rtol=1e-5, atol=1e-5)


def test_cfm_shapes_loss_and_gradients():
    torch.manual_seed(0)
    cfm = CoherenceFusionModule(8, num_aux=2, cbam_cfg=dict(reduction=4))
    main = torch.randn(2, 8, 6, 7, requires_grad=True)
    aux = [torch.randn(2, 8, 6, 7, requires_grad=True) for _ in range(2)]
    out, loss = cfm(main, aux)
    assert out.shape == (2, 8, 6, 7)
    assert loss.ndim == 0 and 0 < loss.item() <= 2
    (out.square().mean() + loss).backward()
    for name, p in cfm.named_parameters():
        assert p.grad is not None, name
    assert main.grad.abs().sum() > 0 and aux[1].grad.abs().sum() > 0
    with pytest.raises(ValueError):
        cfm(main, aux[:1])
    off = CoherenceFusionModule(8, num_aux=1, with_coherence_loss=False)
    assert off(main, aux[:1])[1] is None


def test_cfm_main_branch_activation_option():
    torch.manual_seed(0)
    paper = CoherenceFusionModule(8, num_aux=1, cbam_cfg=dict(reduction=4))
    released = CoherenceFusionModule(8, num_aux=1, main_branch_act=False,
                                     cbam_cfg=dict(reduction=4))
    # Paper: CBAM -> BN -> ReLU; released code: CBAM -> BN.
    assert len(paper.main_branch) == 3 and len(released.main_branch) == 2
    assert isinstance(paper.main_branch[2], torch.nn.ReLU)
    x = torch.randn(2, 8, 5, 6)
    assert (paper.main_branch(x) >= 0).all()
    assert (released.main_branch(x) < 0).any()
    # The query/key branches keep their ReLU either way.
    assert len(released.query_branch) == 3


def test_cfm_fusion_is_released_attention():
    """fuse() == X'_main softmax(Q^T K)^T, optionally scaled."""
    torch.manual_seed(0)
    main, q, k = (torch.randn(1, 4, 3, 5) for _ in range(3))
    for scale_flag, scale in ((False, 1.0), (True, 0.5)):
        cfm = CoherenceFusionModule(4, 1, attn_scale=scale_flag)
        attn = torch.softmax(
            scale * q.flatten(2).transpose(1, 2) @ k.flatten(2), dim=-1)
        expected = (main.flatten(2) @ attn.transpose(1, 2)).view(1, 4, 3, 5)
        torch.testing.assert_close(cfm.fuse(main, q, k), expected,
                                   rtol=1e-5, atol=1e-5)


def test_cfm_coarse_attention():
    torch.manual_seed(0)
    main, q, k = (torch.randn(1, 4, 6, 8) for _ in range(3))
    cfm = CoherenceFusionModule(4, 1, attn_downsample=2)
    kp, vp = F.avg_pool2d(k, 2), F.avg_pool2d(main, 2)
    attn = torch.softmax(q.flatten(2).transpose(1, 2) @ kp.flatten(2), -1)
    expected = (vp.flatten(2) @ attn.transpose(1, 2)).view(1, 4, 6, 8)
    torch.testing.assert_close(cfm.fuse(main, q, k), expected, rtol=1e-5,
                               atol=1e-5)
    both = CoherenceFusionModule(4, 1, attn_downsample=2,
                                 downsample_queries=True)
    assert both.fuse(main, q, k).shape == (1, 4, 6, 8)
    with pytest.raises(ValueError):
        CoherenceFusionModule(4, 1, attn_downsample=0)
    with pytest.raises(ValueError):
        CoherenceFusionModule(4, 0)


def test_cfm_residual_adds_input():
    torch.manual_seed(0)
    cfm = CoherenceFusionModule(4, 1, residual=True).eval()
    plain = CoherenceFusionModule(4, 1).eval()
    plain.load_state_dict(cfm.state_dict())
    main, aux = torch.randn(1, 4, 3, 3), torch.randn(1, 4, 3, 3)
    torch.testing.assert_close(cfm(main, [aux])[0],
                               plain(main, [aux])[0] + main)


# --------------------------------------------------------------------- #
# SRM, pyramid fusion, window decoder
# --------------------------------------------------------------------- #
def test_srm_shapes_and_gradients():
    srm = SpatialRefinementModule(8, 32, 8, next_channels=32,
                                  cbam_cfg=dict(reduction=4))
    x = torch.randn(2, 8, 8, 10, requires_grad=True)
    skip = torch.randn(2, 32, 2, 3, requires_grad=True)
    pred, nxt = srm(x, skip)
    assert pred.shape == (2, 8, 2, 3) and nxt.shape == (2, 32, 2, 3)
    (pred.sum() + nxt.sum()).backward()
    assert x.grad.abs().sum() > 0 and skip.grad.abs().sum() > 0
    for name, p in srm.named_parameters():
        assert p.grad is not None, name
    last = SpatialRefinementModule(8, 16, 8)
    assert last(x, torch.randn(2, 16, 8, 10))[1] is None
    assert last.next_branch is None


def test_dynamic_pyramid_fusion():
    fusion = DynamicPyramidFusion([4, 8, 16], 6)
    feats = [torch.randn(2, 4, 8, 10), torch.randn(2, 8, 4, 5),
             torch.randn(2, 16, 2, 3)]
    out = fusion(feats)
    assert out.shape == (2, 6, 8, 10)
    laterals = [torch.randn(2, 6, 8, 10) for _ in range(3)]
    weights = fusion.scale_weights(laterals)
    assert weights.shape == (2, 3, 8, 10)
    torch.testing.assert_close(weights.sum(dim=1), torch.ones(2, 8, 10))
    with pytest.raises(ValueError):
        fusion(feats[:2])


def test_window_transformer_decoder_shapes():
    dec = WindowTransformerDecoder(16, depths=(1, 2, 1), num_heads=(2, 2, 2),
                                   window_size=4)
    assert dec.out_channels == [16, 32, 64]
    assert [len(s.blocks) for s in dec.stages] == [1, 2, 1]
    outs = dec(torch.randn(2, 16, 8, 10))
    assert [tuple(o.shape) for o in outs] == [(2, 16, 8, 10), (2, 32, 4, 5),
                                              (2, 64, 2, 3)]
    with pytest.raises(ValueError):
        WindowTransformerDecoder(16, num_heads=(3, 2, 2))
    with pytest.raises(ValueError):
        WindowTransformerDecoder(16, depths=(1, 2), num_heads=(2, 2, 2))


# --------------------------------------------------------------------- #
# The head
# --------------------------------------------------------------------- #
def test_head_outputs_train_and_eval():
    torch.manual_seed(0)
    head = MODELS.build(tiny_head_cfg())
    assert isinstance(head, MTCPHead)
    assert head.deep_supervision_weight == 0.5
    out = head(backbone_feats())
    assert {t: tuple(p.shape) for t, p in out.preds.items()} == {
        'semseg': (2, 4, 8, 10), 'depth': (2, 1, 8, 10),
        'normals': (2, 3, 8, 10)}
    assert all(f.shape == (2, 16, 8, 10) for f in out.feats.values())
    assert out.feat_strides == {t: 4 for t in TASKS3}
    ds = out.deep_supervision
    assert sorted(ds) == ['srm1', 'srm2']
    assert ds['srm1']['depth'].shape == (2, 1, 2, 3)  # 1/16
    assert ds['srm2']['normals'].shape == (2, 3, 4, 5)  # 1/8
    assert set(out.extra_losses) == {'loss_coherence'}
    head.eval()
    with torch.no_grad():
        out = head(backbone_feats())
    assert not out.deep_supervision and not out.extra_losses
    assert out.preds['semseg'].shape == (2, 4, 8, 10)


def test_head_coherence_loss_is_weighted_mean_of_cfms():
    torch.manual_seed(0)
    head = MODELS.build(tiny_head_cfg(coherence_loss_weight=0.3))
    captured = []
    for t in TASKS3:
        head.cfms[t].register_forward_hook(
            lambda m, i, o: captured.append(o[1].detach()))
    out = head(backbone_feats())
    expected = 0.3 * torch.stack(captured).mean()
    torch.testing.assert_close(out.extra_losses['loss_coherence'],
                               expected)


@pytest.mark.parametrize('kwargs,has_ds,has_coh', [
    (dict(use_cfm=False), True, False),
    (dict(use_srm=False), False, True),
    (dict(use_cfm=False, use_srm=False), False, False),
    (dict(coherence_loss=False), True, False),
])
def test_head_ablations(kwargs, has_ds, has_coh):
    head = MODELS.build(tiny_head_cfg(**kwargs))
    out = head(backbone_feats())
    assert bool(out.deep_supervision) == has_ds
    assert bool(out.extra_losses) == has_coh
    assert out.preds['depth'].shape == (2, 1, 8, 10)
    assert hasattr(head, 'cfms') == kwargs.get('use_cfm', True)


def test_head_rejects_bad_config():
    with pytest.raises(ValueError, match='use_cfm'):
        MODELS.build(tiny_head_cfg(tasks=('depth', )))
    MODELS.build(tiny_head_cfg(tasks=('depth', ), use_cfm=False))
    with pytest.raises(ValueError, match='cfm_cfg'):
        MODELS.build(tiny_head_cfg(cfm_cfg=dict(scale=True)))
    with pytest.raises(ValueError, match='coherence_loss_weight'):
        MODELS.build(tiny_head_cfg(coherence_loss_weight=-1))


def test_segmentor_losses_and_all_parameters_trained():
    """Loss keys, 0.5-weighted own-task intermediate losses, full grads."""
    torch.manual_seed(0)
    model = MODELS.build(tiny_model_cfg(tasks=TASKS3,
                                        decode_head=tiny_head_cfg()))
    model.train()
    data = model.data_preprocessor(random_batch(tasks=TASKS3), True)
    losses = model.loss(data['inputs'], data['data_samples'])
    head = model.decode_head
    for t in TASKS3:
        name = head.losses[t].loss_name
        assert f'{t}.{name}' in losses
        assert f'{t}.{name}_srm1' in losses and f'{t}.{name}_srm2' in losses
    assert 'head.loss_coherence' in losses
    # intermediate normals use the normals loss, weighted 0.5 (a second
    # forward is identical: train-mode BN on the same batch, no dropout)
    with torch.no_grad():
        outputs = head(model.extract_feat(data['inputs']))
    gt = stack_gt(data['data_samples'], TASKS['normals'])
    name = head.losses['normals'].loss_name
    for ds in ('srm1', 'srm2'):
        expected = 0.5 * head.task_loss(
            'normals', outputs.deep_supervision[ds]['normals'], gt)
        torch.testing.assert_close(losses[f'normals.{name}_{ds}'].detach(),
                                   expected)
    # every parameter receives a gradient (DDP without unused parameters)
    total = sum(v for k, v in losses.items() if 'loss' in k)
    total.backward()
    missing = [n for n, p in model.named_parameters()
               if p.requires_grad and p.grad is None]
    assert not missing, missing


@pytest.mark.parametrize('weight_ds', [True, False])
def test_task_weights_and_deep_supervision(weight_ds):
    """Eq. (7): with weight_deep_supervision=False the LPS weight scales
    only the final prediction's loss."""
    torch.manual_seed(0)
    model = MODELS.build(tiny_model_cfg(
        tasks=TASKS3, decode_head=tiny_head_cfg(),
        task_weights=dict(depth=3.0), weight_deep_supervision=weight_ds))
    model.train()  # same batch, no dropout: both forwards match
    data = model.data_preprocessor(random_batch(tasks=TASKS3), True)
    weighted = model.loss(data['inputs'], data['data_samples'])
    model.task_weights['depth'] = 1.0
    plain = model.loss(data['inputs'], data['data_samples'])
    torch.testing.assert_close(weighted['depth.loss_l1'],
                               3.0 * plain['depth.loss_l1'])
    for ds in ('srm1', 'srm2'):
        key = f'depth.loss_l1_{ds}'
        factor = 3.0 if weight_ds else 1.0
        torch.testing.assert_close(weighted[key], factor * plain[key])
        torch.testing.assert_close(weighted[f'semseg.loss_ce_{ds}'],
                                   plain[f'semseg.loss_ce_{ds}'])


def test_predict_returns_every_task():
    model = MODELS.build(tiny_model_cfg(tasks=TASKS3,
                                        decode_head=tiny_head_cfg()))
    model.eval()
    data = model.data_preprocessor(random_batch(tasks=TASKS3), False)
    with torch.no_grad():
        samples = model.predict(data['inputs'], data['data_samples'])
    assert samples[0].get_pred('semseg').data.shape == (1, 32, 40)
    assert samples[0].get_pred('normals').data.shape == (3, 32, 40)

"""CTALHead: shapes, deep supervision, resolution handling, training."""
import copy

import pytest
import torch
from mmseg.registry import MODELS

from mmmtl.models.decode_heads.ctal_head import CTALHead, resolve_grid
from mmmtl.models.segmentors.multitask_encoder_decoder import \
    MultiTaskEncoderDecoder  # noqa: F401  (registers)
from mmmtl.testing import fit_steps, random_batch, tiny_model_cfg

TASKS = ['semseg', 'depth', 'normals']
IN_CHANNELS = [8, 16, 32, 64]


def _head_cfg(**kwargs):
    cfg = dict(type='CTALHead', tasks=TASKS, in_channels=IN_CHANNELS,
               in_index=[0, 1, 2, 3], channels=8, crop_size=(32, 64),
               distill_stride=8, num_classes=dict(semseg=4))
    cfg.update(kwargs)
    return cfg


def _features(batch=2, h=32, w=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(batch, c, h // s, w // s, generator=g)
            for c, s in zip(IN_CHANNELS, (4, 8, 16, 32))]


@pytest.mark.parametrize('multi_scale', [False, True])
def test_shapes_deep_supervision_and_gradients(multi_scale):
    head = MODELS.build(_head_cfg(multi_scale=multi_scale))
    assert isinstance(head, CTALHead)
    head.train()
    out = head(_features())
    assert set(out.preds) == set(TASKS)
    assert out.preds['semseg'].shape == (2, 4, 4, 8)
    assert out.preds['normals'].shape == (2, 3, 4, 8)
    assert out.feats['depth'].shape == (2, 8, 4, 8)
    assert out.feat_strides == {t: 8 for t in TASKS}
    expected_ds = {'initial_s4', 'initial_s8', 'initial_s16',
                   'initial_s32'} if multi_scale else {'initial'}
    assert set(out.deep_supervision) == expected_ds
    for name, preds in out.deep_supervision.items():
        assert set(preds) == set(TASKS)
        assert preds['semseg'].shape[1] == 4
    if multi_scale:
        assert out.deep_supervision['initial_s16']['depth'].shape == \
            (2, 1, 2, 4)
    loss = sum(p.square().mean() for p in out.preds.values()) + sum(
        p.square().mean() for d in out.deep_supervision.values()
        for p in d.values())
    loss.backward()
    no_grad = [n for n, p in head.named_parameters() if p.grad is None]
    assert no_grad == []
    head.eval()
    with torch.no_grad():
        out = head(_features())
    assert not out.deep_supervision


def test_grouped_conv_sizes_follow_the_grid():
    head = MODELS.build(_head_cfg(kernel_size=3))
    # grid 4 x 8 = 32 positions, N = 3, f = 3
    for conv in head.ctal.fusion.values():
        assert tuple(conv.weight.shape) == (32, 3, 3, 3)
        assert conv.bias.numel() == 32
    assert len(head.ctal.fusion) == 3
    head = MODELS.build(_head_cfg(shared_fusion=True))
    assert list(head.ctal.fusion) == ['shared']


def test_released_wrapper_upsamples_and_reduces_channels():
    head = MODELS.build(_head_cfg(released_wrapper=True, wrapper_channels=4))
    # conv_in: 1x1, 8 -> 4 per task; conv_out: ConvTranspose(2, 2) -> BN ->
    # ReLU -> 3x3 conv, as the released EMA-Net model.
    assert tuple(head.conv_in['depth'].weight.shape) == (4, 8, 1, 1)
    up, norm, act, conv = head.conv_out['depth']
    assert isinstance(up, torch.nn.ConvTranspose2d)
    assert up.kernel_size == (2, 2) and up.stride == (2, 2)
    assert isinstance(norm, torch.nn.BatchNorm2d)
    assert isinstance(act, torch.nn.ReLU)
    assert conv.kernel_size == (3, 3) and conv.out_channels == 4
    # The CTAL module works at the distillation grid with 4 channels.
    assert head.ctal.channels == 4
    head.train()
    out = head(_features())
    # Predictions at twice the distillation resolution (stride 8 -> 4).
    assert out.preds['semseg'].shape == (2, 4, 8, 16)
    assert out.feats['depth'].shape == (2, 4, 8, 16)
    assert out.feat_strides == {t: 4 for t in TASKS}
    sum(p.square().mean() for p in out.preds.values()).backward()
    assert head.conv_in['semseg'].weight.grad is not None
    # Default: the paper's head, no wrapper.
    assert not hasattr(MODELS.build(_head_cfg()), 'conv_in')
    with pytest.raises(ValueError, match='wrapper_channels'):
        MODELS.build(_head_cfg(wrapper_channels=4))


def test_grid_configuration_errors():
    assert resolve_grid((288, 384), None, 4) == (72, 96)
    assert resolve_grid((288, 384), None, 6) == (48, 64)
    assert resolve_grid(None, (36, 48), 8) == (36, 48)
    with pytest.raises(ValueError, match='does not match the training crop'):
        MODELS.build(_head_cfg(grid_size=(8, 16)))
    with pytest.raises(ValueError, match='not divisible by distill_stride'):
        MODELS.build(_head_cfg(crop_size=(30, 64)))
    with pytest.raises(ValueError, match='give crop_size'):
        MODELS.build(_head_cfg(crop_size=None))


def test_memory_efficient_head_matches_dense():
    torch.manual_seed(0)
    dense = MODELS.build(_head_cfg()).eval()
    chunked = MODELS.build(_head_cfg(memory_efficient=True, chunk_size=5))
    chunked.load_state_dict(dense.state_dict())
    chunked.eval()
    feats = _features()
    with torch.no_grad():
        a, b = dense(feats), chunked(feats)
    for t in TASKS:
        torch.testing.assert_close(b.preds[t], a.preds[t], rtol=1e-5,
                                   atol=1e-5)


def _model(**head_kwargs):
    return MODELS.build(tiny_model_cfg(
        tasks=TASKS, decode_head=_head_cfg(**head_kwargs)))


def test_predicts_at_other_sizes_whole_and_slide():
    torch.manual_seed(0)
    model = _model().eval()
    for h, w in ((64, 96), (32, 64)):
        data = model.data_preprocessor(random_batch(n=1, h=h, w=w,
                                                    tasks=TASKS), False)
        with torch.no_grad():
            res = model.predict(data['inputs'], data['data_samples'])
        assert res[0].pred_sem_seg.data.shape == (1, h, w)
        assert res[0].pred_normals.data.shape == (3, h, w)
    slide = copy.deepcopy(model)
    slide.test_cfg = dict(mode='slide', crop_size=(32, 64), stride=(32, 32))
    data = model.data_preprocessor(random_batch(n=1, h=64, w=96,
                                                tasks=TASKS), False)
    with torch.no_grad():
        res = slide.predict(data['inputs'], data['data_samples'])
    assert res[0].pred_depth_map.data.shape == (1, 64, 96)


@pytest.mark.parametrize('kwargs', [
    dict(),
    dict(multi_scale=True, memory_efficient=True, chunk_size=7,
         shared_fusion=True, scale_by_hw=True),
])
def test_trains_in_segmentor_and_loss_decreases(kwargs):
    torch.manual_seed(0)
    model = _model(crop_size=(32, 32), **kwargs)
    data = model.data_preprocessor(
        random_batch(n=2, h=32, w=32, tasks=TASKS), training=True)
    totals, losses = fit_steps(model, data)
    ds = 'initial_s4' if kwargs.get('multi_scale') else 'initial'
    assert f'semseg.loss_ce_{ds}' in losses
    assert totals[-1] < 0.95 * totals[0], totals

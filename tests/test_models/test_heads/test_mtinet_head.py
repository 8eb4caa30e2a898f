"""MTINetHead and the shared multi-scale building blocks."""
import pytest
import torch
from mmseg.registry import MODELS

from mmmtl.models.decode_heads.mtinet_head import MTINetHead
from mmmtl.models.layers import (Bottleneck, CrossScaleFusion,
                                 FeaturePropagation, PredictionHead)
from mmmtl.models.segmentors.multitask_encoder_decoder import \
    MultiTaskEncoderDecoder  # noqa: F401  (registers)
from mmmtl.testing import fit_steps, random_batch, tiny_model_cfg

TASKS = ['semseg', 'depth', 'normals']
IN_CHANNELS = [8, 16, 32, 64]


def _head_cfg(**kwargs):
    cfg = dict(type='MTINetHead', tasks=TASKS, in_channels=IN_CHANNELS,
               in_index=[0, 1, 2, 3], channels=8,
               num_classes=dict(semseg=4))
    cfg.update(kwargs)
    return cfg


def _features(batch=2, h=32, w=64):
    g = torch.Generator().manual_seed(0)
    return [torch.randn(batch, c, h // s, w // s, generator=g)
            for c, s in zip(IN_CHANNELS, (4, 8, 16, 32))]


def test_bottleneck_residual_and_blocks():
    block = Bottleneck(8, 8).eval()
    x = torch.randn(1, 8, 4, 4)
    inner = block.conv3(block.conv2(block.conv1(x)))
    torch.testing.assert_close(block(x), torch.relu(inner + x))
    assert isinstance(Bottleneck(4, 8).shortcut, torch.nn.Module)
    head = PredictionHead(4, 8, 3)
    feat, pred = head(torch.randn(1, 4, 5, 6))
    assert feat.shape == (1, 8, 5, 6) and pred.shape == (1, 3, 5, 6)
    assert head(torch.randn(1, 4, 5, 6), predict=False)[1] is None
    fusion = CrossScaleFusion([2, 3], 4)
    assert fusion([torch.randn(1, 2, 4, 4), torch.randn(1, 3, 2, 2)],
                  (6, 6)).shape == (1, 4, 6, 6)
    fpm = FeaturePropagation(['a', 'b'], 4)
    out = fpm({t: torch.randn(1, 4, 3, 3) for t in 'ab'})
    assert out['a'].shape == (1, 4, 3, 3)


@pytest.mark.parametrize('feature_propagation', [True, False])
def test_shapes_deep_supervision_and_gradients(feature_propagation):
    head = MODELS.build(_head_cfg(feature_propagation=feature_propagation))
    assert isinstance(head, MTINetHead)
    head.train()
    out = head(_features())
    assert out.preds['semseg'].shape == (2, 4, 8, 16)
    assert out.feats['normals'].shape == (2, 8, 8, 16)
    assert out.feat_strides == {t: 4 for t in TASKS}
    ds = out.deep_supervision
    assert set(ds) == {'initial_s4', 'initial_s8', 'initial_s16',
                       'initial_s32'}
    assert ds['initial_s32']['depth'].shape == (2, 1, 1, 2)
    assert ds['initial_s8']['semseg'].shape == (2, 4, 4, 8)
    loss = sum(p.mean() for p in out.preds.values()) + sum(
        p.mean() for d in ds.values() for p in d.values())
    loss.backward()
    assert [n for n, p in head.named_parameters() if p.grad is None] == []
    head.eval()
    with torch.no_grad():
        assert not head(_features()).deep_supervision


def test_feature_propagation_adds_inputs_to_finer_heads():
    with_fpm = MODELS.build(_head_cfg())
    without = MODELS.build(_head_cfg(feature_propagation=False))
    first = with_fpm.initial.heads[0]['depth'].blocks[0].conv1.conv
    assert first.in_channels == 8 + 8  # backbone + propagated features
    assert with_fpm.initial.heads[3]['depth'].blocks[0].conv1.conv \
        .in_channels == 64
    assert without.initial.heads[0]['depth'].blocks[0].conv1.conv \
        .in_channels == 8
    assert len(with_fpm.initial.propagation) == 3


def test_trains_in_segmentor_and_loss_decreases():
    torch.manual_seed(0)
    tasks = ['semseg', 'depth']  # two tasks keep the test fast
    model = MODELS.build(tiny_model_cfg(
        tasks=tasks, decode_head=_head_cfg(tasks=tasks)))
    data = model.data_preprocessor(
        random_batch(n=2, h=32, w=32, tasks=tasks), training=True)
    totals, losses = fit_steps(model, data)
    assert 'semseg.loss_ce_initial_s16' in losses
    assert totals[-1] < 0.95 * totals[0], totals

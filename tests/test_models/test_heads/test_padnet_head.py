"""PADNetHead and the multi-modal distillation module."""
import pytest
import torch
from mmseg.registry import MODELS

from mmmtl.models.decode_heads.padnet_head import PADNetHead
from mmmtl.models.layers.multi_modal_distillation import \
    MultiModalDistillation
from mmmtl.models.segmentors.multitask_encoder_decoder import \
    MultiTaskEncoderDecoder  # noqa: F401  (registers)
from mmmtl.testing import fit_steps, random_batch, tiny_model_cfg

TASKS = ['semseg', 'depth', 'edge']
IN_CHANNELS = [8, 16, 32, 64]


def _head_cfg(**kwargs):
    cfg = dict(type='PADNetHead', tasks=TASKS, in_channels=IN_CHANNELS,
               in_index=[0, 1, 2, 3], channels=8, distill_stride=4,
               num_classes=dict(semseg=4))
    cfg.update(kwargs)
    return cfg


def _features(batch=2, h=32, w=64):
    g = torch.Generator().manual_seed(0)
    return [torch.randn(batch, c, h // s, w // s, generator=g)
            for c, s in zip(IN_CHANNELS, (4, 8, 16, 32))]


def test_distillation_matches_formula():
    torch.manual_seed(0)
    module = MultiModalDistillation(['a', 'b', 'c'], 2)
    x = {t: torch.randn(1, 2, 3, 3) for t in 'abc'}
    out = module(x)
    for dst in 'abc':
        expected = x[dst].clone()
        for src in 'abc':
            if src == dst:
                continue
            key = f'{src}_to_{dst}'
            expected += torch.sigmoid(module.attention[key](x[src])) * \
                module.message[key](x[src])
        torch.testing.assert_close(out[dst], expected)
    # 3 tasks -> 6 ordered pairs, two 3x3 convs each
    assert len(module.attention) == len(module.message) == 6
    single = MultiModalDistillation(['a'], 2)
    assert single(dict(a=x['a']))['a'] is x['a']


@pytest.mark.parametrize('stride', [4, 8])
def test_shapes_gradients_and_deep_supervision(stride):
    head = MODELS.build(_head_cfg(distill_stride=stride))
    assert isinstance(head, PADNetHead)
    head.train()
    out = head(_features())
    h, w = 32 // stride, 64 // stride
    assert out.preds['semseg'].shape == (2, 4, h, w)
    assert out.preds['depth'].shape == (2, 1, h, w)
    assert out.feats['edge'].shape == (2, 8, h, w)
    assert out.feat_strides == {t: stride for t in TASKS}
    assert set(out.deep_supervision['initial']) == set(TASKS)
    loss = sum(p.mean() for p in out.preds.values()) + sum(
        p.mean() for p in out.deep_supervision['initial'].values())
    loss.backward()
    assert [n for n, p in head.named_parameters() if p.grad is None] == []
    head.eval()
    with torch.no_grad():
        assert not head(_features()).deep_supervision


def test_bad_config():
    with pytest.raises(ValueError, match='in_strides'):
        MODELS.build(_head_cfg(in_strides=(4, 8)))


def test_trains_in_segmentor_and_loss_decreases():
    torch.manual_seed(0)
    model = MODELS.build(tiny_model_cfg(tasks=TASKS,
                                        decode_head=_head_cfg()))
    data = model.data_preprocessor(
        random_batch(n=2, h=32, w=32, tasks=TASKS), training=True)
    totals, losses = fit_steps(model, data)
    assert 'edge.loss_bce_initial' in losses
    assert totals[-1] < 0.95 * totals[0], totals

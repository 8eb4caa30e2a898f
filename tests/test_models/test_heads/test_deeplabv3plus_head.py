"""DeepLabV3PlusHead: shared / per-task DeepLab-v3+ decoders."""
import pytest
import torch
from mmseg.models.utils import resize
from mmseg.registry import MODELS

from mmmtl.models.decode_heads.deeplabv3plus_head import DeepLabV3PlusHead
from mmmtl.models.layers.deeplabv3plus_decoder import DeepLabV3PlusDecoder
from mmmtl.models.segmentors.multitask_encoder_decoder import \
    MultiTaskEncoderDecoder  # noqa: F401  (registers)
from mmmtl.testing import fit_steps, random_batch, tiny_model_cfg

GN = dict(type='GN', num_groups=4, requires_grad=True)


def head_cfg(**kwargs):
    cfg = dict(type='DeepLabV3PlusHead', tasks=['semseg', 'depth'],
               in_channels=(8, 64), in_index=(0, 3), channels=16,
               c1_channels=8, num_classes=dict(semseg=4), norm_cfg=GN,
               dropout_ratio=0.0)
    cfg.update(kwargs)
    return cfg


def features():
    g = torch.Generator().manual_seed(0)
    return [torch.randn(2, c, 32 // s, 48 // s, generator=g)
            for c, s in zip((8, 16, 32, 64), (4, 8, 16, 32))]


def test_decoder_is_aspp_then_low_level_fusion():
    torch.manual_seed(0)
    decoder = DeepLabV3PlusDecoder(8, 64, channels=16, c1_channels=8,
                                   norm_cfg=GN).eval()
    low, high = features()[0], features()[3]
    context = resize(decoder.aspp(high), size=low.shape[2:],
                     mode='bilinear', align_corners=False)
    expected = decoder.fuse(torch.cat([context, decoder.c1_reduce(low)], 1))
    out = decoder(low, high)
    assert out.shape == (2, 16, 8, 12)
    torch.testing.assert_close(out, expected)


@pytest.mark.parametrize('shared', [True, False])
def test_shapes_sharing_and_gradients(shared):
    head = MODELS.build(head_cfg(shared_decoder=shared))
    assert isinstance(head, DeepLabV3PlusHead)
    assert len(head.decoders) == (1 if shared else 2)
    out = head(features())
    assert out.preds['semseg'].shape == (2, 4, 8, 12)
    assert out.preds['depth'].shape == (2, 1, 8, 12)
    assert out.feats['semseg'].shape == (2, 16, 8, 12)
    assert out.feat_strides == dict(semseg=4, depth=4)
    # shared: the tasks branch at one feature map (CompL)
    assert (out.feats['semseg'] is out.feats['depth']) == shared
    out.preds['depth'].sum().backward()
    depth_decoder = head.decoders['shared' if shared else 'depth']
    assert all(p.grad is not None for p in depth_decoder.parameters())
    assert head.predictors['semseg'].weight.grad is None


def test_needs_low_and_high_level_inputs():
    with pytest.raises(ValueError, match='two inputs'):
        MODELS.build(head_cfg(in_channels=64, in_index=3))
    with pytest.raises(ValueError, match='in_channels'):
        MODELS.build(head_cfg(in_channels=(8, 16, 64)))


def test_trains_in_the_segmentor():
    torch.manual_seed(0)
    tasks = ['semseg', 'depth']
    cfg = tiny_model_cfg(tasks)
    cfg['decode_head'] = head_cfg()
    model = MODELS.build(cfg)
    data = model.data_preprocessor(random_batch(n=2, h=32, w=48,
                                                tasks=tasks), True)
    totals, losses = fit_steps(model, data, steps=5)
    assert totals[-1] < totals[0]
    assert {'semseg.loss_ce', 'depth.loss_l1'} <= set(losses)

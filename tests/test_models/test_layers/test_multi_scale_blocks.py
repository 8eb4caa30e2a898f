"""The final-head blocks: DeepLab-style ASPP and its prediction head, the
builder, and the heads' ``final_head`` option."""
import pytest
import torch
from mmseg.registry import MODELS

import mmmtl.models.decode_heads.ctal_head  # noqa: F401
import mmmtl.models.decode_heads.padnet_head  # noqa: F401
import mmmtl.models.decode_heads.papnet_head  # noqa: F401
from mmmtl.models.layers.multi_scale_blocks import (ASPPBlock,
                                                    ASPPPredictionHead,
                                                    build_final_head)


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

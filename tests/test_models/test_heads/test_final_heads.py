"""build_final_heads: the distillation heads' ``final_head`` config."""
import pytest
import torch
from mmseg.registry import MODELS

import mmmtl.models.decode_heads.ctal_head  # noqa: F401
import mmmtl.models.decode_heads.padnet_head  # noqa: F401
import mmmtl.models.decode_heads.papnet_head  # noqa: F401


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
    head = MODELS.build(dict(kw, final_head=dict(type='ASPPPredictionHead',
                                                 dilations=(1, 2))))
    assert type(head.final['depth']).__name__ == 'ASPPPredictionHead'
    # only the final heads differ
    strip = {k for k in head.state_dict() if not k.startswith('final.')}
    assert strip == {k for k in default.state_dict()
                     if not k.startswith('final.')}
    head.train()
    out = head([torch.randn(2, 8, 8, 10), torch.randn(2, 16, 4, 5)])
    stride = kw.get('distill_stride', 4)
    size = (32 // stride, 40 // stride)
    assert out.preds['semseg'].shape == (2, 5, *size)
    assert out.feats['depth'].shape == (2, 8, *size)
    assert set(out.deep_supervision['initial']) == {'semseg', 'depth'}
    with pytest.raises(TypeError, match="final_head must be a config dict"):
        MODELS.build(dict(kw, final_head='aspp'))
    with pytest.raises(KeyError, match='Deeplab'):
        MODELS.build(dict(kw, final_head=dict(type='Deeplab')))
    with pytest.raises(ValueError, match="sets 'out_channels'"):
        MODELS.build(dict(kw, final_head=dict(type='PredictionHead',
                                              out_channels=3)))

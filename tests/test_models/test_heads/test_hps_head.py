"""HPSHead's per-task decoders (registered modules built from a config):
ConvTaskDecoder (default), ResidualTaskDecoder, ASPPBlock."""
import pytest
import torch

from mmmtl.models.decode_heads.hps_head import HPSHead


def test_hps_head_decoders():
    kw = dict(tasks=['semseg', 'depth'], in_channels=[8, 16], in_index=[0, 1],
              channels=8, num_classes=dict(semseg=5))
    inputs = [torch.randn(2, 8, 8, 10), torch.randn(2, 16, 4, 5)]
    for kind in ('ConvTaskDecoder', 'ResidualTaskDecoder', 'ASPPBlock'):
        head = HPSHead(decoder=dict(type=kind), **kw)
        assert type(head.decoders['depth']).__name__ == kind
        out = head(inputs)
        assert out.preds['semseg'].shape == (2, 5, 8, 10)
        assert out.feats['depth'].shape == (2, 8, 8, 10)
    # ConvTaskDecoder (default): 1x1 reduction, then num_convs - 1 convs
    default = HPSHead(**kw).decoders['semseg']
    assert [m.conv.kernel_size for m in default] == [(1, 1), (3, 3)]
    three = HPSHead(decoder=dict(type='ConvTaskDecoder', num_convs=3,
                                 kernel_size=5), **kw).decoders['semseg']
    assert [m.conv.kernel_size for m in three] == [(1, 1), (5, 5), (5, 5)]
    head = HPSHead(decoder=dict(type='ResidualTaskDecoder'), **kw)
    # 3x3 fusion conv then two bottlenecks
    assert head.decoders['semseg'][0].conv.kernel_size == (3, 3)
    blocks = list(head.decoders['semseg'])[1:]
    assert [type(m).__name__ for m in blocks] == ['Bottleneck', 'Bottleneck']
    with pytest.raises(TypeError, match='decoder must be a config dict'):
        HPSHead(decoder='residual', **kw)
    with pytest.raises(ValueError, match="sets 'channels'"):
        HPSHead(decoder=dict(type='ASPPBlock', channels=4), **kw)
    with pytest.raises(ValueError, match='num_convs must be >= 1'):
        HPSHead(decoder=dict(type='ConvTaskDecoder', num_convs=0), **kw)

"""HPSHead's per-task decoders: conv (default), residual, ASPP."""
import pytest
import torch

from mmmtl.models.decode_heads.hps_head import HPSHead


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

"""ASPPBlock: MMSegmentation's ASPP branches, image pooling and bottleneck."""
import pytest
import torch

from mmmtl.models.layers import ASPPBlock


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

"""ASPPPredictionHead (ASPPBlock + 1x1 conv) against a functional DeepLab-v3
reference that reads the head's checkpoint keys."""
import torch
import torch.nn.functional as F
from mmseg.registry import MODELS

from mmmtl.models.layers import ASPPBlock, ASPPPredictionHead


def _conv_bn_relu(sd, prefix, x, padding=0, dilation=1):
    x = F.conv2d(x, sd[f'{prefix}.conv.weight'], padding=padding,
                 dilation=dilation)
    x = F.batch_norm(x, sd[f'{prefix}.bn.running_mean'],
                     sd[f'{prefix}.bn.running_var'], sd[f'{prefix}.bn.weight'],
                     sd[f'{prefix}.bn.bias'], eps=1e-5)
    return F.relu(x)


def test_aspp_prediction_head_matches_reference_on_its_checkpoint_keys():
    torch.manual_seed(0)
    head = MODELS.build(dict(type='ASPPPredictionHead', in_channels=6,
                             channels=4, out_channels=3, dilations=(1, 2)))
    g = torch.Generator().manual_seed(1)
    for name, tensor in head.state_dict().items():
        if tensor.dtype.is_floating_point:
            tensor.copy_(torch.rand(tensor.shape, generator=g) + 0.5
                         if 'running_var' in name else
                         torch.randn(tensor.shape, generator=g) * 0.3)
    head.eval()
    sd = head.state_dict()
    x = torch.randn(2, 6, 5, 7)
    pooled = _conv_bn_relu(sd, 'aspp.image_pool.1',
                           x.mean(dim=(2, 3), keepdim=True))
    branches = [pooled.expand(-1, -1, 5, 7),
                _conv_bn_relu(sd, 'aspp.aspp.0', x),  # dilation 1: 1x1
                _conv_bn_relu(sd, 'aspp.aspp.1', x, padding=2, dilation=2)]
    feat = _conv_bn_relu(sd, 'aspp.bottleneck', torch.cat(branches, 1),
                         padding=1)
    pred = F.conv2d(feat, sd['predictor.weight'], sd['predictor.bias'])
    with torch.no_grad():
        out_feat, out_pred = head(x)
    torch.testing.assert_close(out_feat, feat, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(out_pred, pred, rtol=1e-5, atol=1e-5)
    assert isinstance(head.aspp, ASPPBlock)
    assert isinstance(head, ASPPPredictionHead)


def test_aspp_prediction_head_is_registered():
    torch.manual_seed(0)
    head = ASPPPredictionHead(6, 4, 3, dilations=(1, 2)).eval()
    x = torch.randn(1, 6, 5, 7)
    feat, pred = head(x)
    assert feat.shape == (1, 4, 5, 7) and pred.shape == (1, 3, 5, 7)
    torch.testing.assert_close(pred, head.predictor(feat))
    assert head(x, predict=False)[1] is None
    built = MODELS.build(dict(type='ASPPPredictionHead', in_channels=6,
                              channels=4, out_channels=3, dilations=(1, 2)))
    assert type(built) is ASPPPredictionHead

"""PredictionHead and Bottleneck against a functional reference that reads
the checkpoint keys of the heads' final / initial predictions."""
import torch
import torch.nn.functional as F
from mmseg.registry import MODELS

from mmmtl.models.layers import Bottleneck, PredictionHead


def _conv_bn(sd, prefix, x, padding=0, relu=True):
    """ConvModule (conv without bias, eval-mode BN, optional ReLU)."""
    x = F.conv2d(x, sd[f'{prefix}.conv.weight'], padding=padding)
    x = F.batch_norm(x, sd[f'{prefix}.bn.running_mean'],
                     sd[f'{prefix}.bn.running_var'], sd[f'{prefix}.bn.weight'],
                     sd[f'{prefix}.bn.bias'], eps=1e-5)
    return F.relu(x) if relu else x


def _bottleneck(sd, prefix, x):
    y = _conv_bn(sd, f'{prefix}.conv1', x)
    y = _conv_bn(sd, f'{prefix}.conv2', y, padding=1)
    y = _conv_bn(sd, f'{prefix}.conv3', y, relu=False)
    short = _conv_bn(sd, f'{prefix}.shortcut', x, relu=False) \
        if f'{prefix}.shortcut.conv.weight' in sd else x
    return F.relu(y + short)


def _randomize(module):
    """Non-trivial BN statistics and affine parameters."""
    g = torch.Generator().manual_seed(1)
    for name, tensor in module.state_dict().items():
        if tensor.dtype.is_floating_point:
            tensor.copy_(torch.rand(tensor.shape, generator=g) + 0.5
                         if 'running_var' in name else
                         torch.randn(tensor.shape, generator=g) * 0.3)
    return module.eval()


def test_prediction_head_matches_reference_on_its_checkpoint_keys():
    torch.manual_seed(0)
    head = _randomize(MODELS.build(dict(
        type='PredictionHead', in_channels=6, channels=8, out_channels=3)))
    sd = head.state_dict()
    assert 'blocks.0.shortcut.conv.weight' in sd  # 6 -> 8 projection
    assert 'blocks.1.shortcut.conv.weight' not in sd  # identity
    x = torch.randn(2, 6, 5, 7)
    feat = _bottleneck(sd, 'blocks.1', _bottleneck(sd, 'blocks.0', x))
    pred = F.conv2d(feat, sd['predictor.weight'], sd['predictor.bias'])
    with torch.no_grad():
        out_feat, out_pred = head(x)
    torch.testing.assert_close(out_feat, feat, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(out_pred, pred, rtol=1e-5, atol=1e-5)
    assert head(x, predict=False)[1] is None


def test_bottleneck_is_registered_and_uses_act_cfg():
    block = MODELS.build(dict(type='Bottleneck', in_channels=8,
                              out_channels=8, act_cfg=dict(type='ReLU')))
    assert isinstance(block, Bottleneck)
    assert isinstance(PredictionHead(4, 8, 3).blocks[0], Bottleneck)

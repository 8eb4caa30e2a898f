"""CBAM against a straightforward re-implementation; shapes and gradients."""
import pytest
import torch

from mmmtl.models.layers.cbam import CBAM


def reference_cbam(module: CBAM, x: torch.Tensor,
                   batch_norm: bool = False) -> torch.Tensor:
    """CBAM written out with explicit matrix products (1x1 spatial conv);
    with ``batch_norm`` the spatial logits are standardised over the batch
    (training mode, biased variance, eps 1e-5) and scaled by the norm's
    affine parameters, as the released CBAM's spatial gate does."""
    w1 = module.channel_gate.mlp[0].weight[:, :, 0, 0]  # (hidden, C)
    b1 = module.channel_gate.mlp[0].bias
    w2 = module.channel_gate.mlp[2].weight[:, :, 0, 0]  # (C, hidden)
    b2 = module.channel_gate.mlp[2].bias

    def mlp(v):  # v: (B, C)
        return torch.relu(v @ w1.T + b1) @ w2.T + b2

    avg = x.mean(dim=(2, 3))
    mx = x.flatten(2).max(dim=2).values
    gate_c = torch.sigmoid(mlp(avg) + mlp(mx))[:, :, None, None]
    y = x * gate_c
    ws = module.spatial_gate.conv.weight[0, :, 0, 0]  # (2,)
    logits = ws[0] * y.mean(dim=1, keepdim=True) + \
        ws[1] * y.max(dim=1, keepdim=True).values
    if batch_norm:
        norm = module.spatial_gate.norm
        mean = logits.mean()
        var = ((logits - mean)**2).mean()
        logits = (logits - mean) / torch.sqrt(var + 1e-5) * norm.weight + \
            norm.bias
    return y * torch.sigmoid(logits)


def test_cbam_matches_reference():
    torch.manual_seed(0)
    module = CBAM(6, reduction=2, spatial_kernel_size=1,
                  spatial_norm_cfg=None)
    x = torch.randn(2, 6, 5, 7)
    out = module(x)
    assert out.shape == x.shape
    torch.testing.assert_close(out, reference_cbam(module, x))


def test_cbam_spatial_batch_norm_as_released():
    torch.manual_seed(0)
    module = CBAM(6, reduction=2, spatial_kernel_size=1)  # default: BN
    norm = module.spatial_gate.norm
    assert isinstance(norm, torch.nn.BatchNorm2d)
    assert norm.num_features == 1 and norm.momentum == 0.01
    assert norm.eps == 1e-5
    with torch.no_grad():
        norm.weight.fill_(1.5)
        norm.bias.fill_(-0.2)
    x = torch.randn(2, 6, 5, 7)
    torch.testing.assert_close(module(x),
                               reference_cbam(module, x, batch_norm=True))
    # The norm changes the output in training mode.
    plain = CBAM(6, reduction=2, spatial_kernel_size=1,
                 spatial_norm_cfg=None)
    plain.load_state_dict(module.state_dict(), strict=False)
    assert not torch.allclose(plain(x), module(x))


def test_cbam_hand_computed_gates():
    # Zero weights: every gate is sigmoid(0) = 0.5, so out = x / 4.
    module = CBAM(4, reduction=4, spatial_kernel_size=3)
    for p in module.parameters():
        torch.nn.init.zeros_(p)
    x = torch.randn(1, 4, 3, 3)
    # channel gate: sigmoid(mlp(avg)+mlp(max)) = sigmoid(0 + 0) = 0.5
    torch.testing.assert_close(module(x), x * 0.25)
    no_spatial = CBAM(4, reduction=4, use_spatial=False)
    for p in no_spatial.parameters():
        torch.nn.init.zeros_(p)
    torch.testing.assert_close(no_spatial(x), x * 0.5)


def test_cbam_gradients_and_hidden_width():
    module = CBAM(3, reduction=16)  # hidden width floors at 1
    assert module.channel_gate.mlp[0].out_channels == 1
    x = torch.randn(2, 3, 8, 10, requires_grad=True)
    module(x).square().sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    for name, p in module.named_parameters():
        assert p.grad is not None, name


@pytest.mark.parametrize('kwargs', [
    dict(channels=0), dict(channels=4, reduction=0),
    dict(channels=4, spatial_kernel_size=4)])
def test_cbam_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        CBAM(**kwargs)

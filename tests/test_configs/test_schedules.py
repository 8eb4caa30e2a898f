"""The schedule files: documented knobs work as configured."""
import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper

from training_helpers import DEMO


class _Net(nn.Module):

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 3, 1)
        self.bn = nn.BatchNorm2d(3)

    def forward(self, x):
        return self.bn(self.conv(x))


def test_gradient_clipping_from_config():
    cfg = Config.fromfile(DEMO)
    assert 'clip_grad' in cfg.optim_wrapper  # documented knob, off by default
    cfg.optim_wrapper.clip_grad = dict(max_norm=0.1, norm_type=2)
    model = _Net()
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    (model(torch.randn(4, 2, 3, 3) * 100).square().mean() * 100).backward()
    norm_before = torch.norm(torch.stack(
        [p.grad.norm() for p in model.parameters()]))
    assert norm_before > 1
    wrapper.step()
    norm_after = torch.norm(torch.stack(
        [p.grad.norm() for p in model.parameters()]))
    assert norm_after == pytest.approx(0.1, rel=1e-4)

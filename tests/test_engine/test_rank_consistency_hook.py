"""RankConsistencyHook's digests: one differing tensor is found."""
import torch
import torch.nn as nn

from mmmtl.engine.hooks.rank_consistency_hook import (compare_digests,
                                                      state_digests)


class _Net(nn.Module):

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 3, 1)
        self.bn = nn.BatchNorm2d(3)

    def forward(self, x):
        return self.bn(self.conv(x))


def test_rank_digests_detect_one_differing_tensor():
    model = _Net()
    same = state_digests(model)
    assert compare_digests([same, dict(same)]) == []
    with torch.no_grad():
        model.bn.running_mean[1] += 1e-7  # a single last-bit difference
    other = state_digests(model)
    assert compare_digests([same, other]) == ['bn.running_mean (ranks [1])']
    params_only = state_digests(model, buffers=False)
    assert 'bn.running_mean' not in params_only
    assert compare_digests([same, {}])[0].endswith('(ranks [1])')

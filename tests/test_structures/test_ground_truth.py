"""Batched ground truth: the valid-pixel rule shared by losses and CCR."""
import pytest
import torch

from mmmtl.structures import TASKS, valid_mask, valid_pixels


def test_valid_pixels_ignores_a_pixel_only_in_every_channel():
    gt = torch.tensor([[0.0, 0.0, 0.5], [0.0, 0.0, 0.0],
                       [1.0, 0.0, 0.0]]).T.reshape(1, 3, 1, 3)
    assert valid_pixels(gt, 0.0).tolist() == [[[[True, False, True]]]]
    labels = torch.tensor([[[[1, 255, 0]]]])
    assert valid_pixels(labels, 255).tolist() == [[[[True, False, True]]]]
    with pytest.raises(ValueError, match=r'\(B, C, H, W\), got shape'):
        valid_pixels(labels[0], 255)
    # valid_mask is the same rule with the task table's ignore value
    assert valid_mask(gt, TASKS['normals']).equal(valid_pixels(gt, 0.0))
    assert valid_mask(labels, TASKS['semseg']).equal(
        valid_pixels(labels, 255))

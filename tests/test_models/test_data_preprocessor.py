import torch

from mmmtl.models import MultiTaskDataPreProcessor
from mmmtl.structures import TASKS, MultiTaskDataSample


def sample_of(h, w):
    sample = MultiTaskDataSample()
    sample.set_gt('semseg', torch.zeros(1, h, w, dtype=torch.long))
    sample.set_gt('depth', torch.full((1, h, w), 2.0))
    normals = torch.zeros(3, h, w)
    normals[2] = -1
    sample.set_gt('normals', normals)
    sample.set_gt('edge', torch.ones(1, h, w, dtype=torch.long))
    sample.set_gt('saliency', torch.ones(1, h, w, dtype=torch.long))
    sample.set_gt('human_parts', torch.ones(1, h, w, dtype=torch.long))
    return sample


def test_pads_each_task_with_its_own_value():
    pre = MultiTaskDataPreProcessor(mean=[0, 0, 0], std=[1, 1, 1],
                                    size_divisor=8)
    data = dict(inputs=[torch.ones(3, 5, 6, dtype=torch.uint8),
                        torch.ones(3, 7, 3, dtype=torch.uint8)],
                data_samples=[sample_of(5, 6), sample_of(7, 3)])
    out = pre(data, training=True)
    assert out['inputs'].shape == (2, 3, 8, 8)
    assert out['inputs'][0, :, 5:, :].eq(0).all()
    for sample, (h, w) in zip(out['data_samples'], [(5, 6), (7, 3)]):
        assert sample.pad_shape == (8, 8)
        assert sample.img_shape == (h, w)
        assert sample.padding_size == [0, 8 - w, 0, 8 - h]
        for name, spec in TASKS.items():
            gt = sample.get_gt(name).data
            assert gt.shape[-2:] == (8, 8)
            pad = torch.ones(8, 8, dtype=torch.bool)
            pad[:h, :w] = False
            assert (gt[:, pad] == spec.pad_value).all(), name
            assert not (gt[:, ~pad] == spec.pad_value).all(), name
    # depth padding is invalid (0), never 255
    depth = out['data_samples'][0].gt_depth_map.data
    assert depth.max() == 2.0 and (depth[:, 5:, :] == 0).all()


def test_normalises_and_converts_bgr_to_rgb():
    pre = MultiTaskDataPreProcessor(mean=[1, 2, 3], std=[2, 2, 2],
                                    bgr_to_rgb=True)
    img = torch.stack([torch.full((2, 2), v) for v in (10., 20., 30.)])
    out = pre(dict(inputs=[img], data_samples=[sample_of(2, 2)]))
    # channels reversed (30, 20, 10) then (x - mean) / std
    assert torch.allclose(out['inputs'][0, :, 0, 0],
                          torch.tensor([14.5, 9.0, 3.5]))


def test_test_mode_pads_mixed_sizes():
    pre = MultiTaskDataPreProcessor(mean=[0, 0, 0], std=[1, 1, 1],
                                    test_cfg=dict(size_divisor=4))
    out = pre(dict(inputs=[torch.ones(3, 5, 6), torch.ones(3, 3, 3)],
                   data_samples=[sample_of(5, 6), sample_of(3, 3)]))
    assert out['inputs'].shape == (2, 3, 8, 8)
    assert out['data_samples'][1].padding_size == [0, 5, 0, 5]
    # ground truth keeps the image size at test time (predictions are
    # cropped back to it), as in MMSegmentation
    for sample, (h, w) in zip(out['data_samples'], [(5, 6), (3, 3)]):
        for name in TASKS:
            assert sample.get_gt(name).data.shape[-2:] == (h, w), name

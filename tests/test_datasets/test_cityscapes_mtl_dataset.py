"""CityscapesMTANDataset: 7/19-class labels, disparity, MTAN layout."""
import numpy as np
import pytest
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS

from mmmtl.datasets.cityscapes_mtl import (CITYSCAPES_7_CLASSES,
                                           CITYSCAPES_19_CLASSES,
                                           CityscapesMTANDataset)
from mmmtl.testing.dataset_fixtures import make_city

H, W = 16, 32
LOAD = [dict(type='LoadMultiTaskImageFromFile'),
        dict(type='LoadMultiTaskAnnotations'),
        dict(type='PackMultiTaskInputs')]


def build(root, **kwargs):
    init_default_scope('mmseg')
    cfg = dict(type='CityscapesMTANDataset', data_root=str(root),
               pipeline=LOAD)
    cfg.update(kwargs)
    return DATASETS.build(cfg)


def test_seven_classes_and_disparity(tmp_path):
    truth = make_city(tmp_path)
    dataset = build(tmp_path)
    assert isinstance(dataset, CityscapesMTANDataset)
    assert dataset.metainfo['classes'] == CITYSCAPES_7_CLASSES
    assert dataset.num_classes == dict(semseg=7)
    sample = dataset[2]['data_samples']
    label7, _, disparity = truth[2]
    expected = np.where(label7 < 0, 255, label7).astype(np.int64)
    np.testing.assert_array_equal(sample.gt_sem_seg.data[0].numpy(),
                                  expected)
    np.testing.assert_array_equal(sample.gt_depth_map.data[0].numpy(),
                                  disparity[..., 0])
    assert dataset[2]['inputs'].shape == (3, H, W)


def test_nineteen_classes(tmp_path):
    truth = make_city(tmp_path)
    dataset = build(tmp_path, num_classes=19, split='val',
                    pipeline=LOAD[:2])
    assert dataset.metainfo['classes'] == CITYSCAPES_19_CLASSES
    assert dataset.num_classes == dict(semseg=19)
    seg = dataset[0]['gt_seg_map']
    assert seg[0, 0] == 18
    np.testing.assert_array_equal(
        seg, np.where(truth[0][1] < 0, 255, truth[0][1]).astype(np.int64))
    with pytest.raises(ValueError, match='num_classes must be 7'):
        build(tmp_path, num_classes=20)

"""PascalContextMultiTaskDataset on a miniature PASCAL_MT layout.

The fixture (``mmmtl.testing.dataset_fixtures.make_pascal``) writes the
PASCAL-Part files with ``scipy.io.savemat`` in the real struct layout:
``anno.imname``, ``anno.objects(i).{class, class_ind, mask, parts}``,
``parts(j).{part_name, mask}``; objects without parts hold an empty 0x0
array.
"""
import numpy as np
import pytest
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS

from mmmtl.datasets.pascal_context import PascalContextMultiTaskDataset
from mmmtl.datasets.transforms.pascal_annotations import (
    NORMALS_VALID_CONTEXT_CLASSES, context_classes_valid_for_normals)
from mmmtl.testing.dataset_fixtures import PASCAL_IDS, make_pascal

H, W = 24, 32
LOAD = [dict(type='LoadMultiTaskImageFromFile'),
        dict(type='LoadMultiTaskAnnotations')]
IDS = PASCAL_IDS


def build(root, **kwargs):
    init_default_scope('mmseg')
    cfg = dict(type='PascalContextMultiTaskDataset', data_root=str(root),
               pipeline=LOAD)
    cfg.update(kwargs)
    return DATASETS.build(cfg)


def test_human_parts_grouping_from_part_structs(tmp_path):
    make_pascal(tmp_path)
    dataset = build(tmp_path, tasks=['human_parts'])
    assert isinstance(dataset, PascalContextMultiTaskDataset)
    assert dataset.num_classes == dict(human_parts=7)
    parts = dataset[0]['gt_human_parts']
    expected = np.zeros((H, W), np.int64)
    expected[2:6, 4:8] = 1       # head (+ hair)
    expected[8:12, 2:4] = 3      # left upper arm
    expected[12:14, 2:4] = 4     # right hand -> lower arm
    expected[16:20, 4:6] = 6     # left lower leg
    expected[7:15, 4:10] = 2     # torso painted after the arms/head
    expected[10:11, 12:14] = 2   # neck -> torso (second person)
    expected[14:18, 12:16] = 5   # right upper leg
    expected[18:20, 12:16] = 6   # left foot -> lower leg
    expected[12:14, 9:12] = 1    # mouth -> head, over the torso
    np.testing.assert_array_equal(parts, expected)
    # A dog only / a person without parts: all ignored (or background).
    assert (dataset[1]['gt_human_parts'] == 255).all()
    assert (dataset[2]['gt_human_parts'] == 255).all()
    bg = build(tmp_path, tasks=['human_parts'], human_parts_no_person=0)
    assert (bg[1]['gt_human_parts'] == 0).all()
    with pytest.raises(ValueError, match='human_parts_no_person'):
        build(tmp_path, human_parts_no_person=7)


def test_semseg_saliency_normals_edge(tmp_path):
    make_pascal(tmp_path)
    dataset = build(tmp_path)
    assert dataset.metainfo['tasks'] == [
        'semseg', 'human_parts', 'saliency', 'normals', 'edge']
    first, second = dataset[0], dataset[1]
    seg = first['gt_seg_map']
    assert seg[0, 0] == 255 and seg[6, 6] == 15 and seg[20, 20] == 0
    # Sample 1 reads semseg/VOC12 (values shifted by 1 there).
    assert second['gt_seg_map'][6, 6] == 16
    np.testing.assert_array_equal(first['gt_saliency'][0, :4], [0, 0, 1, 1])
    normals = first['gt_normals']
    raw_right = 2 * np.array([255, 128, 128], np.float32) / 255 - 1
    raw_left = 2 * np.array([128, 128, 255], np.float32) / 255 - 1
    # Table (valid, x < 16) keeps the decoded vector, renormalised.
    np.testing.assert_allclose(normals[5, 3],
                               raw_left / np.linalg.norm(raw_left),
                               atol=1e-6)
    np.testing.assert_allclose(normals[5, 10],
                               raw_right / np.linalg.norm(raw_right),
                               atol=1e-6)
    # Right half (aeroplane) and the unlabelled pixel are invalid.
    assert (normals[:, 16:] == 0).all() and (normals[0, 0] == 0).all()
    # The tvmonitor patch (rows 20+, x < 4) is valid too.
    np.testing.assert_allclose(normals[21, 1],
                               raw_left / np.linalg.norm(raw_left),
                               atol=1e-6)
    assert np.linalg.norm(raw_right) > 1  # why renormalising matters
    # Edges: boundaries of the LabelMap, thinned (hand-derived: the 2-wide
    # Laplacian band between x=15|16 keeps x=15 from row 1 down).
    edge = first['gt_edge_map']
    assert edge[5:19, 15].all() and not edge[5:19, 16].any()
    assert edge[0, 15] == 0
    assert edge[19:21, 0:3].any()  # tvmonitor patch boundary
    assert set(np.unique(edge)) <= {0, 1}


def test_valid_normals_class_table():
    assert len(NORMALS_VALID_CONTEXT_CLASSES) == 170
    assert NORMALS_VALID_CONTEXT_CLASSES[427] == 'tvmonitor'
    assert 2 not in NORMALS_VALID_CONTEXT_CLASSES  # aeroplane
    assert context_classes_valid_for_normals(
        {'table': 397, 'aeroplane': 2, 'unknown': 431, 'tvmonitor': 427},
        ['table', 'unknown', 'chair']) == (397, 427)

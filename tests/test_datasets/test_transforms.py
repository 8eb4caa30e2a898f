"""Transforms move every task map together and follow each task's rule."""
import copy

import numpy as np
import pytest
import torch
from mmseg.datasets.transforms import PhotoMetricDistortion, RandomCrop
from scipy import ndimage

from mmmtl.datasets.transforms import (MultiTaskRandomFlip,
                                       MultiTaskRandomResize,
                                       MultiTaskResize, PackMultiTaskInputs,
                                       resize_valid)
from mmmtl.structures import TASKS


def edges_from_labels(labels: np.ndarray) -> np.ndarray:
    """1 where a 4-neighbour (right or below) has another label."""
    edge = np.zeros(labels.shape, np.int64)
    diff_x = labels[:, 1:] != labels[:, :-1]
    diff_y = labels[1:, :] != labels[:-1, :]
    edge[:, :-1] |= diff_x
    edge[:-1, :] |= diff_y
    return edge


def depth_of(labels: np.ndarray) -> np.ndarray:
    return (1.0 + labels).astype(np.float32)


NORMAL_OF = np.array([[0, 0, -1], [0.6, 0, -0.8], [0, -0.6, -0.8],
                      [-0.6, 0, -0.8]], np.float32)


def derived_sample(h: int = 24, w: int = 32, seed: int = 0) -> dict:
    """A sample whose maps are functions of one label map.

    Labels are blocks of 4 classes; depth = 1 + label; normals = a fixed
    vector per label; edges from label changes; saliency = label > 1. A
    square hole makes depth and normals invalid there.
    """
    rng = np.random.default_rng(seed)
    labels = np.zeros((h, w), np.int64)
    labels[:, w // 2:] = 1
    labels[h // 2:, :w // 3] = 2
    labels[h // 3:2 * h // 3, w // 3:2 * w // 3] = 3
    depth = depth_of(labels)
    normals = NORMAL_OF[labels]
    hole = (slice(1, 5), slice(w - 6, w - 2))
    depth[hole] = 0
    normals[hole] = 0
    img = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
    return dict(
        img=img,
        img_shape=(h, w),
        ori_shape=(h, w),
        gt_seg_map=labels,
        gt_depth_map=depth,
        gt_normals=normals,
        gt_edge_map=edges_from_labels(labels),
        gt_saliency=(labels > 1).astype(np.int64),
        seg_fields=[
            'gt_seg_map', 'gt_depth_map', 'gt_normals', 'gt_edge_map',
            'gt_saliency'
        ])


def interior(labels: np.ndarray, radius: int = 1) -> np.ndarray:
    """Pixels whose (2r+1)^2 neighbourhood has one label."""
    size = 2 * radius + 1
    return (ndimage.maximum_filter(labels, size) == ndimage.minimum_filter(
        labels, size))


def assert_aligned(results: dict, edge_tolerance: int = 0,
                   edge_recall: bool = True) -> None:
    """Every map agrees with the label map (away from region borders)."""
    labels = results['gt_seg_map']
    inner = interior(labels, 1)
    depth = results['gt_depth_map']
    valid = depth > 0
    np.testing.assert_allclose(depth[inner & valid],
                               depth_of(labels)[inner & valid], rtol=1e-5)
    normals = results['gt_normals']
    valid_n = np.any(normals != 0, axis=-1)
    np.testing.assert_allclose(normals[inner & valid_n],
                               NORMAL_OF[labels][inner & valid_n], atol=1e-5)
    np.testing.assert_array_equal(results['gt_saliency'],
                                  (labels > 1).astype(np.int64))
    # Edges recomputed from the transformed labels match the transformed
    # edges up to `edge_tolerance` pixels, except on the outer border.
    recomputed = edges_from_labels(labels).astype(bool)
    edges = results['gt_edge_map'].astype(bool)
    core = np.zeros_like(edges)
    core[1:-1, 1:-1] = True
    if edge_tolerance == 0:
        np.testing.assert_array_equal(recomputed[core], edges[core])
    else:
        grow = np.ones((2 * edge_tolerance + 1, ) * 2, bool)
        if edge_recall:
            assert not (recomputed & core & ~ndimage.binary_dilation(
                edges, grow)).any()
        assert not (edges & core & ~ndimage.binary_dilation(
            recomputed, grow)).any()


def test_derived_sample_is_aligned():
    assert_aligned(derived_sample())


def test_flip_negates_normals_x_and_is_an_involution():
    results = derived_sample()
    flip = MultiTaskRandomFlip(prob=1.0, direction='horizontal')
    once = flip(copy.deepcopy(results))
    n0, n1 = results['gt_normals'], once['gt_normals']
    np.testing.assert_array_equal(n1[..., 0], -n0[:, ::-1, 0])
    np.testing.assert_array_equal(n1[..., 1:], n0[:, ::-1, 1:])
    for key in ('gt_seg_map', 'gt_depth_map', 'gt_edge_map', 'gt_saliency'):
        np.testing.assert_array_equal(once[key], results[key][:, ::-1])
    np.testing.assert_array_equal(once['img'], results['img'][:, ::-1])
    twice = flip(copy.deepcopy(once))
    for key in results['seg_fields'] + ['img']:
        np.testing.assert_array_equal(twice[key], results[key])


def test_vertical_flip_negates_normals_y():
    results = derived_sample()
    out = MultiTaskRandomFlip(prob=1.0, direction='vertical')(
        copy.deepcopy(results))
    np.testing.assert_array_equal(out['gt_normals'][..., 1],
                                  -results['gt_normals'][::-1, :, 1])
    np.testing.assert_array_equal(out['gt_normals'][..., 0],
                                  results['gt_normals'][::-1, :, 0])


def test_flip_keeps_derived_maps_aligned():
    out = MultiTaskRandomFlip(prob=1.0)(derived_sample())
    labels = out['gt_seg_map']
    normals = out['gt_normals']
    keep = interior(labels) & np.any(normals != 0, axis=-1)
    expected = NORMAL_OF[labels] * np.array([-1, 1, 1], np.float32)
    np.testing.assert_allclose(normals[keep], expected[keep])
    np.testing.assert_allclose(out['gt_depth_map'][keep],
                               depth_of(labels)[keep])


@pytest.mark.parametrize('scale', [(64, 48), (16, 12)])
def test_resize_keeps_maps_aligned(scale):
    out = MultiTaskResize(scale=scale, keep_ratio=True)(derived_sample())
    h, w = out['img'].shape[:2]
    for key in out['seg_fields']:
        assert out[key].shape[:2] == (h, w), key
    assert out['gt_seg_map'].dtype == np.int64
    # Nearest-neighbour downsampling can drop 1-px edges (recall), but it
    # never creates edges away from label changes (precision).
    assert_aligned(out, edge_tolerance=1, edge_recall=scale[0] > 32)
    normals = out['gt_normals']
    valid = np.any(normals != 0, axis=-1)
    np.testing.assert_allclose(np.linalg.norm(normals[valid], axis=-1), 1.0,
                               atol=1e-5)


def test_resize_valid_never_blends_with_invalid_pixels():
    spec = TASKS['depth']
    depth = np.full((8, 8), 5.0, np.float32)
    depth[:, :4] = 0  # invalid half
    out = resize_valid(depth, spec, (13, 11))
    valid = out != 0
    assert valid.any() and (~valid).any()
    np.testing.assert_allclose(out[valid], 5.0, rtol=1e-6)
    normals = np.zeros((8, 8, 3), np.float32)
    normals[:, 4:] = [0.6, 0.0, -0.8]
    out = resize_valid(normals, TASKS['normals'], (16, 16))
    valid = np.any(out != 0, axis=-1)
    np.testing.assert_allclose(out[valid], [[0.6, 0.0, -0.8]] * valid.sum(),
                               atol=1e-6)


def test_resize_valid_renormalises_normals():
    normals = np.zeros((2, 2, 3), np.float32)
    normals[0, :] = [1, 0, 0]
    normals[1, :] = [0, 1, 0]
    out = resize_valid(normals, TASKS['normals'], (2, 3))
    np.testing.assert_allclose(np.linalg.norm(out, axis=-1), 1.0, atol=1e-6)


def test_random_resize_and_crop_keep_maps_aligned():
    np.random.seed(0)
    results = derived_sample(48, 64)
    resize = MultiTaskRandomResize(
        scale=(64, 48), ratio_range=(1.0, 1.5), keep_ratio=True)
    crop = RandomCrop(crop_size=(32, 40))
    out = crop(resize(results))
    assert out['img'].shape[:2] == (32, 40)
    for key in out['seg_fields']:
        assert out[key].shape[:2] == (32, 40), key
    assert_aligned(out, edge_tolerance=1)


def test_crop_is_exact():
    np.random.seed(1)
    out = RandomCrop(crop_size=(16, 20))(derived_sample())
    assert_aligned(out, edge_tolerance=0)


def test_photometric_distortion_changes_only_the_image():
    np.random.seed(0)
    results = derived_sample()
    out = PhotoMetricDistortion()(copy.deepcopy(results))
    for key in results['seg_fields']:
        np.testing.assert_array_equal(out[key], results[key])


def test_pack_multitask_inputs():
    results = derived_sample()
    results['img_path'] = 'x.png'
    packed = PackMultiTaskInputs()(results)
    assert packed['inputs'].shape == (3, 24, 32)
    assert packed['inputs'].dtype == torch.uint8
    sample = packed['data_samples']
    assert sample.gt_sem_seg.data.shape == (1, 24, 32)
    assert sample.gt_sem_seg.data.dtype == torch.long
    assert sample.gt_depth_map.data.dtype == torch.float32
    assert sample.gt_normals.data.shape == (3, 24, 32)
    np.testing.assert_array_equal(sample.gt_normals.data.numpy(),
                                  results['gt_normals'].transpose(2, 0, 1))
    assert sample.gt_edge_map.data.dtype == torch.long
    assert sample.img_path == 'x.png'
    assert 'gt_human_parts' not in sample

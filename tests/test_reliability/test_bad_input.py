"""Bad input not covered by tests/test_datasets/test_loading.py: NaN/Inf
normals, non-finite values never reaching the loss, binary labels, split
files naming missing samples, missing annotations of listed samples."""
import os
import shutil

import cv2
import numpy as np
import pytest
import torch
from mmengine.logging import MMLogger
from mmseg.registry import DATASETS, MODELS

from mmmtl.datasets.transforms.formatting import PackMultiTaskInputs
from mmmtl.datasets.transforms.loading import (AnnotationError,
                                               LoadMultiTaskAnnotations,
                                               LoadMultiTaskImageFromFile)
from mmmtl.testing import tiny_model_cfg

H, W = 32, 40


def _image(tmp_path):
    path = str(tmp_path / 'img.png')
    rng = np.random.default_rng(0)
    cv2.imwrite(path, rng.integers(0, 255, (H, W, 3), dtype=np.uint8))
    return path


def _load(tmp_path, ann_info, loader=None):
    results = LoadMultiTaskImageFromFile()(dict(
        img_path=_image(tmp_path), ann_info=ann_info, seg_fields=[],
        num_classes={}))
    return (loader or LoadMultiTaskAnnotations())(results)


def _unit_normals():
    normals = np.zeros((H, W, 3), np.float32)
    normals[..., 2] = -1
    return normals


def test_nan_and_inf_normals_become_invalid_and_warn_once(tmp_path,
                                                          monkeypatch):
    normals = _unit_normals()
    normals[0, 0, 1] = np.nan  # one bad component invalidates the pixel
    normals[1, 2] = np.inf
    np.save(tmp_path / 'n.npy', normals)
    warnings = []
    monkeypatch.setattr(MMLogger.get_current_instance(), 'warning',
                        warnings.append)
    loader = LoadMultiTaskAnnotations()
    info = dict(normals=dict(path=str(tmp_path / 'n.npy')))
    for _ in range(2):
        out = _load(tmp_path, info, loader)
    gt = out['gt_normals']
    assert np.isfinite(gt).all()
    assert (gt[0, 0] == 0).all() and (gt[1, 2] == 0).all()
    assert (np.linalg.norm(gt, axis=-1) > 0).sum() == H * W - 2
    assert len(warnings) == 1
    assert 'n.npy: 2 NaN/Inf normals pixels treated as invalid' in \
        warnings[0]


def test_binary_labels_outside_0_1_are_named(tmp_path):
    edge = np.zeros((H, W), np.uint8)
    edge[3, 4] = 2
    cv2.imwrite(str(tmp_path / 'edge.png'), edge)
    with pytest.raises(AnnotationError,
                       match=r"edge.png: edge annotation \(uint8, values "
                       r"\[0, 2\]\) does not match the declared encoding "
                       r"'binary'"):
        _load(tmp_path, dict(edge=dict(path=str(tmp_path / 'edge.png'))))


def _loss(model, results):
    packed = PackMultiTaskInputs()(results)
    batch = model.data_preprocessor(
        dict(inputs=[packed['inputs']],
             data_samples=[packed['data_samples']]), training=True)
    losses = model.loss(batch['inputs'], batch['data_samples'])
    return {k: v for k, v in losses.items() if 'loss' in k}


def test_non_finite_pixels_never_reach_the_loss(tmp_path):
    """NaN/Inf depth and normals give exactly the losses of the same
    files with those pixels marked invalid (0)."""
    torch.manual_seed(0)
    model = MODELS.build(tiny_model_cfg(tasks=('depth', 'normals')))
    model.eval()  # fixed BN statistics: both passes see the same network
    depth = np.random.default_rng(1).uniform(0.5, 3, (H, W)).astype(
        np.float32)
    normals = _unit_normals()
    bad_depth, bad_normals = depth.copy(), normals.copy()
    bad_depth[:4, :5] = np.nan
    bad_depth[10, 10] = np.inf
    bad_normals[5:7, :] = np.nan
    clean_depth, clean_normals = depth.copy(), normals.copy()
    clean_depth[:4, :5] = 0
    clean_depth[10, 10] = 0
    clean_normals[5:7, :] = 0
    losses = []
    for d, n in ((bad_depth, bad_normals), (clean_depth, clean_normals)):
        np.save(tmp_path / 'd.npy', d)
        np.save(tmp_path / 'n.npy', n)
        results = _load(tmp_path, dict(
            depth=dict(path=str(tmp_path / 'd.npy')),
            normals=dict(path=str(tmp_path / 'n.npy'))))
        losses.append(_loss(model, results))
    assert losses[0].keys() == losses[1].keys() and losses[0]
    for key, value in losses[0].items():
        assert torch.isfinite(value), key
        assert torch.equal(value, losses[1][key]), key


def _copy_dataset(root, tmp_path):
    copy = str(tmp_path / 'synthetic')
    shutil.copytree(root, copy)
    return copy


def _build(root, split='train'):
    return DATASETS.build(dict(
        type='SyntheticMultiTaskDataset', data_root=root, split=split,
        generate_if_missing=False,
        pipeline=[dict(type='LoadMultiTaskImageFromFile'),
                  dict(type='LoadMultiTaskAnnotations'),
                  dict(type='PackMultiTaskInputs')]))


def test_split_file_listing_a_missing_sample_is_named(tiny_synthetic_root,
                                                      tmp_path):
    root = _copy_dataset(tiny_synthetic_root, tmp_path)
    with open(os.path.join(root, 'splits', 'train.txt'), 'a') as f:
        f.write('\nghost_0042\n')
    with pytest.raises(FileNotFoundError,
                       match=r'1 samples listed in the split have no image.*'
                       r'ghost_0042'):
        _build(root)


def test_missing_annotation_of_listed_sample_is_named(tiny_synthetic_root,
                                                      tmp_path):
    root = _copy_dataset(tiny_synthetic_root, tmp_path)
    dataset = _build(root)
    sample_id = dataset.get_data_info(0)['sample_id']
    missing = os.path.join(root, 'depth', f'{sample_id}.png')
    os.remove(missing)
    with pytest.raises(AnnotationError,
                       match=f'{missing}: file not found'):
        dataset.prepare_data(0)
    assert dataset.prepare_data(1)['data_samples'] is not None

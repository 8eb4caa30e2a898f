"""Inference API: init_model, inference_model, MultiTaskInferencer, infer.py.

A tiny random model is saved as a config + checkpoint; inference on
synthetic PNGs must return every task at the image size, match the model's
own test step on the same pixels, and write files that decode back to the
predictions.
"""
import os
import os.path as osp
import runpy
import sys

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmseg.registry import MODELS
from PIL import Image

from mmmtl.apis import (MultiTaskInferencer, inference_model, init_model,
                        predictions_to_numpy)
from mmmtl.structures import MultiTaskDataSample
from mmmtl.testing import TINY_TASKS, tiny_model_cfg
from mmmtl.utils.prediction_io import DEPTH_PNG_SCALE
from mmmtl.visualization import panel_size

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
H, W = 45, 61  # not multiples of the model's size divisor (32)
META = dict(classes=('a', 'b', 'c', 'd'),
            palette=[[255, 0, 0], [0, 255, 0], [0, 0, 255], [9, 9, 9]])


@pytest.fixture(scope='module')
def tiny_files(tmp_path_factory):
    """(config path, checkpoint path, state dict, two PNG paths)."""
    root = tmp_path_factory.mktemp('infer')
    cfg = Config(dict(
        default_scope='mmseg',
        model=tiny_model_cfg(),
        visualizer=dict(type='MultiTaskVisualizer'),
        test_dataloader=dict(dataset=dict(
            type='SyntheticMultiTaskDataset', data_root='unused',
            pipeline=[dict(type='LoadMultiTaskImageFromFile'),
                      dict(type='LoadMultiTaskAnnotations'),
                      dict(type='PackMultiTaskInputs')]))))
    cfg_path = str(root / 'tiny.py')
    cfg.dump(cfg_path)
    torch.manual_seed(0)
    model = MODELS.build(tiny_model_cfg())
    ckpt = str(root / 'tiny.pth')
    torch.save({'state_dict': model.state_dict(),
                'meta': {'dataset_meta': META}}, ckpt)
    rng = np.random.default_rng(0)
    images = []
    for i in range(2):
        path = str(root / 'images' / f'img{i}.png')
        os.makedirs(osp.dirname(path), exist_ok=True)
        cv2.imwrite(path, rng.integers(0, 256, (H, W, 3), dtype=np.uint8))
        images.append(path)
    return cfg_path, ckpt, model.state_dict(), images


def reference_prediction(model, bgr: np.ndarray) -> MultiTaskDataSample:
    """The model's own test step on the same pixels (no pipeline)."""
    data = dict(
        inputs=[torch.from_numpy(bgr.transpose(2, 0, 1).copy())],
        data_samples=[MultiTaskDataSample(metainfo=dict(
            ori_shape=bgr.shape[:2], img_shape=bgr.shape[:2]))])
    with torch.no_grad():
        return model.test_step(data)[0]


def test_init_and_inference_model(tiny_files):
    cfg_path, ckpt, state, images = tiny_files
    model = init_model(cfg_path, ckpt, device='cpu')
    assert not model.training
    for key, value in state.items():
        assert torch.equal(model.state_dict()[key], value), key
    assert model.dataset_meta['classes'] == META['classes']

    sample = inference_model(model, images[0])
    bgr = cv2.imread(images[0])
    ref = reference_prediction(model, bgr)
    for task in TINY_TASKS:
        pred = sample.get_pred(task).data
        assert pred.shape[1:] == (H, W), task
        torch.testing.assert_close(pred, ref.get_pred(task).data)
    labels = sample.get_pred('semseg').data
    assert labels.min() >= 0 and labels.max() < 4
    norms = sample.get_pred('normals').data.norm(dim=0)
    torch.testing.assert_close(norms, torch.ones_like(norms))
    edge = sample.get_pred('edge').data
    assert 0 <= edge.min() and edge.max() <= 1

    # A BGR array gives the same result as its file; a list gives a list.
    from_array = inference_model(model, [bgr, images[0]])
    assert len(from_array) == 2
    for task in TINY_TASKS:
        torch.testing.assert_close(from_array[0].get_pred(task).data,
                                   sample.get_pred(task).data)


def test_inferencer_writes_files(tiny_files, tmp_path):
    cfg_path, ckpt, _, images = tiny_files
    inferencer = MultiTaskInferencer(cfg_path, ckpt, device='cpu',
                                     show_progress=False)
    out = str(tmp_path / 'out')
    result = inferencer(osp.dirname(images[0]), batch_size=2, out_dir=out)
    assert len(result['predictions']) == 2
    model = inferencer.model
    for path, pred in zip(images, result['predictions']):
        stem = osp.splitext(osp.basename(path))[0]
        ref = predictions_to_numpy(
            reference_prediction(model, cv2.imread(path)))
        assert set(pred) == set(TINY_TASKS)
        assert pred['normals'].shape == (H, W, 3)
        for task in TINY_TASKS:
            assert pred[task].shape[:2] == (H, W)
            np.testing.assert_allclose(pred[task], ref[task], atol=1e-5)
        # Files decode back to the predictions.
        semseg = Image.open(osp.join(out, 'semseg', f'{stem}.png'))
        assert semseg.mode == 'P'
        assert semseg.getpalette()[:6] == [255, 0, 0, 0, 255, 0]
        np.testing.assert_array_equal(np.array(semseg), pred['semseg'])
        depth16 = cv2.imread(osp.join(out, 'depth', f'{stem}.png'),
                             cv2.IMREAD_UNCHANGED)
        assert depth16.dtype == np.uint16
        np.testing.assert_array_equal(
            depth16, np.clip(np.round(pred['depth'] * DEPTH_PNG_SCALE), 0,
                             65535).astype(np.uint16))
        np.testing.assert_array_equal(
            np.load(osp.join(out, 'depth', f'{stem}.npy')),
            pred['depth'].astype(np.float32))
        normals = cv2.imread(osp.join(out, 'normals', f'{stem}.png'))
        decoded = normals[..., ::-1] / 127.5 - 1
        assert np.abs(decoded - pred['normals']).max() <= 1 / 127.5 + 1e-6
        for task in ('edge', 'saliency'):
            grey = cv2.imread(osp.join(out, task, f'{stem}.png'),
                              cv2.IMREAD_UNCHANGED)
            assert grey.dtype == np.uint8 and grey.shape == (H, W)
            np.testing.assert_array_equal(
                grey, np.round(pred[task] * 255).astype(np.uint8))
        # One-row panel: image + 5 predictions, depth colour bar (18 px)
        # and a 4-class legend (2 rows of swatches at width 6 * 61).
        panel = cv2.imread(osp.join(out, 'panels', f'{stem}.png'))
        assert panel.shape[:2] == panel_size((H, W), 5, 1, [18, 32])
    assert result['visualization'][0].shape[:2] == panel_size(
        (H, W), 5, 1, [18, 32])


def test_infer_script(tiny_files, tmp_path, monkeypatch):
    cfg_path, ckpt, _, images = tiny_files
    out = str(tmp_path / 'cli')
    monkeypatch.setattr(sys, 'argv', [
        'infer.py', images[1], cfg_path, ckpt, '--out-dir', out,
        '--device', 'cpu'])
    runpy.run_path(osp.join(REPO, 'tools', 'infer.py'), run_name='__main__')
    for task in TINY_TASKS:
        assert osp.isfile(osp.join(out, task, 'img1.png')), task
    assert osp.isfile(osp.join(out, 'depth', 'img1.npy'))
    assert osp.isfile(osp.join(out, 'panels', 'img1.png'))


def test_bad_inputs(tiny_files, tmp_path):
    cfg_path, ckpt, _, _ = tiny_files
    model = init_model(cfg_path, ckpt, device='cpu')
    with pytest.raises(ValueError, match=r'\(H, W, 3\) BGR'):
        inference_model(model, np.zeros((4, 5), np.uint8))
    with pytest.raises(FileNotFoundError, match='does not exist'):
        init_model(cfg_path, str(tmp_path / 'missing.pth'))
    empty = tmp_path / 'empty'
    empty.mkdir()
    inferencer = MultiTaskInferencer(cfg_path, ckpt, device='cpu',
                                     show_progress=False)
    with pytest.raises(FileNotFoundError, match='no image file'):
        inferencer(str(empty))


def test_inferencer_builds_without_registry_warnings(tiny_files):
    """MMSegmentation has no FUNCTIONS registry: the collate function is
    looked up in MMEngine's, so no 'Failed to search registry with scope
    "mmseg"' warning is logged."""
    import logging

    from mmengine.dataset import pseudo_collate
    from mmengine.logging import MMLogger
    cfg_path, ckpt, _, _ = tiny_files
    records = []

    class Collect(logging.Handler):

        def emit(self, record):
            records.append(record.getMessage())

    logger = MMLogger.get_current_instance()
    handler = Collect(level=logging.WARNING)
    logger.addHandler(handler)
    try:
        inferencer = MultiTaskInferencer(cfg_path, ckpt, device='cpu',
                                         show_progress=False)
    finally:
        logger.removeHandler(handler)
    assert inferencer.collate_fn is pseudo_collate
    assert not [r for r in records if 'Failed to search registry' in r]
    cfg = Config.fromfile(cfg_path)
    cfg.test_dataloader.collate_fn = dict(type='default_collate')
    from mmengine.dataset import default_collate
    assert inferencer._init_collate(cfg) is default_collate
    cfg.test_dataloader.collate_fn = dict(type='no_such_collate')
    with pytest.raises(KeyError, match='no_such_collate'):
        inferencer._init_collate(cfg)

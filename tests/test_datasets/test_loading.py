"""Generic annotation loaders: formats, decoding and bad-input errors
(NaN/Inf normals, binary labels; non-finite values never reach the loss)."""
import cv2
import numpy as np
import pytest
import torch
from mmengine.logging import MMLogger
from mmseg.registry import MODELS
from scipy.io import savemat

from mmmtl.datasets.transforms import (AnnotationError,
                                       LoadMultiTaskAnnotations,
                                       LoadMultiTaskImageFromFile,
                                       PackMultiTaskInputs)
from mmmtl.testing import tiny_model_cfg

H, W = 32, 40


def write_png(path, array):
    if array.ndim == 3:
        array = array[..., ::-1]  # cv2 writes BGR
    assert cv2.imwrite(str(path), array)
    return str(path)


def make_results(tmp_path, ann_info, h=4, w=5, num_classes=None):
    img = write_png(tmp_path / 'img.png',
                    np.full((h, w, 3), 100, np.uint8))
    results = dict(img_path=img, ann_info=ann_info, seg_fields=[],
                   num_classes=num_classes or {})
    return LoadMultiTaskImageFromFile()(results)


def test_png_label_shift_and_ignore(tmp_path):
    raw = np.array([[0, 1, 2, 40, 0]] * 4, np.uint8)
    path = write_png(tmp_path / 'seg.png', raw)
    results = make_results(
        tmp_path,
        dict(semseg=dict(path=path, label_map={0: 255}, label_offset=-1)),
        num_classes=dict(semseg=40))
    out = LoadMultiTaskAnnotations()(results)
    np.testing.assert_array_equal(out['gt_seg_map'][0], [255, 0, 1, 39, 255])
    assert out['seg_fields'] == ['gt_seg_map']
    assert out['tasks'] == ['semseg']


def test_uint16_depth_png_and_npy(tmp_path):
    mm = np.array([[0, 1000, 2500, 65535, 1]] * 4, np.uint16)
    png = write_png(tmp_path / 'd.png', mm)
    npy = str(tmp_path / 'd.npy')
    np.save(npy, mm.astype(np.float32) / 1000)
    for info in (dict(path=png, encoding='uint16_mm'), dict(path=npy)):
        out = LoadMultiTaskAnnotations()(
            make_results(tmp_path, dict(depth=info)))
        np.testing.assert_allclose(out['gt_depth_map'][0],
                                   [0, 1.0, 2.5, 65.535, 0.001], rtol=1e-6)
        assert out['gt_depth_map'].dtype == np.float32


def test_normals_encodings(tmp_path):
    n = np.zeros((4, 5, 3), np.float32)
    n[..., 2] = -1
    n[0, 0] = 0  # invalid
    u16 = np.round((n + 1) / 2 * 65535).astype(np.uint16)
    u16[0, 0] = 0
    u8 = np.round((n + 1) / 2 * 255).astype(np.uint8)
    u8[0, 0] = 0
    np.save(tmp_path / 'n.npy', n)
    cases = [
        (dict(path=str(tmp_path / 'n.npy')), 0),
        (dict(path=write_png(tmp_path / 'n16.png', u16), encoding='uint16'),
         1 / 65535),
        (dict(path=write_png(tmp_path / 'n8.png', u8), encoding='uint8',
              renormalize=True), 1 / 255),
    ]
    for info, quantum in cases:
        out = LoadMultiTaskAnnotations()(
            make_results(tmp_path, dict(normals=info)))
        np.testing.assert_allclose(out['gt_normals'], n,
                                   atol=quantum + 1e-7)
        assert not out['gt_normals'][0, 0].any()  # invalid stays zero


def test_mat_and_grey_saliency(tmp_path):
    savemat(tmp_path / 'lab.mat', dict(LabelMap=np.arange(20).reshape(4, 5)))
    sal = write_png(tmp_path / 's.png',
                    np.array([[0, 100, 128, 200, 255]] * 4, np.uint8))
    out = LoadMultiTaskAnnotations()(
        make_results(
            tmp_path,
            dict(semseg=dict(path=str(tmp_path / 'lab.mat'), key='LabelMap'),
                 saliency=dict(path=sal, encoding='grey')),
            num_classes=dict(semseg=20)))
    np.testing.assert_array_equal(out['gt_seg_map'],
                                  np.arange(20).reshape(4, 5))
    np.testing.assert_array_equal(out['gt_saliency'][0], [0, 0, 1, 1, 1])


def test_image_from_npy(tmp_path):
    rgb = np.random.default_rng(0).random((4, 5, 3)).astype(np.float32)
    np.save(tmp_path / 'img.npy', rgb)
    out = LoadMultiTaskImageFromFile()(dict(img_path=str(tmp_path /
                                                         'img.npy')))
    np.testing.assert_allclose(out['img'][..., ::-1], rgb * 255, rtol=1e-6)
    assert out['img_shape'] == (4, 5)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(AnnotationError, match='nope.png: file not found'):
        LoadMultiTaskImageFromFile()(dict(img_path=str(tmp_path /
                                                       'nope.png')))
    results = make_results(tmp_path,
                           dict(depth=dict(path=str(tmp_path / 'd.npy'))))
    with pytest.raises(AnnotationError, match='d.npy: file not found'):
        LoadMultiTaskAnnotations()(results)


def test_unreadable_file_is_named(tmp_path):
    bad = tmp_path / 'bad.png'
    bad.write_bytes(b'not a png')
    results = make_results(tmp_path, dict(semseg=dict(path=str(bad))))
    with pytest.raises(AnnotationError, match='bad.png: OpenCV cannot'):
        LoadMultiTaskAnnotations()(results)


def test_size_mismatch_is_named(tmp_path):
    path = write_png(tmp_path / 'seg.png', np.zeros((3, 5), np.uint8))
    results = make_results(tmp_path, dict(semseg=dict(path=path)))
    with pytest.raises(AnnotationError,
                       match='seg.png: semseg annotation is 3x5 but the '
                       'image is 4x5'):
        LoadMultiTaskAnnotations()(results)


def test_labels_out_of_range(tmp_path):
    path = write_png(tmp_path / 'seg.png',
                     np.array([[0, 1, 7, 255, 9]] * 4, np.uint8))
    results = make_results(tmp_path, dict(semseg=dict(path=path)),
                           num_classes=dict(semseg=6))
    with pytest.raises(AnnotationError,
                       match=r'semseg labels \[7, 9\] are outside \[0, 5\]'):
        LoadMultiTaskAnnotations()(results)


def test_negative_depth_is_refused(tmp_path):
    np.save(tmp_path / 'd.npy', np.full((4, 5), -1.0, np.float32))
    results = make_results(tmp_path,
                           dict(depth=dict(path=str(tmp_path / 'd.npy'))))
    with pytest.raises(AnnotationError, match='d.npy: depth has negative'):
        LoadMultiTaskAnnotations()(results)


def test_non_unit_normals_are_refused(tmp_path):
    np.save(tmp_path / 'n.npy', np.full((4, 5, 3), 0.9, np.float32))
    results = make_results(tmp_path,
                           dict(normals=dict(path=str(tmp_path / 'n.npy'))))
    with pytest.raises(AnnotationError, match='n.npy: 20 normals vectors '
                       'are not unit length'):
        LoadMultiTaskAnnotations()(results)


def test_nan_depth_becomes_invalid_and_warns_once(tmp_path, monkeypatch):
    depth = np.ones((4, 5), np.float32)
    depth[0, :2] = np.nan
    depth[1, 0] = np.inf
    np.save(tmp_path / 'd.npy', depth)
    loader = LoadMultiTaskAnnotations()
    info = dict(depth=dict(path=str(tmp_path / 'd.npy')))
    warnings = []
    logger = MMLogger.get_current_instance()
    monkeypatch.setattr(logger, 'warning', warnings.append)
    for _ in range(3):
        out = loader(make_results(tmp_path, info))
    assert np.isfinite(out['gt_depth_map']).all()
    assert (out['gt_depth_map'] == 0).sum() == 3
    assert len(warnings) == 1
    assert 'd.npy: 3 NaN/Inf depth pixels treated as invalid' in warnings[0]


def test_missing_task_in_sample(tmp_path):
    results = make_results(tmp_path, dict())
    with pytest.raises(AnnotationError, match='no depth annotation'):
        LoadMultiTaskAnnotations(tasks=['depth'])(results)


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

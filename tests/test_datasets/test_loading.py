"""Generic annotation loaders: formats, decoding and bad-input errors."""
import cv2
import numpy as np
import pytest
from mmengine.logging import MMLogger
from scipy.io import savemat

from mmmtl.datasets.transforms import (AnnotationError,
                                       LoadMultiTaskAnnotations,
                                       LoadMultiTaskImageFromFile)


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

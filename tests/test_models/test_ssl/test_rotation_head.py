"""CompL rotation task: labels of the rotation transform and the 4-way CE."""
import math

import numpy as np
import pytest
import torch
from mmseg.registry import MODELS

from mmmtl.datasets.transforms.ssl_views import PackSSLViews, RandomRotate90
from mmmtl.models.ssl.rotation_head import RotationSSLHead  # noqa: F401
from mmmtl.testing import random_batch, tiny_model_cfg


def _image(size=4):
    return np.arange(size * size * 3, dtype=np.uint8).reshape(size, size, 3)


@pytest.mark.parametrize('k', [0, 1, 2, 3])
def test_rotate90_rotates_counter_clockwise_and_labels(k):
    img = _image()
    t = RandomRotate90()
    t._sample_k = lambda: k  # force the draw
    out = t(dict(img=img.copy()))
    assert out['rotation_label'] == k
    assert np.array_equal(out['img'], np.rot90(img, k))
    # hand check of the direction: the top-right pixel goes to the top-left
    # after a quarter turn counter-clockwise, to the bottom-left after two.
    corner = {0: (0, 3), 1: (0, 0), 2: (3, 0), 3: (3, 3)}[k]
    assert np.array_equal(out['img'][corner], img[0, 3])


def test_rotate90_draws_every_class_and_refuses_non_square():
    np.random.seed(0)
    labels = {RandomRotate90()(dict(img=_image()))['rotation_label']
              for _ in range(60)}
    assert labels == {0, 1, 2, 3}
    with pytest.raises(ValueError, match='square'):
        RandomRotate90()(dict(img=np.zeros((4, 5, 3), np.uint8)))
    with pytest.raises(ValueError, match='num_rotations'):
        RandomRotate90(num_rotations=3)


def test_pack_ssl_views_single_and_multi_view():
    img = _image()
    packed = PackSSLViews()(dict(img=img, rotation_label=2))
    assert packed['ssl_views'].shape == (1, 3, 4, 4)
    assert packed['ssl_views'].dtype == torch.uint8
    assert torch.equal(packed['ssl_views'][0, 1],
                       torch.from_numpy(img[..., 1].copy()))
    assert packed['ssl_labels'].tolist() == [2]
    two = PackSSLViews()(dict(img=[img, img[::-1].copy()]))
    assert two['ssl_views'].shape == (2, 3, 4, 4) and 'ssl_labels' not in two
    with pytest.raises(ValueError, match='share one size'):
        PackSSLViews()(dict(img=[img, np.zeros((5, 5, 3), np.uint8)]))


def _rot_model():
    return MODELS.build(tiny_model_cfg(
        tasks=['depth'],
        ssl_tasks=[dict(type='RotationSSLHead', in_channels=64)]))


def _batch_with_views(labels):
    torch.manual_seed(0)
    batch = random_batch(n=len(labels), tasks=['depth'])
    for sample, lab in zip(batch['data_samples'], labels):
        sample.ssl_views = torch.randint(0, 255, (1, 3, 32, 32),
                                         dtype=torch.uint8)
        sample.ssl_labels = torch.tensor([lab])
    return batch


def test_rotation_loss_equals_hand_computed_cross_entropy():
    model = _rot_model()
    head = model.ssl_tasks['rot']
    assert head.loss_weight == 0.05
    data = model.data_preprocessor(_batch_with_views([1, 3]), training=True)
    losses = model.loss(data['inputs'], data['data_samples'])
    assert {'ssl.rot.loss_rot', 'ssl.rot.acc_rot'} <= set(losses)
    # reference: GAP of the last backbone stage, the FC, and CE written out
    views = torch.stack([s.ssl_views for s in data['data_samples']])[:, 0]
    with torch.no_grad():
        feats = model.backbone(views)[-1]
        logits = feats.mean(dim=(2, 3)) @ head.fc.weight.t() + head.fc.bias
    ce = [math.log(sum(math.exp(v) for v in row)) - row[lab]
          for row, lab in zip(logits.tolist(), [1, 3])]
    ref = sum(ce) / len(ce)
    assert losses['ssl.rot.loss_rot'].item() == pytest.approx(
        0.05 * ref, rel=1e-4)
    acc = 100 * sum(int(np.argmax(r) == lab)
                    for r, lab in zip(logits.tolist(), [1, 3])) / 2
    assert losses['ssl.rot.acc_rot'].item() == pytest.approx(acc)
    losses['ssl.rot.loss_rot'].backward()
    assert head.fc.weight.grad is not None
    assert model.backbone.stem[0].weight.grad.abs().sum() > 0


def test_rotation_label_errors():
    model = _rot_model()
    batch = _batch_with_views([0, 5])
    data = model.data_preprocessor(batch, training=True)
    with pytest.raises(ValueError, match='rotation labels'):
        model.loss(data['inputs'], data['data_samples'])
    batch = _batch_with_views([0, 1])
    del batch['data_samples'][0].ssl_labels
    data = model.data_preprocessor(batch, training=True)
    with pytest.raises(KeyError, match='ssl_labels'):
        model.loss(data['inputs'], data['data_samples'])


def test_ssl_color_jitter_hue_shift_wraps_like_mmcv():
    import cv2
    import mmcv

    from mmmtl.datasets.transforms.ssl_views import SSLColorJitter, shift_hue
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (6, 7, 3), dtype=np.uint8)
    # positive shifts: identical to mmcv's cv2 implementation
    assert np.array_equal(shift_hue(img, 0.1),
                          mmcv.adjust_hue(img, 0.1, backend='cv2'))
    # a negative shift of -0.1 turn is int(-25.5) = -25 = +231 (mod 256)
    hsv = cv2.cvtColor(img, cv2.COLOR_BGR2HSV_FULL)
    hsv[..., 0] = (hsv[..., 0].astype(int) + 231) % 256
    expected = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR_FULL)
    assert np.array_equal(shift_hue(img, -0.1), expected)
    np.random.seed(0)
    out = SSLColorJitter(brightness=0.4, contrast=0.4, saturation=0.4,
                         hue=0.1)(dict(img=img.copy()))
    assert out['img'].shape == img.shape and out['img'].dtype == np.uint8

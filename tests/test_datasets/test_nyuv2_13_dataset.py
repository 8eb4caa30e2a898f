"""NYUv2MTANDataset reads the MTAN ``.npy`` layout exactly."""
import numpy as np
import pytest
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS

from mmmtl.datasets.nyuv2_13 import NYUV2_13_CLASSES, NYUv2MTANDataset
from mmmtl.testing.dataset_fixtures import make_mtan_nyu

H, W = 24, 32
LOAD = [dict(type='LoadMultiTaskImageFromFile'),
        dict(type='LoadMultiTaskAnnotations')]


def ids_of(dataset):
    return [dataset.get_data_info(i)['sample_id']
            for i in range(len(dataset))]


def build(root, **kwargs):
    init_default_scope('mmseg')
    cfg = dict(type='NYUv2MTANDataset', data_root=str(root), pipeline=LOAD)
    cfg.update(kwargs)
    return DATASETS.build(cfg)


def test_decoding(tmp_path):
    truth = make_mtan_nyu(tmp_path)
    dataset = build(tmp_path)
    assert isinstance(dataset, NYUv2MTANDataset)
    assert len(dataset) == 3 and dataset.num_classes == dict(semseg=13)
    assert dataset.metainfo['classes'] == NYUV2_13_CLASSES
    img, label, depth, normal = truth[('train', 1)]
    results = dataset[1]
    # RGB [0, 1] -> BGR float [0, 255].
    np.testing.assert_allclose(results['img'][..., ::-1], img * 255,
                               rtol=1e-5)
    seg = results['gt_seg_map']
    np.testing.assert_array_equal(seg[0, :3], [255, 0, 12])
    np.testing.assert_array_equal(
        seg, np.where(label < 0, 255, label).astype(np.int64))
    np.testing.assert_array_equal(results['gt_depth_map'], depth[..., 0])
    assert (results['gt_depth_map'][1, :3] == 0).all()
    np.testing.assert_allclose(results['gt_normals'], normal, atol=1e-6)
    assert (results['gt_normals'][2, :4] == 0).all()


def test_numeric_order_split_file_and_errors(tmp_path):
    make_mtan_nyu(tmp_path, counts=dict(train=12, val=2))
    dataset = build(tmp_path, pipeline=[])
    assert ids_of(dataset) == [
        str(i) for i in range(12)]
    assert len(build(tmp_path, split='val', pipeline=[])) == 2
    (tmp_path / 'frac.txt').write_text('3\n10\n')
    sub = build(tmp_path, split_file='frac.txt', pipeline=[])
    assert ids_of(sub) == ['3', '10']
    with pytest.raises(FileNotFoundError, match='not found'):
        build(tmp_path / 'nowhere', pipeline=[])
    with pytest.raises(ValueError, match='human_parts'):
        build(tmp_path, tasks=['human_parts'])

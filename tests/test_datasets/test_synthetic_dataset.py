"""The synthetic dataset class reads the generator's files back."""
import json
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS, MODELS
from torch.utils.data import DataLoader

from mmmtl.datasets import SyntheticMultiTaskDataset
from mmmtl.structures import TASKS

PIPELINE = [
    dict(type='LoadMultiTaskImageFromFile'),
    dict(type='LoadMultiTaskAnnotations'),
    dict(type='MultiTaskRandomResize', scale=(80, 64),
         ratio_range=(1.0, 1.5), keep_ratio=True),
    dict(type='RandomCrop', crop_size=(48, 64)),
    dict(type='MultiTaskRandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackMultiTaskInputs'),
]


def build(root, **kwargs):
    init_default_scope('mmseg')
    cfg = dict(type='SyntheticMultiTaskDataset', data_root=root,
               generate_if_missing=False, pipeline=PIPELINE)
    cfg.update(kwargs)
    return DATASETS.build(cfg)


def test_metainfo_and_split(tiny_synthetic_root):
    train = build(tiny_synthetic_root)
    val = build(tiny_synthetic_root, split='val', pipeline=[])
    assert len(train) == 8 and len(val) == 4
    assert train.metainfo['tasks'] == list(
        SyntheticMultiTaskDataset.METAINFO['tasks'])
    assert len(train.metainfo['classes']) >= 6
    assert train.num_classes == dict(
        semseg=len(train.metainfo['classes']),
        human_parts=len(train.metainfo['human_parts_classes']))


def test_samples_decode_to_generator_values(tiny_synthetic_root):
    dataset = build(tiny_synthetic_root, split='val',
                    pipeline=PIPELINE[:2])
    results = dataset[0]
    h, w = results['img'].shape[:2]
    assert (h, w) == (64, 80)
    depth = results['gt_depth_map']
    assert depth.dtype == np.float32 and depth.max() < 30
    normals = results['gt_normals']
    valid = np.any(normals != 0, axis=-1)
    np.testing.assert_allclose(np.linalg.norm(normals[valid], axis=-1), 1,
                               atol=1e-3)
    assert set(np.unique(results['gt_saliency'])) <= {0, 1}
    assert set(np.unique(results['gt_edge_map'])) <= {0, 1}


def test_task_subset_and_unknown_task(tiny_synthetic_root):
    dataset = build(tiny_synthetic_root, tasks=['depth', 'semseg'])
    sample = dataset[0]['data_samples']
    assert 'gt_depth_map' in sample and 'gt_sem_seg' in sample
    assert 'gt_normals' not in sample
    with pytest.raises(KeyError, match="unknown task 'dpth'"):
        build(tiny_synthetic_root, tasks=['dpth'])


def test_dataloader_and_preprocessor_batches(tiny_synthetic_root):
    dataset = build(tiny_synthetic_root)
    loader = DataLoader(dataset, batch_size=4, collate_fn=pseudo_collate,
                        num_workers=2)
    pre = MODELS.build(dict(type='MultiTaskDataPreProcessor',
                            mean=[0, 0, 0], std=[1, 1, 1],
                            size_divisor=32))
    data = pre(next(iter(loader)), training=True)
    assert data['inputs'].shape == (4, 3, 64, 64)
    for sample in data['data_samples']:
        for name, spec in TASKS.items():
            gt = sample.get_gt(name).data
            assert gt.shape == (spec.gt_channels, 64, 64), name
            # crops are 48 high, padded to 64: the padding is ignored
            assert gt[:, 48:, :].eq(spec.pad_value).all()
            assert not gt[:, :48, :].eq(spec.pad_value).all()


def test_missing_root_is_an_error_unless_generation_is_asked(tmp_path):
    typo = str(tmp_path / 'data' / 'synthtic')
    with pytest.raises(FileNotFoundError) as error:
        build(typo, generator_cfg=dict(num_train=3, num_val=2))
    message = str(error.value)
    assert repr(typo) in message
    assert (f'tools/misc/generate_synthetic.py --out {typo} --num-train 3 '
            '--num-val 2') in message
    assert 'generate_if_missing=True' in message
    assert not osp.exists(typo)  # nothing generated at the mistyped path
    # With the flag it is generated once.
    tiny = dict(num_train=2, num_val=1, height=32, width=40, num_workers=1)
    dataset = build(typo, generate_if_missing=True, generator_cfg=tiny)
    assert len(dataset) == 2
    assert osp.isfile(osp.join(typo, 'meta.json'))


def test_no_config_generates_data():
    """A missing synthetic data_root is an error in every config (`make
    demo` generates data/synthetic itself, tools/misc/run_demo.py)."""
    import glob

    from mmengine.config import Config
    repo = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    seen = 0
    for path in sorted(glob.glob(osp.join(repo, 'configs', '*', '*.py'))):
        cfg = Config.fromfile(path)
        for split in ('train', 'val', 'test'):
            dataset = cfg.get(f'{split}_dataloader', {}).get('dataset', {})
            if dataset.get('type') != 'SyntheticMultiTaskDataset':
                continue
            seen += 1
            assert not dataset.get('generate_if_missing', False), \
                f'{path} {split}_dataloader'
    assert seen > 30

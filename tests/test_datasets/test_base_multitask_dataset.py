"""An empty split is an error naming the split file; a listed sample whose
image or annotation is missing is named."""
import os
import os.path as osp
import shutil

import pytest
from mmseg.registry import DATASETS

from mmmtl.datasets import NYUDMultiTaskDataset, SyntheticMultiTaskDataset
from mmmtl.datasets.base_multitask_dataset import BaseMultiTaskDataset
from mmmtl.datasets.transforms import AnnotationError
from mmmtl.testing.dataset_fixtures import make_nyud


def test_empty_synthetic_split_file_is_named(tiny_synthetic_root, tmp_path):
    root = str(tmp_path / 'synthetic')
    shutil.copytree(tiny_synthetic_root, root)
    path = osp.join(root, 'splits', 'train.txt')
    with open(path, 'w') as f:
        f.write('\n\n')
    with pytest.raises(ValueError, match=f'split file {path} lists no '
                       'samples'):
        SyntheticMultiTaskDataset(data_root=root, generate_if_missing=False)


def test_empty_split_file_of_a_real_layout_is_named(tmp_path):
    make_nyud(tmp_path)
    path = tmp_path / 'empty.txt'
    path.write_text('')
    with pytest.raises(ValueError, match=f'split file {path} lists no '
                       'samples'):
        NYUDMultiTaskDataset(data_root=str(tmp_path), split_file=str(path))


def test_any_empty_split_is_an_error_before_concatenation():

    class _Empty(BaseMultiTaskDataset):
        METAINFO = dict(tasks=('depth', ))

        def read_split(self):
            return []

        def sample_info(self, sample_id):
            raise AssertionError('no sample')

    with pytest.raises(ValueError, match=r"_Empty \(nowhere\): split None "
                       r'\(default list\) lists no samples'):
        _Empty(data_root='nowhere')


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

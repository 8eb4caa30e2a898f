"""An empty split is an error naming the split file."""
import os.path as osp
import shutil

import pytest

from mmmtl.datasets import NYUDMultiTaskDataset, SyntheticMultiTaskDataset
from mmmtl.datasets.base_multitask_dataset import BaseMultiTaskDataset
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

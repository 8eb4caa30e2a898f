"""Shared fixtures: a tiny synthetic dataset generated once per session."""
import os.path as osp

import pytest
from mmengine.registry import init_default_scope

import mmmtl  # noqa: F401  (registers every module)

init_default_scope('mmseg')

TINY = dict(num_train=8, num_val=4, height=64, width=80, seed=0,
            num_workers=1)


@pytest.fixture(scope='session')
def tiny_synthetic_root(tmp_path_factory) -> str:
    """Path of a tiny synthetic dataset (8 train, 4 val, 64x80)."""
    from mmmtl.datasets.synthetic_generator import generate_synthetic_dataset
    root = osp.join(str(tmp_path_factory.mktemp('data')), 'synthetic')
    generate_synthetic_dataset(root, **TINY)
    return root

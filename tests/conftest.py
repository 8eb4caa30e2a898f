"""Shared fixtures (a tiny synthetic dataset generated once per session)
and the ``cuda`` marker.

Tests of CUDA paths (float16 autocast, NCCL, CUDA memory accounting, mmcv's
CUDA ops) carry ``@pytest.mark.cuda``: they run where a GPU is visible and
are skipped, with the reason shown, everywhere else. ``pytest -m cuda``
selects only them, ``pytest -m "not cuda"`` leaves them out.
"""
import os.path as osp

import pytest
import torch
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


def pytest_configure(config):
    config.addinivalue_line(
        'markers', 'cuda: needs a CUDA GPU (skipped without one)')


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason='needs a CUDA GPU (none is visible)')
    for item in items:
        if item.get_closest_marker('cuda') is not None:
            item.add_marker(skip)

"""The configs keep the layers of docs/en/user_guides/configs.md.

A method config inherits only ``configs/_base_`` files or, for an ablation,
a config of its own folder; chains are at most three levels deep; leaves
are short; the model files name no tasks (the dataset files do, once).
Checked by reading the files (no config is executed).
"""
import ast
import glob
import os.path as osp
import statistics
from typing import List

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = osp.join(REPO, 'configs')
BASE = osp.join(CONFIGS, '_base_')
# Method folders rewritten on the layers (add a folder once it follows them).
LAYERED = ['hps', 'single_task', 'padnet', 'papnet', 'mtinet', 'ctal', 'ccr',
           'compl', 'mtcp', 'mtl_methods']
LEAVES = sorted(p for folder in LAYERED
                for p in glob.glob(osp.join(CONFIGS, folder, '*.py')))


def bases_of(path: str) -> List[str]:
    """Absolute paths of the ``_base_`` files a config names."""
    tree = ast.parse(open(path, encoding='utf-8').read(), filename=path)
    for node in tree.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and getattr(node.targets[0], 'id', None) == '_base_'):
            value = ast.literal_eval(node.value)
            names = [value] if isinstance(value, str) else list(value)
            return [
                osp.normpath(osp.join(osp.dirname(path), name))
                for name in names
            ]
    return []


def depth_of(path: str) -> int:
    """Inheritance levels above a config (0: it names no ``_base_``)."""
    bases = bases_of(path)
    return 1 + max(depth_of(b) for b in bases) if bases else 0


def test_layered_folders_have_configs():
    for folder in LAYERED:
        assert glob.glob(osp.join(CONFIGS, folder, '*.py')), folder


@pytest.mark.parametrize('path', LEAVES, ids=osp.basename)
def test_leaf_inherits_base_files_or_its_own_folder(path):
    for base in bases_of(path):
        assert osp.exists(base), f'{path}: _base_ {base} does not exist'
        own_folder = osp.dirname(base) == osp.dirname(path)
        assert base.startswith(BASE + osp.sep) or own_folder, (
            f'{osp.relpath(path, REPO)} inherits '
            f'{osp.relpath(base, REPO)}: a method config inherits only '
            'configs/_base_ files or configs of its own folder')
    assert depth_of(path) <= 3, (
        f'{osp.relpath(path, REPO)} is {depth_of(path)} levels deep '
        '(at most 3)')


def test_leaves_are_short():
    lengths = {p: len(open(p).read().splitlines()) for p in LEAVES}
    assert statistics.median(lengths.values()) <= 10
    long = {osp.basename(p): n for p, n in lengths.items() if n > 30}
    assert not long, long


# Where a leaf must drop its base's keys: CompL wraps the target dataset in
# CompositeDataset (the wrapper takes none of the dataset's keys).
DELETE_ALLOWED = {
    'compl-depth-densecl_deeplabv3plus-r26-gn_20k_nyud-425x560.py',
    'compl-depth-densecl_resnet18_2k_synthetic-128x160.py',
    'compl-semseg-densecl_deeplabv3plus-r26-gn_80k_voc-512x512.py',
}


def test_delete_is_rare():
    uses = {osp.basename(p): open(p).read().count('_delete_')
            for p in LEAVES if osp.basename(p) not in DELETE_ALLOWED}
    # the ones: replacing num_classes=dict(semseg=21) by dict(human_parts=7)
    # (single_task) and MT-CP's PASCAL-Context metric on three of the five
    # tasks' references
    assert sum(uses.values()) <= 2, {k: v for k, v in uses.items() if v}
    for name in DELETE_ALLOWED:
        assert open(osp.join(CONFIGS, 'compl', name)).read().count(
            '_delete_=True') == 1, name


@pytest.mark.parametrize(
    'path', sorted(glob.glob(osp.join(BASE, 'models', '**', '*.py'),
                             recursive=True)),
    ids=lambda p: osp.relpath(p, BASE))
def test_model_files_name_no_tasks_and_inherit_models_only(path):
    text = open(path).read()
    assert 'tasks=' not in text, (
        f'{osp.relpath(path, REPO)} names tasks: the dataset file declares '
        'them and method configs pass _base_.tasks to the head')
    for base in bases_of(path):
        assert base.startswith(osp.join(BASE, 'models') + osp.sep), base


def test_tasks_are_declared_once_per_file():
    for path in LEAVES + glob.glob(osp.join(BASE, 'datasets', '*.py')):
        assert open(path).read().count('tasks = [') <= 1, path


def test_depth_of_counts_levels(tmp_path):
    (tmp_path / 'a.py').write_text("_base_ = ['./b.py']\n")
    (tmp_path / 'b.py').write_text("_base_ = './c.py'\n")
    (tmp_path / 'c.py').write_text('x = 1\n')
    assert depth_of(str(tmp_path / 'a.py')) == 2
    assert depth_of(str(tmp_path / 'c.py')) == 0

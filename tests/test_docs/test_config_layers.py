"""Config layers as in MMSegmentation: a method config inherits only
``configs/_base_`` files and configs of its own folder (an ablation its
method's parent), and no chain of ``_base_`` files is more than three deep."""
import ast
import glob
import os.path as osp
from typing import List

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
METHOD_CONFIGS = sorted(
    glob.glob(osp.join(REPO, 'configs', '[!_]*', '*.py')))
MAX_DEPTH = 3


def base_files(path: str) -> List[str]:
    """Absolute paths of the ``_base_`` files a config names.

    Args:
        path (str): A config file.

    Returns:
        list[str]: Its bases, resolved against its folder (empty when it
        has none).
    """
    with open(path, encoding='utf-8') as f:
        tree = ast.parse(f.read(), filename=path)
    for node in tree.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and getattr(node.targets[0], 'id', None) == '_base_'):
            names = ast.literal_eval(node.value)
            names = [names] if isinstance(names, str) else names
            return [osp.normpath(osp.join(osp.dirname(path), name))
                    for name in names]
    return []


def depth(path: str) -> int:
    """Longest chain of ``_base_`` links below a config (0: none)."""
    return max((1 + depth(base) for base in base_files(path)), default=0)


def foreign_bases(path: str, configs_root: str) -> List[str]:
    """Bases of a method config outside ``_base_`` and its own folder."""
    base_root = osp.join(configs_root, '_base_') + osp.sep
    return [base for base in base_files(path)
            if not base.startswith(base_root)
            and osp.dirname(base) != osp.dirname(path)]


def test_configs_found():
    assert len(METHOD_CONFIGS) > 100


@pytest.mark.parametrize('path', METHOD_CONFIGS,
                         ids=lambda p: osp.relpath(p, REPO))
def test_method_config_layers(path):
    configs_root = osp.join(REPO, 'configs')
    assert foreign_bases(path, configs_root) == [], \
        f'{osp.relpath(path, REPO)} inherits another method folder\'s ' \
        'config; use configs/_base_ files (or, for an ablation, a config ' \
        'of its own folder)'
    assert depth(path) <= MAX_DEPTH, \
        f'{osp.relpath(path, REPO)}: _base_ chain {depth(path)} deep, ' \
        f'expected at most {MAX_DEPTH}'


def test_checks_catch_a_foreign_base_and_a_deep_chain(tmp_path):
    (tmp_path / '_base_').mkdir()
    for folder in ('a', 'b'):
        (tmp_path / folder).mkdir()
    (tmp_path / '_base_' / 'm0.py').write_text('x = 1\n')
    for i in range(1, 4):
        (tmp_path / '_base_' / f'm{i}.py').write_text(
            f"_base_ = './m{i - 1}.py'\n")
    (tmp_path / 'a' / 'root.py').write_text("_base_ = ['../_base_/m3.py']\n")
    (tmp_path / 'a' / 'abl.py').write_text("_base_ = './root.py'\n")
    (tmp_path / 'b' / 'x.py').write_text("_base_ = ['../a/root.py']\n")
    root = str(tmp_path)
    assert depth(str(tmp_path / 'a' / 'root.py')) == 4
    assert depth(str(tmp_path / 'a' / 'abl.py')) == 5
    assert foreign_bases(str(tmp_path / 'a' / 'abl.py'), root) == []
    assert foreign_bases(str(tmp_path / 'b' / 'x.py'), root) == [
        str(tmp_path / 'a' / 'root.py')]

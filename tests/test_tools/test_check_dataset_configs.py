"""tools/misc/check_dataset.py checks every config family, CompL's
CompositeDataset included, on miniature copies of each dataset layout."""
import copy
import glob
import importlib.util
import os.path as osp
import re
import shutil

import cv2
import pytest
from mmengine.config import Config

from mmmtl.testing.dataset_fixtures import (make_city, make_mtan_nyu,
                                            make_nyud, make_pascal, make_voc)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
spec = importlib.util.spec_from_file_location(
    'check_dataset_tool', osp.join(REPO, 'tools/misc/check_dataset.py'))
check_dataset = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check_dataset)

# every shipped config (not the _base_ folder nor partial *_base.py files)
CONFIGS = sorted(
    p for p in glob.glob(osp.join(REPO, 'configs', '*', '*.py'))
    if '_base_' not in p and not p.endswith('_base.py'))


def _family(path: str) -> str:
    """``<method folder>:<dataset>[:composite]`` of a config file."""
    name = osp.basename(path)[:-3]
    dataset = re.sub(r'-\d+x\d+$', '', name.rsplit('_', 1)[-1])
    composite = ':composite' if 'compl-' in name else ''
    lf = ':lf' if '-lf' in name else ''
    return f'{osp.basename(osp.dirname(path))}:{dataset}{composite}{lf}'


FAMILIES = {}
for _path in CONFIGS:
    FAMILIES.setdefault(_family(_path), _path)

MAKERS = dict(NYUDMultiTaskDataset=make_nyud,
              PascalContextMultiTaskDataset=make_pascal,
              NYUv2MTANDataset=make_mtan_nyu,
              CityscapesMTANDataset=make_city,
              PascalVOCMultiTaskDataset=make_voc)


@pytest.fixture(scope='module')
def roots(tmp_path_factory, tiny_synthetic_root):
    """Dataset type -> a miniature copy of its layout."""
    base = tmp_path_factory.mktemp('layouts')
    out = dict(SyntheticMultiTaskDataset=tiny_synthetic_root)
    for kind, make in MAKERS.items():
        make(base / kind)
        out[kind] = str(base / kind)
    return out


def _point_at(dataset_cfg: dict, roots: dict) -> None:
    """Set ``data_root`` of every concrete dataset inside wrappers."""
    for key in ('dataset', 'aux_dataset'):
        if isinstance(dataset_cfg.get(key), dict):
            _point_at(dataset_cfg[key], roots)
    for inner in dataset_cfg.get('datasets') or []:
        _point_at(inner, roots)
    if dataset_cfg.get('type') in roots:
        dataset_cfg['data_root'] = roots[dataset_cfg['type']]


def _config(path: str, roots: dict) -> Config:
    cfg = Config.fromfile(path)
    for split in ('train', 'val', 'test'):
        loader = cfg.get(f'{split}_dataloader')
        if loader and loader.get('dataset'):
            _point_at(loader['dataset'], roots)
    return cfg


def test_every_family_is_covered():
    families = {f.split(':')[0] for f in FAMILIES}
    assert families == {'ccr', 'compl', 'ctal', 'hps', 'mtcp', 'mtinet',
                        'mtl_methods', 'padnet', 'papnet', 'single_task'}
    datasets = {f.split(':')[1] for f in FAMILIES}
    assert {'synthetic', 'nyud', 'pascal-context', 'nyuv2-13', 'cityscapes',
            'voc'} <= datasets
    assert any(f.endswith(':composite:lf') for f in FAMILIES)


@pytest.mark.parametrize('family', sorted(FAMILIES))
def test_config_family_checks_clean_on_fixtures(family, roots):
    cfg = _config(FAMILIES[family], roots)
    report = check_dataset.check_config(cfg, max_samples=2)
    assert report['errors'] == [], report['errors']
    assert report['datasets'] and all(
        d['samples'] + d.get('already_checked', 0) > 0
        for d in report['datasets']), report['datasets']
    aux = [d for d in report['datasets']
           if d['name'].endswith('(auxiliary images)')]
    assert bool(aux) == (':composite' in family), report['datasets']
    if family.endswith(':composite:lf'):  # images outside the 10% too
        assert aux[0]['samples'] > 0, aux


def test_composite_auxiliary_images_are_checked(roots, tmp_path):
    """A broken image used only by the auxiliary task (outside the 10%
    label fraction) is found."""
    root = str(tmp_path / 'synthetic')
    shutil.copytree(roots['SyntheticMultiTaskDataset'], root)
    path = [p for p in FAMILIES.values()
            if 'compl-depth-densecl-lf10_resnet18' in p][0]
    cfg = _config(path, dict(roots, SyntheticMultiTaskDataset=root))
    target = copy.deepcopy(cfg.train_dataloader.dataset.dataset)
    from mmseg.registry import DATASETS
    kept = DATASETS.build(check_dataset._scan_cfg(target))
    kept_images = {kept.get_data_info(i)['img_path']
                   for i in range(len(kept))}
    with open(osp.join(root, 'splits', 'train.txt')) as f:
        ids = [line.strip() for line in f if line.strip()]
    aux_only = [i for i in ids if osp.join(root, 'images', f'{i}.png')
                not in kept_images][0]
    broken = osp.join(root, 'images', f'{aux_only}.png')
    with open(broken, 'wb') as f:
        f.write(b'\x89PNG broken')
    report = check_dataset.check_config(cfg, splits=['train'])
    errors = [e for e in report['errors'] if broken in e]
    assert len(errors) == 1, report['errors']
    assert '(auxiliary images)' in errors[0]
    assert cv2.imread(broken) is None

"""``.dev_scripts/compare_configs.py``: resolved-config dumps and their
comparison (renames, documented differences, helper variables)."""
import importlib.util
import json
import os.path as osp

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
_spec = importlib.util.spec_from_file_location(
    'compare_configs', osp.join(REPO, '.dev_scripts', 'compare_configs.py'))
cc = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cc)


def _write(root, rel, text):
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _tree(root, lr):
    _write(root, 'configs/_base_/schedules/s.py',
           f'optim_wrapper = dict(optimizer=dict(type="SGD", lr={lr}))\n'
           'helper = 3\n')
    _write(root, 'configs/m/a.py',
           "_base_ = ['../_base_/schedules/s.py']\n"
           'model = dict(decode_head=dict(tasks=("semseg", "depth")))\n')


def test_dump_resolves_bases_and_normalises(tmp_path):
    _tree(tmp_path, 0.01)
    dumped = cc.dump_configs(str(tmp_path))
    assert list(dumped) == ['configs/m/a.py']  # _base_ is not a config
    cfg = dumped['configs/m/a.py']
    assert cfg['optim_wrapper'] == {
        'optimizer': {'type': 'SGD', 'lr': 0.01}}
    # tuples become lists, so a tuple/list swap is no difference
    assert cfg['model']['decode_head']['tasks'] == ['semseg', 'depth']
    json.dumps(dumped)


def test_broken_config_is_reported_not_raised(tmp_path):
    _write(tmp_path, 'configs/m/bad.py', "_base_ = ['./missing.py']\n")
    dumped = cc.dump_configs(str(tmp_path))
    assert '__error__' in dumped['configs/m/bad.py']


def test_compare_finds_value_changes_and_classifies_keys(tmp_path):
    _tree(tmp_path / 'old', 0.01)
    _tree(tmp_path / 'new', 0.02)
    before = cc.dump_configs(str(tmp_path / 'old'))
    after = cc.dump_configs(str(tmp_path / 'new'))
    after['configs/m/a.py']['helper'] = 4
    report = cc.compare_dumps(before, after, {})
    diffs = report['changed']['configs/m/a.py']
    assert ('optim_wrapper.optimizer.lr', 0.01, 0.02, True, None) in diffs
    assert ('helper', 3, 4, False, None) in diffs
    assert cc.print_report(report, max_rows=5) == 1  # runner key only
    assert cc.print_report(report, max_rows=5, strict=True) == 2


def test_identical_dumps_compare_clean(tmp_path):
    _tree(tmp_path, 0.01)
    dumped = cc.dump_configs(str(tmp_path))
    report = cc.compare_dumps(dumped, json.loads(json.dumps(dumped)), {})
    assert report['changed'] == {}
    assert cc.print_report(report, max_rows=5, strict=True) == 0


def test_file_and_key_renames_and_documented_differences():
    before = {'configs/m/old.py': {'model': {'a': 1, 'b': 2}, 'x': 1}}
    after = {'configs/m/new.py': {'model': {'c': 1, 'b': 3}, 'x': 1}}
    mapping = dict(
        files={'configs/m/old.py': 'configs/m/new.py'},
        keys={'model.a': 'model.c'},
        documented=[dict(configs='configs/m/*', key='model.b',
                         reason='b is 3 now')])
    report = cc.compare_dumps(before, after, mapping)
    assert report['removed'] == [] and report['added'] == []
    assert report['changed']['configs/m/new.py'] == [
        ('model.b', 2, 3, True, 'b is 3 now')]
    assert cc.print_report(report, max_rows=5) == 0


def test_unannounced_and_announced_removals():
    before = {'configs/m/a.py': {}, 'configs/m/gone.py': {}}
    after = {'configs/m/a.py': {}, 'configs/m/b.py': {}}
    report = cc.compare_dumps(before, after, {})
    assert report['removed'] == ['configs/m/gone.py']
    assert report['added'] == ['configs/m/b.py']
    report = cc.compare_dumps(before, after,
                              dict(removed=['configs/m/gone.py']))
    assert report['removed'] == []
    assert report['removed_documented'] == ['configs/m/gone.py']
    assert cc.print_report(report, max_rows=5) == 1  # b.py is unannounced
    report = cc.compare_dumps(before, after,
                              dict(removed=['configs/m/gone.py'],
                                   added=['configs/m/b.py']))
    assert report['added'] == []
    assert report['added_documented'] == ['configs/m/b.py']
    assert cc.print_report(report, max_rows=5) == 0


def test_mapping_errors_name_the_fault(tmp_path):
    with pytest.raises(KeyError, match='configs/m/nope.py'):
        cc.compare_dumps({'configs/m/a.py': {}}, {'configs/m/a.py': {}},
                         dict(files={'configs/m/nope.py': 'configs/m/a.py'}))
    path = tmp_path / 'mapping.json'
    path.write_text(json.dumps(dict(renames={})))
    with pytest.raises(ValueError, match='renames'):
        cc.load_mapping(str(path))
    path.write_text(json.dumps(dict(documented=[dict(key='a')])))
    with pytest.raises(ValueError, match=r'"documented"\[0\] lacks'):
        cc.load_mapping(str(path))


def test_output_digests_compare_exactly():
    torch = pytest.importorskip('torch')
    out = {'semseg': torch.zeros(1, 2, 3, 3), 'depth': torch.ones(1, 1, 3)}
    digests = cc.collect_digests(out)
    assert set(digests) == {'semseg', 'depth'}
    assert digests['depth']['shape'] == [1, 1, 3]
    changed = cc.collect_digests(
        {'semseg': torch.zeros(1, 2, 3, 3), 'depth': torch.ones(1, 1, 3) * 2})
    assert cc.compare_outputs({'c.py': digests}, {'c.py': digests}, {}) == 0
    assert cc.compare_outputs({'c.py': digests}, {'c.py': changed}, {}) == 1


def test_shipped_mapping_file_is_valid():
    mapping = cc.load_mapping(
        osp.join(REPO, '.dev_scripts', 'config_redesign_changes.json'))
    for path in mapping.get('removed', []):
        assert not osp.exists(osp.join(REPO, path)), path

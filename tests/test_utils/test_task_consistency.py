import os.path as osp

import pytest
from mmengine.config import Config

from mmmtl.utils import check_task_consistency, collect_env

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO = osp.join(REPO, 'configs/hps/hps_resnet18_2k_synthetic-128x160.py')


def test_demo_config_is_consistent():
    assert check_task_consistency(Config.fromfile(DEMO)) == [
        'semseg', 'depth', 'normals', 'edge', 'saliency'
    ]


@pytest.mark.parametrize('task', ['semseg', 'depth', 'normals', 'edge',
                                  'saliency'])
def test_single_task_configs_are_consistent(task):
    cfg = Config.fromfile(osp.join(
        REPO, f'configs/single_task/stl-{task}_resnet18_2k_synthetic-'
        '128x160.py'))
    assert check_task_consistency(cfg) == [task]


def test_metric_disagreeing_with_head_is_named():
    cfg = Config.fromfile(DEMO)
    cfg.val_evaluator = dict(type='MultiTaskMetric', tasks=['semseg'])
    with pytest.raises(ValueError, match=r"val_evaluator has tasks "
                       r"\['semseg'\] \(missing \['depth'"):
        check_task_consistency(cfg)


def test_dataset_missing_a_head_task_is_named():
    cfg = Config.fromfile(DEMO)
    cfg.train_dataloader.dataset.tasks = ['semseg', 'depth']
    with pytest.raises(ValueError, match='train_dataloader.dataset has '
                       'tasks'):
        check_task_consistency(cfg)


def test_unknown_task_in_head_is_named():
    cfg = Config.fromfile(DEMO)
    cfg.model.decode_head.tasks = ['semseg', 'dpeth']
    with pytest.raises(KeyError, match="unknown task 'dpeth' in "
                       'model.decode_head.tasks'):
        check_task_consistency(cfg)


def test_collect_env_reports_the_stack():
    env = collect_env()
    for key in ('PyTorch', 'MMEngine', 'MMCV', 'MMSegmentation', 'mmmtl'):
        assert key in env, key


def test_collect_env_prints_one_line_per_entry():
    env = collect_env()
    text = str(env)
    lines = text.splitlines()
    assert len(lines) == len(env)
    assert f"MMSegmentation: {env['MMSegmentation']}" in lines
    assert not text.startswith(('{', 'EnvReport', 'OrderedDict'))
    details = env.get('PyTorch compiling details', '')
    if '\n' in details.strip():
        assert len(text) < len(details)
        assert "more lines in collect_env()['PyTorch compiling details']" \
            in text

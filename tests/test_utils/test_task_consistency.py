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


def test_metric_without_tasks_evaluates_the_dataset_tasks():
    cfg = Config.fromfile(DEMO)
    cfg.val_evaluator = dict(type='MultiTaskMetric')
    assert check_task_consistency(cfg) == [
        'semseg', 'depth', 'normals', 'edge', 'saliency'
    ]
    cfg.model.decode_head.tasks = ['semseg', 'depth']
    cfg.train_dataloader.dataset.tasks = ['semseg', 'depth']
    cfg.test_dataloader.dataset.tasks = ['semseg', 'depth']
    cfg.test_evaluator = dict(type='MultiTaskMetric')
    with pytest.raises(ValueError, match=r"val_evaluator has tasks .*extra "
                       r"\['normals', 'edge', 'saliency'\]"):
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


def test_model_tasks_are_the_reference_when_given():
    cfg = Config.fromfile(DEMO)
    tasks = list(cfg.model.decode_head.pop('tasks'))
    with pytest.raises(ValueError, match='must set `model.tasks`'):
        check_task_consistency(cfg)
    cfg.model.tasks = tasks
    assert check_task_consistency(cfg) == tasks
    cfg.model.decode_head.tasks = tasks[:2]
    with pytest.raises(ValueError, match=r"predicts tasks \['semseg', "
                       r"'depth'\] but model.tasks is"):
        check_task_consistency(cfg)
    cfg.model.decode_head.tasks = tasks
    assert check_task_consistency(cfg) == tasks


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


@pytest.mark.parametrize('count', [5, 7])
def test_head_class_count_differing_from_the_data_is_named(count):
    cfg = Config.fromfile(DEMO)
    cfg.model.decode_head.num_classes = dict(semseg=count)
    with pytest.raises(ValueError,
                       match=rf'model.decode_head.num_classes.semseg is '
                       rf'{count} but train_dataloader.dataset '
                       r'\(SyntheticMultiTaskDataset\) has 6 classes'):
        check_task_consistency(cfg)


def test_class_counts_follow_dataset_options_and_metainfo():
    from mmmtl.utils.task_consistency import dataset_class_counts
    city = dict(type='CityscapesMTANDataset', data_root='x')
    assert dataset_class_counts(city) == dict(semseg=7)
    assert dataset_class_counts(dict(city, num_classes=19)) == dict(
        semseg=19)
    voc = dict(type='PascalVOCMultiTaskDataset', data_root='x',
               metainfo=dict(classes=('a', 'b')))
    assert dataset_class_counts(voc) == dict(semseg=2)
    composite = dict(type='CompositeDataset', dataset=dict(
        type='PascalContextMultiTaskDataset', data_root='x'))
    assert dataset_class_counts(composite) == dict(semseg=21, human_parts=7)
    cfg = Config.fromfile(osp.join(
        REPO, 'configs/ctal/ctal-ss_hrnet18_28k_cityscapes-128x256.py'))
    assert check_task_consistency(cfg)  # 19-class head, 19-class data
    cfg.train_dataloader.dataset.num_classes = 7
    with pytest.raises(ValueError, match='has 7 classes'):
        check_task_consistency(cfg)

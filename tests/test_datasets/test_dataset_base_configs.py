"""The real-data base configs parse and build; the HRNet-18 baselines build.

* every ``configs/_base_/datasets/*.py`` parses, names a registered dataset
  type, its train / val / test pipelines build, and its evaluators build
  (which checks the single-task references against the tasks);
* every ``configs/hps/*_hrnet18_*`` NYUD-v2 / PASCAL-Context config builds
  its model (pretrained weights disabled), which predicts every task with
  the dataset's number of classes and computes a loss per task.
"""
import glob
import os.path as osp
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS, METRICS, MODELS

import mmmtl  # noqa: F401  (registers the modules)
from mmmtl.testing import random_batch

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# dataset configs (not the pipeline-only compl_aux_views.py nor the shared
# pieces of multitask_loaders.py, which name no dataset type)
DATASET_BASES = sorted(
    p for p in glob.glob(osp.join(REPO, 'configs', '_base_', 'datasets',
                                  '*.py'))
    if 'dataset_type = ' in Path(p).read_text())
HRNET18_BASELINES = sorted(
    p for p in glob.glob(osp.join(REPO, 'configs', 'hps', '*_hrnet18_*.py'))
    if 'nyud' in osp.basename(p) or 'pascal' in osp.basename(p))
# Number of classes each real dataset declares (the heads must match).
CLASSES = {
    'nyud': dict(semseg=40),
    'pascal': dict(semseg=21, human_parts=7),
}


def test_configs_found():
    names = [osp.basename(p) for p in DATASET_BASES]
    for name in ('nyud.py', 'pascal_context.py', 'nyuv2_13.py',
                 'cityscapes_mtl.py'):
        assert name in names
    names = [osp.basename(p) for p in HRNET18_BASELINES]
    assert 'hps_hrnet18_20k_nyud-480x640.py' in names
    assert 'hps_hrnet18_50k_pascal-context-512x512.py' in names


@pytest.mark.parametrize('path', DATASET_BASES, ids=osp.basename)
def test_dataset_base_config_builds(path):
    init_default_scope('mmseg')
    cfg = Config.fromfile(path)
    tasks = list(cfg.tasks)
    for split in ('train', 'val', 'test'):
        dataset = cfg[f'{split}_dataloader']['dataset']
        assert DATASETS.get(dataset['type']) is not None, dataset['type']
        assert list(dataset['tasks']) == tasks
        pipeline = Compose(dataset['pipeline'])
        assert len(pipeline.transforms) == len(dataset['pipeline'])
        names = [type(t).__name__ for t in pipeline.transforms]
        assert names[-1] == 'PackMultiTaskInputs'
        if split == 'train':
            assert any('Flip' in n for n in names), names
    for key in ('val_evaluator', 'test_evaluator'):
        # the task list is written once: the metric takes the dataset's
        assert 'tasks' not in cfg[key]
        metric = METRICS.build(cfg[key])
        metric.dataset_meta = dict(tasks=tasks)
        assert list(metric.tasks) == tasks


@pytest.mark.parametrize('path', HRNET18_BASELINES, ids=osp.basename)
def test_hrnet18_baseline_builds_and_runs(path):
    init_default_scope('mmseg')
    cfg = Config.fromfile(path)
    cfg.model.backbone.init_cfg = None
    cfg.model.pop('pretrained', None)
    tasks = list(cfg.model.decode_head.tasks)
    assert list(cfg.train_dataloader.dataset.tasks) == tasks
    # delta_m references come from a paper, one per evaluated task.
    for key in ('val_evaluator', 'test_evaluator'):
        # the task list is written once: the metric takes the dataset's
        assert 'tasks' not in cfg[key]
        metric = METRICS.build(cfg[key])
        metric.dataset_meta = dict(tasks=tasks)
        assert list(metric.tasks) == tasks
        assert sorted(metric.single_task_baselines) == sorted(tasks)
    classes = CLASSES['nyud' if 'nyud' in path else 'pascal']
    assert dict(cfg.model.decode_head.num_classes) == classes

    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    assert not model.auxiliary_losses
    batch = random_batch(n=2, h=64, w=64, tasks=tasks)
    data = model.data_preprocessor(batch, training=True)
    losses = model.loss(data['inputs'], data['data_samples'])
    for task in tasks:
        assert any(k.startswith(f'{task}.loss') for k in losses), losses
    model.eval()
    with torch.no_grad():
        data = model.data_preprocessor(batch, training=False)
        preds = model.predict(data['inputs'], data['data_samples'])
    for task in tasks:
        pred = preds[0].get_pred(task).data
        assert pred.shape[-2:] == (64, 64), (task, pred.shape)
        if task in classes:
            assert int(pred.max()) < classes[task]

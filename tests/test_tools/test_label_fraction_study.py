"""tools/analysis_tools/label_fraction_study.py: schedule, seeds, stats."""
import importlib.util
import json
import math
import os.path as osp
import subprocess
from types import SimpleNamespace

import pytest
from mmengine.config import Config

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
STL = osp.join(REPO, 'configs', 'compl',
               'stl-depth-lf10_resnet18_2k_synthetic-128x160.py')
COMPL = osp.join(REPO, 'configs', 'compl',
                 'compl-depth-densecl-lf10_resnet18_2k_synthetic-128x160.py')


def load_study():
    path = osp.join(REPO, 'tools', 'analysis_tools',
                    'label_fraction_study.py')
    spec = importlib.util.spec_from_file_location('label_fraction_study',
                                                  path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_schedule_shortened_proportionally_and_seeds_set(tmp_path):
    study = load_study()
    cfg = study.run_config(COMPL, seed=2, iters=500, work_dir=str(tmp_path))
    # adamw-poly_2k: LinearLR 0..100, PolyLR 100..2000 -> x 0.25
    warmup, poly = cfg.param_scheduler
    assert (warmup.begin, warmup.end) == (0, 25)
    assert (poly.begin, poly.end) == (25, 500)
    assert cfg.train_cfg.max_iters == cfg.train_cfg.val_interval == 500
    assert cfg.default_hooks.checkpoint.interval == 500
    assert cfg.randomness.seed == 2
    target = cfg.train_dataloader.dataset.dataset
    assert target.label_fraction == 0.1 and target.label_fraction_seed == 2
    assert cfg.work_dir == str(tmp_path)
    # the baseline gets the same subset seed
    stl = study.run_config(STL, seed=2, iters=None, work_dir='x')
    assert stl.train_dataloader.dataset.label_fraction_seed == 2
    assert stl.train_cfg.max_iters == 2000  # unchanged without --iters
    # a one-iteration warm-up never collapses to an empty interval
    tiny = study.run_config(STL, seed=0, iters=4, work_dir='x')
    assert [(s.begin, s.end) for s in tiny.param_scheduler] == [(0, 1),
                                                               (1, 4)]


def test_epoch_schedules_are_refused():
    study = load_study()
    cfg = Config(dict(train_cfg=dict(type='EpochBasedTrainLoop',
                                      max_epochs=3)))
    with pytest.raises(ValueError, match='max_iters'):
        study.scale_schedule(cfg, 10)
    cfg = Config(dict(train_cfg=dict(max_iters=10),
                      param_scheduler=[dict(type='PolyLR', by_epoch=True)]))
    with pytest.raises(ValueError, match='epoch-based'):
        study.scale_schedule(cfg, 5)


def test_statistics_by_hand():
    study = load_study()
    results = {
        'stl': {0: {'depth/rmse': 1.0}, 1: {'depth/rmse': 3.0}},
        'compl': {0: {'depth/rmse': 0.5}, 1: {'depth/rmse': 2.0}},
    }
    summary = study.summarise(results, 'depth/rmse')
    stl = summary['stl']['metrics']['depth/rmse']
    assert stl['mean'] == 2.0 and stl['std'] == pytest.approx(math.sqrt(2))
    compl = summary['compl']['metrics']
    assert compl['depth/rmse']['mean'] == 1.25
    assert compl['depth/rmse']['std'] == pytest.approx(1.5 / math.sqrt(2))
    paired = compl['depth/rmse - reference']
    assert paired['values'] == [-0.5, -1.0]
    assert paired['mean'] == -0.75
    assert paired['std'] == pytest.approx(0.5 / math.sqrt(2))
    table = study.format_markdown(summary, 'depth/rmse')
    assert '| compl | 2 | 1.2500 ± 1.0607 | 0.5000, 2.0000 | ' \
        '-0.7500 ± 0.3536 |' in table
    assert study.mean_std([4.0])['std'] == 0.0


def test_final_metrics_reads_the_last_validation(tmp_path):
    study = load_study()
    log = tmp_path / '20260101_000000' / 'vis_data' / 'scalars.json'
    log.parent.mkdir(parents=True)
    records = [dict(loss=1.0, step=1), {'depth/rmse': 0.9, 'step': 2},
               dict(loss=0.5, step=3), {'depth/rmse': 0.7, 'step': 4}]
    log.write_text('\n'.join(json.dumps(r) for r in records) + '\n')
    assert study.final_metrics(str(tmp_path)) == {'depth/rmse': 0.7}
    with pytest.raises(FileNotFoundError, match='no validation metrics'):
        study.final_metrics(str(tmp_path / 'missing'))


def test_study_trains_missing_runs_only_and_writes_summaries(
        tmp_path, monkeypatch):
    study = load_study()
    work_dir = tmp_path / 'study'
    done = work_dir / 'stl-depth-lf10_resnet18_2k_synthetic-128x160' / \
        'seed0' / 'result.json'
    done.parent.mkdir(parents=True)
    done.write_text(json.dumps({'depth/rmse': 1.0}))
    launched = []

    def fake_train(cmd):
        cfg_file, run_dir = cmd[2], cmd[4]
        launched.append(osp.basename(cfg_file))
        assert Config.fromfile(cfg_file).train_cfg.max_iters == 8
        log = osp.join(run_dir, 'ts', 'vis_data', 'scalars.json')
        (tmp_path / log).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / log).write_text(json.dumps({'depth/rmse': 0.8}) + '\n')
        return SimpleNamespace(returncode=0)

    monkeypatch.setattr(subprocess, 'run', fake_train)
    args = SimpleNamespace(configs=[STL, COMPL], seeds=[0], iters=8,
                           metric='depth/rmse', work_dir=str(work_dir))
    summary = study.run_study(args)
    assert launched == [
        'compl-depth-densecl-lf10_resnet18_2k_synthetic-128x160.py'
    ]
    compl = summary[
        'compl-depth-densecl-lf10_resnet18_2k_synthetic-128x160']['metrics']
    assert compl['depth/rmse - reference']['mean'] == pytest.approx(-0.2)
    assert (work_dir / 'summary.md').read_text().count('\n') == 4
    saved = json.loads((work_dir / 'summary.json').read_text())
    assert saved.keys() == summary.keys()

    monkeypatch.setattr(subprocess, 'run',
                        lambda cmd: SimpleNamespace(returncode=3))
    args.seeds = [1]
    with pytest.raises(RuntimeError, match='exit status 3'):
        study.run_study(args)

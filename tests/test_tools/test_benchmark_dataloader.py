"""tools/analysis_tools/benchmark_dataloader.py: rates and workers needed."""
import importlib.util
import os.path as osp

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
spec = importlib.util.spec_from_file_location(
    '_test_benchmark_dataloader',
    osp.join(ROOT, 'tools', 'analysis_tools', 'benchmark_dataloader.py'))
bd = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bd)
DEMO = osp.join(ROOT, 'configs/hps/hps_resnet18_500it_synthetic-128x160.py')


def test_workers_needed_by_hand():
    # batch 8 every 0.04 s = 200 images/s; 30 images/s per worker -> 7
    assert bd.workers_needed(8, 0.04, 30.0) == 7
    assert bd.workers_needed(8, 0.1, 80.0) == 1  # exactly enough
    assert bd.workers_needed(8, 0.1, 79.9) == 2
    assert bd.workers_needed(8, 10.0, 1000.0) == 1  # at least one


def test_report_table():
    report = bd.format_report('cfg.py', 8, {0: 30.0, 1: 20.0, 2: 36.0},
                              [0.04, 0.25])
    lines = report.splitlines()
    assert lines[0] == 'cfg.py: training pipeline, batch size 8'
    assert lines[2].split() == ['in-proc', '30.0', '30.0']
    assert lines[4].split() == ['2', '36.0', '18.0']
    assert lines[6].split() == ['0.040', '200.0', '7']
    assert lines[7].split() == ['0.250', '32.0', '2']


def test_main_on_the_tiny_dataset(tiny_synthetic_root):
    report = bd.main([DEMO, '--num-images', '4', '--workers', '1',
                      '--gpu-iter-times', '0.1', '--cfg-options',
                      f'train_dataloader.dataset.data_root='
                      f'{tiny_synthetic_root}',
                      'train_dataloader.batch_size=2'])
    lines = report.splitlines()
    assert 'batch size 2' in lines[0]
    in_proc, one = float(lines[2].split()[1]), float(lines[3].split()[1])
    assert in_proc > 0 and one > 0
    with pytest.raises(SystemExit):
        bd.parse_args([DEMO, '--workers', '0'])

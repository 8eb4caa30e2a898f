"""tools/analysis_tools/benchmark_affinity.py: ratios, targets, TF32."""
import importlib.util
import os.path as osp

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
spec = importlib.util.spec_from_file_location(
    '_test_benchmark_affinity',
    osp.join(ROOT, 'tools', 'analysis_tools', 'benchmark_affinity.py'))
ba = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ba)

TINY = ['--grids', '3x4', '4x5', '--tasks', '2', '--batch', '1',
        '--channels', '4', '--repeats', '1', '--threads', '1']


def _row_fields(line):
    return line.split()


def test_cpu_table_with_ratios_and_targets():
    lines = ba.main(TINY + ['--device', 'cpu', '--inline',
                            '--chunk-size', '5'])
    assert 'targets on cpu: memory <= 0.25, time <= 1.5' in lines[0]
    assert "PyTorch's TF32 defaults" in lines[0]
    rows = lines[2:]
    assert [r.split()[0] for r in rows] == ['3x4', '4x5']
    grid, hw, chunk = rows[1].split()[:3]
    assert (hw, chunk) == ('20', '5')
    fields = rows[1].split()
    err_out, err_grad = (float(v) for v in fields[9].split('/'))
    assert err_out < 1e-5 and err_grad < 1e-5  # float32 paths agree
    assert fields[10] in ('yes/yes', 'yes/NO', 'NO/yes', 'NO/NO')


def test_row_ratios_and_targets_by_hand():
    import torch
    mb = 2**20
    same = dict(out={'a': torch.ones(2)}, grads={'g': torch.ones(3)})
    dense = dict(peak=200 * mb, time=2.0, **same)
    chunked = dict(peak=20 * mb, time=1.8,
                   out={'a': torch.tensor([1.0, 1.5])},
                   grads={'g': torch.ones(3)})
    row = ba.format_row('72x96', (72, 96), 512, dense, chunked, 'cuda')
    fields = row.split()
    assert fields[:9] == ['72x96', '6912', '512', '200.0', '20.0', '0.100',
                          '2.000', '1.800', '0.900']
    assert fields[9] == '5.0e-01/0.0e+00'  # |1.5 - 1| / max|1|
    assert fields[10] == 'yes/yes'  # GPU targets 0.15 / 1.0
    assert ba.format_row('g', (1, 1), 1, dense, chunked,
                         'cpu').split()[10] == 'yes/yes'
    slow = dict(chunked, time=3.2)  # 1.6x
    assert ba.format_row('g', (1, 1), 1, dense, slow,
                         'cpu').split()[10] == 'yes/NO'


def test_auto_chunk_rows_and_bad_arguments():
    args = ba.parse_args(['--grids', '72x96', '--batch', '2'])
    assert args.chunk_size == 'auto' and args.tf32 is None
    assert ba.chunk_rows(args, (72, 96)) == ba.auto_chunk_size(
        2, 3, 3, 64, 3, 72 * 96, 4)
    assert ba.parse_args(['--no-tf32']).tf32 is False
    with pytest.raises(SystemExit):
        ba.parse_args(['--chunk-size', '0'])
    with pytest.raises(SystemExit):
        ba.parse_args(['--tf32', '--no-tf32'])


@pytest.mark.cuda
def test_cuda_memory_accounting_and_exact_without_tf32():
    lines = ba.main(TINY + ['--device', 'cuda', '--no-tf32'])
    assert 'TF32 off' in lines[0] and 'targets on cuda' in lines[0]
    for row in lines[2:]:
        fields = row.split()
        assert float(fields[3]) > 0 and float(fields[4]) > 0  # peak MB
        err_out, err_grad = (float(v) for v in fields[9].split('/'))
        assert err_out < 1e-5 and err_grad < 1e-5

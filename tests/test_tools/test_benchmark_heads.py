# Copyright (c) mmmtl contributors. All rights reserved.
"""tools/analysis_tools/benchmark_heads.py on tiny configs."""
import importlib.util
import os.path as osp

import pytest
from mmengine.config import Config

from mmmtl.testing import tiny_model_cfg

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _load(name):
    spec = importlib.util.spec_from_file_location(
        f'_test_{name}', osp.join(ROOT, 'tools', 'analysis_tools',
                                  f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bh = _load('benchmark_heads')


def _write_cfg(tmp_path, name, tasks):
    model = tiny_model_cfg(tasks)
    path = tmp_path / f'{name}.py'
    Config(dict(model=model)).dump(str(path))
    return str(path)


def test_params_flops_time_memory(tmp_path):
    path = _write_cfg(tmp_path, 'tiny_mtl', ['semseg', 'depth'])
    result = bh.measure_config(path, (32, 40), batch=1, repeats=1)
    model = bh.build_model(bh.load_config(path))
    assert result['tasks'] == ['semseg', 'depth']
    p = result['params']
    assert p['total'] == sum(q.numel() for q in model.parameters())
    assert p['decode_head'] == sum(
        q.numel() for q in model.decode_head.parameters())
    assert p['backbone'] == sum(
        q.numel() for q in model.backbone.parameters())
    # FLOPs agree with the get_flops tool run on its own
    gf = _load('get_flops')
    assert result['flops'] == gf.get_flops(Config.fromfile(path),
                                           (32, 40))['total_flops']
    assert result['flops'] > 0
    assert result['time'] > 0 and result['peak'] >= 0


def test_flops_of_a_known_conv_head(tmp_path):
    """FLOPs grow by exactly the predictor's multiply-adds plus the
    bilinear resize of the extra channels to the input size (fvcore counts
    4 per output value) when more semseg classes are predicted."""
    path = _write_cfg(tmp_path, 'tiny_sem', ['semseg'])
    cfg = bh.load_config(path)
    base = bh.count_flops(bh.build_model(cfg), (32, 40))
    cfg.model.decode_head.num_classes = dict(semseg=7)
    more = bh.build_model(cfg)
    n_before = bh.build_model(bh.load_config(path)).decode_head \
        .out_channels['semseg']
    extra = bh.count_flops(more, (32, 40)) - base
    channels = more.decode_head.channels
    # predictor at stride 4 (8x10): `channels` multiply-adds per output
    # value; resize to 32x40: 4 per output value
    assert extra == (7 - n_before) * (channels * 8 * 10 + 4 * 32 * 40)


def test_relative_params_and_table():
    results = [dict(config='a/mtl.py', tasks=['semseg', 'depth'],
                    params=dict(total=3_000_000, decode_head=1_000_000,
                                backbone=2_000_000),
                    flops=2.5e9, time=0.5, peak=100 * 2**20)]
    stl = [dict(config='a/s1.py', tasks=['semseg'],
                params=dict(total=2_500_000, decode_head=500_000,
                            backbone=2_000_000)),
           dict(config='a/s2.py', tasks=['depth'],
                params=dict(total=3_500_000, decode_head=500_000,
                            backbone=3_000_000))]
    total = bh.relative_params(results, stl)
    assert total == 6_000_000
    table = bh.format_table(results, total, (32, 40), 1)
    row = [line for line in table.splitlines() if 'mtl.py' in line][0]
    assert '| 3.000 M | 0.500 | 1.000 M | 2.50 G | 0.50 s | 100 MB |' in row
    with pytest.raises(ValueError, match=r"tasks \['depth'\]"):
        bh.relative_params(results, stl[:1])
    with pytest.raises(ValueError, match='repeat'):
        bh.relative_params(results, stl + stl[:1])
    assert bh.relative_params(results, []) is None


def test_measure_isolated(tmp_path):
    path = _write_cfg(tmp_path, 'tiny_iso', ['depth'])
    result = bh.measure_isolated(path=path, shape=(32, 40), batch=1,
                                 repeats=1, flops=False)
    model = bh.build_model(bh.load_config(path))
    assert result['params']['total'] == sum(
        q.numel() for q in model.parameters())
    assert result['time'] > 0 and result['peak'] >= 0
    with pytest.raises(RuntimeError, match='measurement failed'):
        bh.measure_isolated(path=str(tmp_path / 'missing.py'),
                            shape=(32, 40), batch=1, repeats=1)


def test_main(tmp_path):
    mtl = _write_cfg(tmp_path, 'tiny_two', ['semseg', 'depth'])
    s1 = _write_cfg(tmp_path, 'tiny_s1', ['semseg', 'depth'])
    table = bh.main([mtl, '--stl', s1, '--shape', '32', '40', '--repeats',
                     '1', '--no-flops', '--no-isolate'])
    assert 'tiny_two.py' in table and 'tiny_s1.py' in table
    # same model as its "STL" config: relative parameters exactly 1
    row = [line for line in table.splitlines() if 'tiny_two' in line][0]
    assert '| 1.000 |' in row


@pytest.mark.cuda
def test_cuda_time_and_memory(tmp_path):
    """On a GPU the peak is CUDA memory accounting (allocator statistics)."""
    path = _write_cfg(tmp_path, 'tiny_cuda', ['semseg', 'depth'])
    result = bh.measure_config(path, (32, 40), batch=2, repeats=1,
                               device='cuda', flops=False)
    assert result['time'] > 0
    assert result['peak'] > 0  # activations of a training step on the GPU

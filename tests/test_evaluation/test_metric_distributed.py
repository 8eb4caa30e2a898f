"""MultiTaskMetric under a 2-process gloo run equals the 1-process result."""
import math
import os.path as osp

import torch
import torch.distributed as torch_dist
import torch.multiprocessing as mp

from mmmtl.evaluation.metrics.multitask_metric import MultiTaskMetric
from mmmtl.structures import MultiTaskDataSample

TASKS = ['semseg', 'depth', 'normals', 'edge', 'saliency', 'human_parts']
NUM_IMAGES = 7  # odd: the ranks get 4 and 3 images (round_up=False)


def make_sample(seed: int, h: int = 6, w: int = 7) -> MultiTaskDataSample:
    g = torch.Generator().manual_seed(seed)
    s = MultiTaskDataSample()
    for task in ('semseg', 'human_parts'):
        gt = torch.randint(0, 4, (1, h, w), generator=g)
        gt[torch.rand(1, h, w, generator=g) < 0.1] = 255
        s.set_gt(task, gt)
        s.set_pred(task, torch.randint(0, 4, (1, h, w), generator=g))
    depth = torch.rand(1, h, w, generator=g) * 4
    depth[depth < 0.4] = 0.0
    s.set_gt('depth', depth)
    s.set_pred('depth', torch.rand(1, h, w, generator=g) * 4 - 0.2)
    normals = torch.nn.functional.normalize(
        torch.randn(3, h, w, generator=g), dim=0)
    normals[:, :1] = 0.0
    s.set_gt('normals', normals)
    s.set_pred('normals', torch.randn(3, h, w, generator=g))
    for task in ('edge', 'saliency'):
        gt = torch.randint(0, 2, (1, h, w), generator=g)
        gt[:, -1] = 255
        s.set_gt(task, gt)
        s.set_pred(task, torch.rand(1, h, w, generator=g))
    return s


def make_metric() -> MultiTaskMetric:
    metric = MultiTaskMetric(
        tasks=TASKS, num_classes=dict(semseg=4),
        single_task_baselines=dict(semseg=30.0, depth=1.5, normals=60.0,
                                   edge=0.2, saliency=50.0, human_parts=25.0))
    metric.dataset_meta = dict(human_parts_classes=('a', 'b', 'c', 'd'))
    return metric


def run_rank(rank: int, world_size: int, init_file: str, out_dir: str):
    torch_dist.init_process_group(
        backend='gloo', init_method=f'file://{init_file}', rank=rank,
        world_size=world_size)
    try:
        metric = make_metric()
        # DefaultSampler(shuffle=False, round_up=False) interleaves images
        indices = list(range(rank, NUM_IMAGES, world_size))
        for start in range(0, len(indices), 2):  # batches of 2
            batch = [make_sample(i).to_dict()
                     for i in indices[start:start + 2]]
            metric.process({}, batch)
        result = metric.evaluate(NUM_IMAGES)
        torch.save(result, osp.join(out_dir, f'rank{rank}.pth'))
    finally:
        torch_dist.destroy_process_group()


def test_two_process_gloo_equals_single_process(tmp_path):
    single = make_metric()
    single.process({}, [make_sample(i) for i in range(NUM_IMAGES)])
    expected = single.evaluate(NUM_IMAGES)

    # torch.multiprocessing.spawn's machinery with the 'fork' start method:
    # the workers inherit the imported modules instead of re-importing
    # mmseg / mmmtl (seconds on a loaded 2-core machine).
    mp.start_processes(
        run_rank, args=(2, str(tmp_path / 'init'), str(tmp_path)),
        nprocs=2, join=True, start_method='fork')
    results = [torch.load(tmp_path / f'rank{r}.pth') for r in range(2)]
    # every rank returns the same dict (reduced sums are identical)
    assert results[0] == results[1]
    got = results[0]
    assert set(got) == set(expected)
    for key, value in expected.items():
        assert math.isfinite(value), key
        # counts are integers and float sums fixed point: bit for bit equal
        assert got[key] == value, (key, got[key], value)
